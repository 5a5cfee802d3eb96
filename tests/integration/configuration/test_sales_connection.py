"""The Sales connection's doors (docs/decisions.md#sales-over-http): the assisted set-up's *Sales connection* step, the
configuration file (export, import: the secret never), the configuration history (the secret never), the environment
winning over the set-up (and the page saying so), plain http:// refused off the loopback address naming the field, the
secret forgotten when what it was given for changes, and *Test connection* on the connection setup's page."""

import importlib
import json
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.db.models import CharField, Value
from django.urls import reverse

from integration.configuration import configuration_data, configuration_export, configuration_import
from integration.configuration.history import history_recorder
from integration.engine.sides.dataverse_http import SalesApiConfigError, configured
from integration.models import ConfigurationChange, ConnectionSetup, sales_connection_effective

pytestmark = pytest.mark.django_db

WIZARD = "admin:integration_setup_wizard"
SECRET = "the-very-secret-value"
NAMES = ("SALES_API_URL", "SALES_API_TOKEN_URL", "SALES_API_TENANT_ID", "SALES_API_CLIENT_ID",
         "SALES_API_CLIENT_SECRET")


@pytest.fixture(autouse=True)
def no_environment(monkeypatch, settings):
    """No SALES_API_* from the machine running the tests."""
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
        setattr(settings, name, "")


@pytest.fixture
def superuser_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def web_api(**changes):
    values = {"sales-sales_location": "web_api", "sales-sales_api_url": "https://sales.example.com",
              "sales-sales_api_sign_in": "token_url", "sales-sales_api_token_url": "https://sales.example.com/o/token/",
              "sales-sales_api_client_id": "p2c-integration", "sales-sales_api_client_secret": SECRET}
    return {k: v for k, v in {**values, **changes}.items() if v is not None}


def walk(client, sales):
    url = reverse(WIZARD)
    client.get(url + "?restart=1")
    for data in (sales, {"connection-is_enabled": "on"}, {}, {"defaults-every_minutes": "30"}, {}):
        response = client.post(url, data)
        assert response.status_code == 302, response.content.decode()[:3000]
    return response


def stored_in_web_api(secret=SECRET):
    setup = ConnectionSetup.get_solo()
    setup.sales_location, setup.sales_api_url, setup.sales_api_sign_in = ("web_api", "https://sales.example.com",
                                                                          "token_url")
    setup.sales_api_token_url, setup.sales_api_client_id = "https://sales.example.com/o/token/", "p2c-integration"
    setup.secret_set(secret)
    setup.save()
    return setup


# -- the assisted set-up ----------------------------------------------------------------------------------------------
def test_the_wizard_keeps_the_web_api_and_the_transport_reads_it(superuser_client):
    walk(superuser_client, web_api())
    setup = ConnectionSetup.get_solo()
    assert (setup.sales_location, setup.sales_api_url, setup.sales_api_client_secret) == (
        "web_api", "https://sales.example.com", SECRET)
    config = configured()
    assert (config.url, config.token_url, config.client_id, config.secret, config.tenant_id) == (
        "https://sales.example.com", "https://sales.example.com/o/token/", "p2c-integration", SECRET, "")
    # Without a Sales user of this database: the application user is the integration user.
    assert setup.is_enabled and setup.integration_user is None


def stored_column():
    """The client secret as the database holds it (not as the model reads it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT sales_api_client_secret FROM integration_connectionsetup")
        return cursor.fetchone()[0]


@pytest.fixture
def var_dir(settings, tmp_path, monkeypatch):
    """This instance's var/ (where the key made once is kept), and no P2C_SECRETS_KEY from the machine."""
    monkeypatch.delenv("P2C_SECRETS_KEY", raising=False)
    settings.VAR_DIR, settings.P2C_SECRETS_KEY = tmp_path, ""
    return tmp_path


def test_the_secret_is_kept_encrypted_with_a_key_made_once_under_var_and_read_in_clear(superuser_client, var_dir):
    walk(superuser_client, web_api())
    column = stored_column()
    assert SECRET not in column and column.startswith("fernet:")
    key = var_dir / "secrets.key"
    assert key.stat().st_mode & 0o777 == 0o600
    made = key.read_bytes()
    assert configured().secret == ConnectionSetup.get_solo().sales_api_client_secret == SECRET
    assert key.read_bytes() == made  # made once, used by every process since


def test_the_secrets_key_setting_chooses_the_key_and_another_key_reads_no_secret(var_dir, settings, caplog):
    settings.P2C_SECRETS_KEY = "a key of this deployment"
    stored_in_web_api()
    assert not (var_dir / "secrets.key").exists()
    assert ConnectionSetup.get_solo().sales_api_client_secret == SECRET
    settings.P2C_SECRETS_KEY = "another key"
    setup = ConnectionSetup.get_solo()  # still loads: the secret must be given again
    assert setup.sales_api_client_secret == "" and "another key than this instance's" in caplog.text
    with pytest.raises(SalesApiConfigError, match="SALES_API_CLIENT_SECRET"):
        configured()


def test_a_secret_kept_in_clear_before_still_works_and_the_migration_seals_it(var_dir, monkeypatch):
    stored_in_web_api()
    ConnectionSetup.objects.update(sales_api_client_secret=Value(SECRET, output_field=CharField()))
    assert stored_column() == SECRET  # as a row from before encryption
    assert configured().secret == SECRET
    migration = importlib.import_module("integration.migrations.0037_sealed_client_secret")
    migration.seal(django_apps, SimpleNamespace(connection=connection))
    assert stored_column().startswith("fernet:") and configured().secret == SECRET
    # The environment still wins over the stored secret
    monkeypatch.setenv("SALES_API_CLIENT_SECRET", "from-the-environment")
    assert configured().secret == "from-the-environment"


def test_the_secret_is_never_shown_back_and_a_blank_one_keeps_it(superuser_client):
    stored_in_web_api()
    page = superuser_client.get(reverse(WIZARD) + "?restart=1").content.decode()
    assert SECRET not in page and 'type="password"' in page
    walk(superuser_client, web_api(**{"sales-sales_api_client_secret": None}))
    assert ConnectionSetup.get_solo().sales_api_client_secret == SECRET


def test_the_secret_waits_in_the_session_encrypted_and_back_keeps_it(superuser_client):
    url = reverse(WIZARD)
    superuser_client.post(url, web_api())
    assert "web_api" in json.dumps(dict(superuser_client.session))
    assert SECRET not in json.dumps(dict(superuser_client.session))
    superuser_client.post(url, {"back": "Back"})
    assert SECRET not in superuser_client.get(url).content.decode()
    # Next again without typing it: the secret entered before, for the same answers, is kept.
    for data in (web_api(**{"sales-sales_api_client_secret": None}), {"connection-is_enabled": "on"}, {},
                 {"defaults-every_minutes": "30"}, {}):
        assert superuser_client.post(url, data).status_code == 302
    assert ConnectionSetup.get_solo().sales_api_client_secret == SECRET


def test_the_secret_waits_in_the_session_sealed_with_the_instances_key_not_the_django_secret_key(
        superuser_client, var_dir, settings):
    """Sealed as the stored secret is (p2c.sealing: var/secrets.key here), so a step served by a process with another
    DJANGO_SECRET_KEY (random per process on a development machine) still has it; a token sealed otherwise (an
    earlier version's) is no secret: it must be typed again."""
    from p2c.sealing import unsealed

    url = reverse(WIZARD)
    superuser_client.post(url, web_api())
    token = superuser_client.session["p2c_setup_wizard"]["data"]["sales"]["sales_api_client_secret"]
    assert token.startswith("fernet:") and SECRET not in token and unsealed(token) == SECRET
    assert (var_dir / "secrets.key").exists()
    settings.SECRET_KEY_FALLBACKS, settings.SECRET_KEY = [settings.SECRET_KEY], "another process's key"
    for data in ({"connection-is_enabled": "on"}, {}, {"defaults-every_minutes": "30"}, {}):
        assert superuser_client.post(url, data).status_code == 302
    assert ConnectionSetup.get_solo().sales_api_client_secret == SECRET

    superuser_client.post(url + "?restart=1")
    superuser_client.get(url + "?restart=1")
    superuser_client.post(url, web_api(**{"sales-sales_api_url": "https://other.example.com"}))
    session = superuser_client.session
    session["p2c_setup_wizard"]["data"]["sales"]["sales_api_client_secret"] = "gAAAAAB-an-earlier-version-token"
    session.save()
    superuser_client.post(url, {"back": "Back"})
    page = superuser_client.post(url, web_api(**{"sales-sales_api_url": "https://other.example.com",
                                                 "sales-sales_api_client_secret": None}))
    assert page.status_code == 200 and "errorlist" in page.content.decode()  # the step again: the secret asked for


def test_a_changed_address_needs_the_secret_again(superuser_client):
    stored_in_web_api()
    response = superuser_client.post(reverse(WIZARD), web_api(**{"sales-sales_api_url": "https://elsewhere.example.com",
                                                                 "sales-sales_api_client_secret": None}))
    assert response.status_code == 200
    assert "Enter the client secret" in response.context["form"].errors["sales_api_client_secret"][0]


@pytest.mark.parametrize(("field", "value"), [("sales_api_url", "http://sales.example.com"),
                                              ("sales_api_token_url", "http://10.0.0.5/o/token/")])
def test_plain_http_off_the_loopback_address_is_a_form_error_on_its_field(superuser_client, field, value):
    response = superuser_client.post(reverse(WIZARD), web_api(**{f"sales-{field}": value}))
    assert response.status_code == 200
    assert "is not an https:// address" in response.context["form"].errors[field][0]
    assert ConnectionSetup.get_solo().sales_location == "database"


def test_plain_http_on_the_loopback_address_is_accepted(superuser_client):
    walk(superuser_client, web_api(**{"sales-sales_api_url": "http://127.0.0.1:8001",
                                      "sales-sales_api_token_url": "http://127.0.0.1:8001/o/token/"}))
    assert configured().url == "http://127.0.0.1:8001"


def test_a_missing_field_is_named(superuser_client):
    response = superuser_client.post(reverse(WIZARD), web_api(**{"sales-sales_api_client_id": None,
                                                                 "sales-sales_api_token_url": None}))
    errors = response.context["form"].errors
    assert set(errors) == {"sales_api_client_id", "sales_api_token_url"}


def test_the_environment_wins_and_the_page_says_so(superuser_client, monkeypatch):
    stored_in_web_api()
    monkeypatch.setenv("SALES_API_URL", "https://env.example.com")
    monkeypatch.setenv("SALES_API_TENANT_ID", "tenant-from-env")
    page = superuser_client.get(reverse(WIZARD) + "?restart=1")
    text = page.content.decode()
    assert "Set in the environment, which wins over this set-up: SALES_API_URL, SALES_API_TENANT_ID." in text
    assert "SALES_API_URL is set in the environment: it wins over what is entered here." in text
    assert 'placeholder="https://env.example.com"' in text and SECRET not in text
    form = page.context["form"]
    # Shown as they are, whatever was stored: the Web API, signed in at Microsoft Entra ID (the tenant given).
    assert (form["sales_location"].value(), form["sales_api_sign_in"].value()) == ("web_api", "entra")
    refused = superuser_client.post(reverse(WIZARD), {"sales-sales_location": "database",
                                                      "sales-sales_api_sign_in": "entra"})
    assert "SALES_API_URL is set in the environment" in refused.context["form"].errors["sales_location"][0]
    connection = sales_connection_effective()
    # The environment's address and sign-in (its tenant: the set-up's token endpoint is not used), the set-up's rest.
    assert connection == {"SALES_API_URL": "https://env.example.com", "SALES_API_TOKEN_URL": "",
                          "SALES_API_TENANT_ID": "tenant-from-env", "SALES_API_CLIENT_ID": "p2c-integration",
                          "SALES_API_CLIENT_SECRET": SECRET}


def test_this_database_in_the_set_up_is_no_web_api_unless_the_environment_says_one(monkeypatch):
    assert sales_connection_effective() is None and configured() is None
    monkeypatch.setenv("SALES_API_URL", "https://env.example.com")
    assert sales_connection_effective()["SALES_API_URL"] == "https://env.example.com"


def test_test_connection_in_the_wizard_tells_what_failed_in_red(superuser_client, monkeypatch):
    monkeypatch.setenv("SALES_API_DEADLINE_SECONDS", "1")
    url = reverse(WIZARD)
    data = web_api(**{"sales-sales_api_url": "https://127.0.0.1:9", "sales-sales_api_token_url":
                      "https://127.0.0.1:9/o/token/", "test": "Test connection"})
    response = superuser_client.post(url, data, follow=True)
    assert response.status_code == 200 and response.context["step"] == "sales"  # the step stays, nothing kept
    [message] = list(response.context["messages"])
    assert message.level_tag == "error" and "127.0.0.1:9" in message.message and SECRET not in message.message
    assert ConnectionSetup.get_solo().sales_location == "database"


# -- the configuration file and its history ---------------------------------------------------------------------------
def test_the_file_carries_the_connection_but_never_the_secret():
    stored_in_web_api()
    text = configuration_export()
    connection = json.loads(text)["connection"]
    assert connection["sales_location"] == "web_api" and connection["sales_api_client_id"] == "p2c-integration"
    assert SECRET not in text and not any("secret" in key for key in connection)
    assert SECRET not in configuration_export(fmt="yaml")


def test_an_import_sets_the_connection_and_keeps_the_secret_while_its_address_stays():
    stored_in_web_api()
    data = configuration_data()
    data["connection"]["sales_api_client_id"] = "p2c-integration"
    data["connection"]["sales_api_sign_in"] = "token_url"
    configuration_import(data=data)
    assert ConnectionSetup.get_solo().sales_api_client_secret == SECRET
    data["connection"]["sales_api_url"] = "https://elsewhere.example.com"
    configuration_import(data=data, on_applied=history_recorder(door=ConfigurationChange.Door.COMMAND))
    setup = ConnectionSetup.get_solo()
    assert setup.sales_api_url == "https://elsewhere.example.com" and setup.sales_api_client_secret == ""
    change = ConfigurationChange.objects.get(key="sales_api_url")
    assert change.new == "https://elsewhere.example.com"
    assert not ConfigurationChange.objects.filter(key__icontains="secret").exists()


def test_an_import_refuses_plain_http_off_the_loopback_address_naming_the_key():
    from integration.configuration import ConfigurationInvalid

    data = configuration_data()
    data["connection"].update(sales_location="web_api", sales_api_url="http://sales.example.com")
    with pytest.raises(ConfigurationInvalid) as refused:
        configuration_import(data=data)
    assert [where for where, _message in refused.value.errors] == ["connection.sales_api_url"]


def test_a_secret_in_the_file_is_an_unknown_key():
    from integration.configuration import ConfigurationInvalid

    data = configuration_data()
    data["connection"]["sales_api_client_secret"] = "x"
    with pytest.raises(ConfigurationInvalid) as refused:
        configuration_import(data=data)
    assert refused.value.errors[0][0] == "connection.sales_api_client_secret"


def test_the_wizard_writes_the_history_without_the_secret(superuser_client):
    walk(superuser_client, web_api())
    rows = ConfigurationChange.objects.filter(door=ConfigurationChange.Door.WIZARD)
    assert rows.filter(key="sales_api_url", new="https://sales.example.com").exists()
    assert all(SECRET not in json.dumps([row.old, row.new, row.path, row.key]) for row in rows)


def test_the_export_command_never_writes_the_secret(tmp_path):
    stored_in_web_api()
    path = tmp_path / "configuration.yaml"
    call_command("integration_export", "--format", "yaml", "-o", str(path))
    text = path.read_text()
    assert "sales_api_url: https://sales.example.com" in text and SECRET not in text


# -- the connection setup's page --------------------------------------------------------------------------------------
def test_the_connection_setup_page_shows_the_connection_and_tests_it(superuser_client, monkeypatch):
    monkeypatch.setenv("SALES_API_DEADLINE_SECONDS", "1")
    stored_in_web_api()
    setup = ConnectionSetup.get_solo()
    change = reverse("admin:integration_connectionsetup_change", args=[setup.pk])
    page = superuser_client.get(change).content.decode()
    assert "https://sales.example.com" in page and SECRET not in page and "p2c-sales-test" in page
    response = superuser_client.post(reverse("admin:integration_sales_connection_test"), follow=True)
    [message] = list(response.context["messages"])
    assert message.level_tag == "error" and "sales.example.com" in message.message


# -- an instance whose Sales is remote: the Sales admin says where it lives, the coupling column links there ----------
REMOTE_ID = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"


@pytest.mark.parametrize(("address", "expected"), [
    ("https://sales.example.com", f"https://sales.example.com/admin/crm/account/{REMOTE_ID}/change/"),
    ("https://contoso.crm4.dynamics.com/api/data/v9.2/",
     f"https://contoso.crm4.dynamics.com/main.aspx?etn=account&amp;pagetype=entityrecord&amp;id={REMOTE_ID}"),
])
def test_the_coupling_column_links_to_the_remote_record(superuser_client, mappings, monkeypatch, address, expected):
    from erp.models import Customer
    from integration.models import Coupling

    customer = Customer.objects.create(name="Remote Motors")
    Coupling.objects.create(erp_model="erp.Customer", crm_model="crm.Account", erp_id=customer.pk, crm_id=REMOTE_ID)
    local = f"/admin/crm/account/{REMOTE_ID}/change/"
    assert local in superuser_client.get(reverse("admin:erp_customer_changelist")).content.decode()
    monkeypatch.setenv("SALES_API_URL", address)
    page = superuser_client.get(reverse("admin:erp_customer_changelist")).content.decode()
    assert expected in page and f'href="{local}"' not in page


def test_the_sales_admin_says_where_sales_lives(superuser_client, monkeypatch):
    pages = (reverse("admin:crm_account_changelist"), reverse("admin:app_list", args=["crm"]))
    for url in pages:
        assert 'id="p2c-sales-remote"' not in superuser_client.get(url).content.decode()
    stored_in_web_api()
    for url in pages:
        page = superuser_client.get(url).content.decode()
        assert "Sales lives at https://sales.example.com, reached over the Dataverse Web API." in page
        assert 'href="https://sales.example.com/admin/crm/"' in page
    # Not on the ERP's pages.
    assert 'id="p2c-sales-remote"' not in superuser_client.get(reverse("admin:erp_customer_changelist")).content.decode()


def test_the_command_enables_a_remote_sales_without_a_sales_user_of_this_database(monkeypatch):
    from io import StringIO

    from django.core.management import CommandError

    with pytest.raises(CommandError, match="needs an integration user"):
        call_command("integration_connection", "enable")  # Sales in this database: a Sales user is needed
    stored_in_web_api()
    out = StringIO()
    call_command("integration_connection", "enable", stdout=out)
    assert "writing to Sales as the application user it signs in as" in out.getvalue()
    assert ConnectionSetup.get_solo().is_enabled
