"""Messages stored as what they mean (docs/decisions.md#messages-stored-as-what-they-mean): a job written by a worker in
English reads in French on a French page, in Swedish on a Swedish one, and in English in the API without
Accept-Language; rows written before read their stored text; French is shown with its typography."""

import pytest
from django.urls import reverse
from django.utils import translation

from erp.models import Customer
from integration.engine.sync import mapping_synchronize
from integration.models import SyncJob
from p2c.said import counted, french_typography, said, said_data, said_text

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


def test_a_job_written_in_english_reads_in_the_language_of_each_page(admin_client, english_job):
    url = reverse("admin:integration_syncjob_change", args=[english_job.pk])
    french = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    swedish = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert SKIPPED["fr"] in french.replace("&#x27;", "'")
    assert "Skipped" not in french
    assert SKIPPED["sv"] in swedish
    listed = admin_client.get(reverse("admin:integration_syncjob_changelist"), HTTP_ACCEPT_LANGUAGE="fr")
    assert "2 ignorés" in listed.content.decode()


def test_the_api_tells_a_job_in_english_without_accept_language_and_in_french_when_asked(api, english_job):
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


# -- row errors, failed inserts and the coupling column (docs/decisions.md#messages-stored-as-what-they-mean) ----------
@pytest.fixture
def english_row_error(customer_mapping, salesperson_pair):
    """A customer refused by Sales' email check, in a run written in English (P2C_LANGUAGE=en)."""
    salesperson, _ = salesperson_pair
    mapping = customer_mapping
    mapping.field_mappings.filter(crm_field="emailaddress1").update(validate_field=True)
    customer = Customer.objects.create(name="Careless Typing AB", email="not an address", salesperson=salesperson)
    with translation.override("en"):
        [job] = mapping_synchronize(mapping=mapping, direction="to_integration")
    error = job.errors.get()
    assert "Email: Enter a valid email address." in error.message and error.message_data
    return customer, error


def test_a_row_error_written_in_english_reads_in_the_language_of_each_page(admin_client, english_row_error):
    _, error = english_row_error
    url = reverse("admin:integration_syncjoberror_change", args=[error.pk])
    french = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    dutch = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "Saisissez une adresse e-mail valide." in french and "Enter a valid" not in french
    assert "Client C00010 (Careless Typing AB)\u00a0: Courriel\u00a0: " in french
    assert "Voer een geldig e-mailadres in." in dutch
    listed = admin_client.get(reverse("admin:integration_syncjoberror_changelist"), HTTP_ACCEPT_LANGUAGE="sv")
    assert "Enter a valid" not in listed.content.decode()
    # The customers list's coupling column tells its failed insertion in the reader's language too.
    customers = admin_client.get(reverse("admin:erp_customer_changelist"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Saisissez une adresse e-mail valide." in customers and "Enter a valid" not in customers


def test_the_api_tells_a_row_error_in_the_requests_language(api, english_row_error):
    _, error = english_row_error
    url = f"/api/integration/job-errors/{error.pk}/"
    assert "Enter a valid email address." in api.get(url).json()["message"]
    assert "Saisissez une adresse e-mail valide." in api.get(url, HTTP_ACCEPT_LANGUAGE="fr").json()["message"]


def test_a_row_failing_the_same_way_in_another_language_is_still_the_same_failure(english_row_error):
    """Skipped after the same failure twice: the meaning is compared, not the text of whoever wrote it."""
    from integration.models import FailedInsert, IntegrationTableMapping

    customer, _ = english_row_error
    mapping = IntegrationTableMapping.objects.get(name="CUSTOMER")
    with translation.override("fr"):
        mapping_synchronize(mapping=mapping, direction="to_integration")
    entry = FailedInsert.objects.get(source_id=str(customer.pk))
    assert entry.skipped


def test_a_row_error_written_before_reads_its_stored_text():
    from integration.models import SyncJobError

    with translation.override("fr"):
        assert SyncJobError(message="Customer 1: Email: bad", message_data=None).message_text == "Customer 1\u00a0: Email\u00a0: bad"


def test_a_partitioned_job_written_in_english_reads_in_swedish(customer_mapping, salesperson_pair, settings):
    from integration.full_sync.partitions import mapping_synchronize_partitioned
    from tests.integration.partitions_world import accounts_create

    settings.P2C_SYNC_PARTITION_SIZE = 5
    _, owner = salesperson_pair
    accounts_create(owner, 23)  # every ninth account's phone number is too long for the ERP: its row fails
    with translation.override("en"):
        [job] = mapping_synchronize_partitioned(mapping=customer_mapping, direction="from_integration", full=True,
                                                workers=2)
    job.refresh_from_db()
    assert job.message.endswith("(5 partitions)") and "3 failed" in job.message
    with translation.override("sv"):
        swedish = job.message_text
        errors = [error.message_text for error in job.errors.all()]
    assert swedish.endswith("(5 partitioner)") and "failed" not in swedish, swedish
    assert errors and all(text.startswith("Konto A") and "Säkerställ att detta värde har som mest 30 tecken" in text
                          for text in errors), errors


def test_an_uncoupled_salesperson_is_named_with_its_tables_in_the_readers_language(customer_mapping, salesperson_pair):
    from erp.models import SalespersonPurchaser

    stranger = SalespersonPurchaser.objects.create(code="SP02", name="Sam Stranger")
    Customer.objects.create(name="Orphan AB", salesperson=stranger)
    with translation.override("en"):
        [job] = mapping_synchronize(mapping=customer_mapping, direction="to_integration")
    error = job.errors.get()
    assert "Salesperson/Purchaser SP02 is not coupled to a Sales user" in error.message
    with translation.override("sv"):
        swedish = error.message_text
    assert "SP02 är inte kopplad till någon Sales-post" in swedish and "Salesperson" not in swedish, swedish
