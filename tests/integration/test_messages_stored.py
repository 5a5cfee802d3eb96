"""Messages stored as what they mean (issue 62): a job written by a worker in English reads in French on a French
page, in Swedish on a Swedish one, and in English in the API without Accept-Language; rows written before read
their stored text; French is shown with its typography."""

import pytest
from django.urls import reverse
from django.utils import translation

from erp.models import Customer
from integration.engine.sync import mapping_synchronize
from integration.models import SyncJob
from p2c.said import counted, french_typography, said, said_data, said_text
from tests.admin_helpers import admin_client, admin_user  # noqa: F401
from tests.api.conftest import api, superuser  # noqa: F401

pytestmark = pytest.mark.django_db

SKIPPED = {
    "en": "Dry run, nothing written: 2 skipped. Skipped: 2 not coupled (the mapping synchronises coupled records only)",
    "fr": "Simulation, rien n'a été écrit\u00a0: 2 ignorés. Ignorés\u00a0: 2 non couplé (le mappage ne synchronise "
          "que les enregistrements couplés)",
    "sv": "Testkörning, inget skrevs: 2 överhoppade. Överhoppade: 2 inte kopplad (mappningen synkroniserar bara "
          "kopplade poster)",
}


@pytest.fixture
def english_job(mappings, salesperson_pair):
    """A dry run written in English (P2C_LANGUAGE=en): two customers skipped, not coupled."""
    salesperson, _ = salesperson_pair
    for i in range(2):
        Customer.objects.create(name=f"Adatum {i}", salesperson=salesperson)
    with translation.override("en"):
        [job] = mapping_synchronize(mapping=mappings["CUSTOMER"], direction="to_integration", dry_run=True)
    assert job.message == SKIPPED["en"] and job.message_data
    return job


def test_a_job_written_in_english_reads_in_the_language_of_each_page(admin_client, english_job):  # noqa: F811
    url = reverse("admin:integration_syncjob_change", args=[english_job.pk])
    french = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    swedish = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert SKIPPED["fr"] in french.replace("&#x27;", "'")
    assert "Skipped" not in french
    assert SKIPPED["sv"] in swedish
    listed = admin_client.get(reverse("admin:integration_syncjob_changelist"), HTTP_ACCEPT_LANGUAGE="fr")
    assert "2 ignorés" in listed.content.decode()


def test_the_api_tells_a_job_in_english_without_accept_language_and_in_french_when_asked(api, english_job):  # noqa: F811
    url = f"/api/integration/jobs/{english_job.pk}/"
    assert api.get(url).json()["message"] == SKIPPED["en"]
    assert api.get(url, HTTP_ACCEPT_LANGUAGE="fr").json()["message"] == SKIPPED["fr"]


def test_a_job_written_before_reads_its_stored_text():
    job = SyncJob(mapping_name="CUSTOMER", message="3 inserted", message_data=None)
    with translation.override("fr"):
        assert job.message_text == "3 inserted"


def test_a_stored_count_chooses_its_plural_when_read():
    one, five = (said_data(counted("%(count)s inserted", "%(count)s inserted", count=n)) for n in (1, 5))
    with translation.override("fr"):
        assert (said_text(one), said_text(five)) == ("1 inséré", "5 insérés")
    with translation.override("en"):
        assert said_text(said_data(said("nothing to synchronise"))) == "nothing to synchronise"


def test_french_typography_puts_a_no_break_space_before_high_punctuation_only_in_french():
    with translation.override("fr"):
        assert french_typography("Échec: la base; vraiment? oui!") == "Échec\u00a0: la base\u00a0; vraiment\u00a0? oui\u00a0!"
        assert french_typography("à 12:30, voir https://example.com") == "à 12:30, voir https://example.com"
    with translation.override("en"):
        assert french_typography("Failed: x") == "Failed: x"


def test_messages_check_names_a_french_entry_without_its_no_break_space(tmp_path):
    import polib

    from p2c.catalogues import catalogue_problems

    path = tmp_path / "fr" / "LC_MESSAGES" / "django.po"
    path.parent.mkdir(parents=True)
    catalogue = polib.POFile()
    catalogue.append(polib.POEntry(msgid="Failed: %(error)s", msgstr="Échec : %(error)s"))
    catalogue.append(polib.POEntry(msgid="At %(time)s", msgstr="À %(time)s, 12:30\u00a0!"))
    catalogue.save(str(path))
    assert catalogue_problems(path) == ["French typography (a no-break space before : ; ! ?): 'Failed: %(error)s'"]


def test_an_option_mapping_job_names_the_unmatched_code_in_the_readers_language(mappings):
    from erp.models import PaymentTerms

    PaymentTerms.objects.create(code="ZZ99", description="Nothing like an option")
    with translation.override("en"):
        [job] = mapping_synchronize(mapping=mappings["PAYMENT TERMS"], direction="to_integration")
    assert "ZZ99 matches no" in job.message
    with translation.override("fr"):
        french = SyncJob.objects.get(pk=job.pk).message_text
    assert "ZZ99" in french and "matches" not in french and "Sales" in french, french
