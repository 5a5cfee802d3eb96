"""The back-office in French, Swedish and Dutch (docs/decisions.md#messages-stored-as-what-they-mean): each page,
requested in a language (Accept-Language, as a browser sends it), shows none of the English strings it shows in English,
data aside; counts read right for one and for five; the API answers its refusals in the language asked for."""

import json
import os
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.contrib.admin import helpers
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from crm.models import Account
from erp.models import Customer, SalespersonPurchaser
from integration.engine.sync import mapping_synchronize
from integration.models import ConnectionSetup, Coupling, SyncConflict, SyncJobError
from tests.admin_helpers import admin_url
from tests.integration.helpers import english_strings

pytestmark = pytest.mark.django_db

LANGUAGES = ("fr", "sv", "nl")
LANGUAGE_NAMES = {name for _code, name in settings.LANGUAGES}  # the switch names each language in its own words


class _Texts(HTMLParser):
    """The strings a person reads on a page: text nodes and the value, title and placeholder of elements, outside
    scripts and styles, whitespace collapsed (a hidden input's value is data sent back, not read)."""

    def __init__(self):
        super().__init__()
        self.texts, self._skip = set(), 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        hidden = tag == "input" and ("type", "hidden") in attrs
        for name, value in attrs:
            if name in ("value", "title", "placeholder") and value and not (hidden and name == "value"):
                self._add(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self._add(data)

    def _add(self, text):
        text = " ".join(text.split())
        if text:
            self.texts.add(text)


def texts_of(response):
    parser = _Texts()
    parser.feed(response.content.decode())
    return parser.texts


def request(client, lang, url, data=None):
    if data is None:
        return client.get(url, HTTP_ACCEPT_LANGUAGE=lang)
    return client.post(url, data, HTTP_ACCEPT_LANGUAGE=lang)


def english_left(client, lang, url, data=None):
    """(the English strings the page shows in English, those of them it still shows in ``lang``)."""
    english, translated = request(client, "en", url, data), request(client, lang, url, data)
    assert english.status_code == translated.status_code == 200
    assert translated["Content-Language"] == lang
    shown = {text for text in texts_of(english) if text in english_strings(lang)} - LANGUAGE_NAMES
    return shown, shown & texts_of(translated)


@pytest.fixture
def coupled(mappings, salesperson_pair):
    """Six ERP customers coupled to six Sales accounts, one pair in the conflict inbox."""
    salesperson, _ = salesperson_pair
    customer_mapping = mappings["CUSTOMER"]
    customer_mapping.sync_only_coupled = False
    customer_mapping.save()
    for i in range(6):
        Customer.objects.create(name=f"Adatum {i}", salesperson=salesperson, phone_no=f"+46 8 00{i}")
    mapping_synchronize(mapping=customer_mapping)
    customer = Customer.objects.get(name="Adatum 0")
    account = Account.objects.get(pk=Coupling.objects.get(erp_model="erp.Customer", erp_id=customer.pk).crm_id)
    customer.phone_no, account.telephone1 = "+46 8 111", "+46 8 222"
    customer.save()
    account.save()
    customer_mapping.refresh_from_db()
    mapping_synchronize(mapping=customer_mapping)
    assert SyncConflict.objects.count() == 1 and Coupling.objects.count() >= 5
    return Customer.objects.order_by("name"), Account.objects.order_by("name")


def selection(action, records):
    return {"action": action, helpers.ACTION_CHECKBOX_NAME: [str(r.pk) for r in records]}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_admin_pages_show_no_english_string_in_another_language(admin_client, coupled, lang):
    _customers, accounts = coupled
    conflict = SyncConflict.objects.get()
    pages = {
        "admin index": (reverse("admin:index"), None),
        "Sales list with its coupling column": (admin_url(Account, "changelist"), None),
        "ERP list with its coupling column": (admin_url(Customer, "changelist"), None),
        "Synchronise now confirm page": (admin_url(Account, "changelist"), selection("synchronize_now", accounts)),
        "conflict inbox": (reverse("admin:integration_syncconflict_changelist"), None),
        "conflict side by side": (reverse("admin:integration_syncconflict_change", args=[conflict.pk]), None),
        "wizard": (reverse("admin:integration_setup_wizard"), None),
        "full synchronisation review": (reverse("admin:integration_full_sync_review"), None),
    }
    for page, (url, data) in pages.items():
        shown, left = english_left(admin_client, lang, url, data)
        assert len(shown) >= 5, (page, shown)
        assert left == set(), page


@pytest.mark.parametrize(("lang", "one", "five"), [
    ("en", "Delete coupling: 1 done.", "Delete coupling: 5 done."),
    ("fr", "Supprimer le couplage\u00a0: 1 traité.", "Supprimer le couplage\u00a0: 5 traités."),
    ("sv", "Ta bort koppling: 1 klar.", "Ta bort koppling: 5 klara."),
    ("nl", "Koppeling verwijderen: 1 voltooid.", "Koppeling verwijderen: 5 voltooid."),
])
def test_an_outcome_message_counts_one_and_five_in_each_language(admin_client, coupled, lang, one, five):
    customers, _accounts = coupled
    url = admin_url(Customer, "changelist")
    for records, expected in ((customers[:1], one), (customers[1:], five)):
        response = request(admin_client, lang, url, {**selection("coupling_remove", records), "p2c-submit": "1"})
        # the last message: the storage still holds the one before (the redirect was not followed)
        assert [str(m) for m in get_messages(response.wsgi_request)][-1] == expected


def test_the_api_answers_401_and_a_refusal_in_french(api, coupled):
    anonymous = APIClient().get("/api/crm/accounts/", HTTP_ACCEPT_LANGUAGE="fr")
    assert anonymous.status_code == 401  # no credentials: 401 with WWW-Authenticate: Token (docs/decisions.md#the-two-apis)
    assert anonymous.json()["detail"] == "Informations d'authentification non fournies."
    assert anonymous["Content-Language"] == "fr"

    setup = ConnectionSetup.get_solo()
    setup.is_enabled = False
    setup.save()
    customer = coupled[0].first()
    url = f"/api/erp/customers/{customer.no}/synchronize/"
    english = api.post(url, {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    french = api.post(url, {}, format="json", HTTP_ACCEPT_LANGUAGE="fr")
    assert english.status_code == french.status_code == 409
    assert english.json()["code"] == french.json()["code"]  # the code is data: the same in every language
    with translation.override("fr"):
        assert french.json()["detail"] == translation.gettext(english.json()["detail"]) != english.json()["detail"]
    assert french.json()["detail"].startswith("La connexion n'est pas activée")


@pytest.mark.parametrize(("lang", "text"), [
    ("en", "Every enabled mapping, in dependency order."),
    ("fr", "Chaque mappage activé, dans l'ordre des dépendances."),
    ("sv", "Varje aktiverad mappning, i beroendeordning."),
])
def test_a_command_speaks_the_language_of_p2c_language(lang, text):
    """Commands follow LANGUAGE_CODE, which P2C_LANGUAGE sets: here `sync --help`, in a process of its own."""
    env = {**os.environ, "P2C_LANGUAGE": lang}
    result = subprocess.run([sys.executable, "manage.py", "sync", "--help"], cwd=settings.BASE_DIR, env=env,
                            capture_output=True, text=True, check=True)
    assert text in " ".join(result.stdout.split())


def test_a_synchronisation_job_writes_its_messages_in_the_language_of_the_process(mappings, salesperson_pair):
    """The engine's job messages and row errors are stored as written, in the language active when it runs (a
    worker's LANGUAGE_CODE): here French, for a dry run that skips uncoupled records and a run that fails a row."""
    salesperson, _ = salesperson_pair
    customer_mapping = mappings["CUSTOMER"]  # synchronises coupled records only
    for i in range(2):
        Customer.objects.create(name=f"Adatum {i}", salesperson=salesperson)

    [english] = mapping_synchronize(mapping=customer_mapping, direction="to_integration", dry_run=True)
    with translation.override("fr"):
        [french] = mapping_synchronize(mapping=customer_mapping, direction="to_integration", dry_run=True)

    assert english.message == ("Dry run, nothing written: 2 skipped. Skipped: 2 not coupled (the mapping synchronises "
                               "coupled records only)")
    assert french.message == ("Simulation, rien n'a été écrit\u00a0: 2 ignorés. Ignorés\u00a0: 2 non couplé (le mappage ne "
                              "synchronise que les enregistrements couplés)")

    customer_mapping.sync_only_coupled = False
    customer_mapping.save()
    stranger = SalespersonPurchaser.objects.create(code="SP02", name="Not coupled")
    Customer.objects.create(name="Adatum 2", salesperson=stranger)
    with translation.override("fr"):
        [job] = mapping_synchronize(mapping=customer_mapping, direction="to_integration")

    assert job.message == "2 insérés, 1 en échec"
    error = SyncJobError.objects.get(job=job).message
    assert "SP02 n'est pas couplé à un enregistrement Sales" in error
    assert "is not coupled" not in error and "inserted" not in job.message


COMMAND_HELPS = """
import json, django
django.setup()
from django.core.management import get_commands, load_command_class
helps = {}
for name, app in sorted(get_commands().items()):
    if app in ("crm", "erp", "integration", "p2c"):
        command = load_command_class(app, name)
        command.create_parser("manage.py", name).format_help()  # what `manage.py NAME --help` prints
        helps[name] = command.help
print(json.dumps(helps))
"""


def test_every_command_of_ours_prints_its_help_in_the_language_of_p2c_language():
    """Each command's description, in a process of its own per language (commands read P2C_LANGUAGE at start)."""
    helps = {}
    for lang in ("en", "fr"):
        env = {**os.environ, "P2C_LANGUAGE": lang, "DJANGO_SETTINGS_MODULE": "p2c.settings"}
        result = subprocess.run([sys.executable, "-c", COMMAND_HELPS], cwd=settings.BASE_DIR, env=env,
                                capture_output=True, text=True, check=True)
        helps[lang] = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(helps["en"]) >= 20 and helps["en"].keys() == helps["fr"].keys()
    untranslated = [name for name in helps["en"] if not helps["en"][name] or helps["fr"][name] == helps["en"][name]]
    assert not untranslated, f"commands whose help is not in French: {untranslated}"
