"""Messages stored as what they mean (docs/decisions.md), more of them: a database's refusal of a write, a rule's
RowError, an option mapping's unmatched code and a full synchronisation's run and lines, written by a worker in English
(P2C_LANGUAGE=en), read in French on a French admin page, in Swedish on a Swedish one, and in English in the API without
Accept-Language; rows written before read their stored text."""

import pytest
from django.urls import reverse
from django.utils import translation

from crm.models import Product
from erp.models import Currency, Item, PaymentTerms
from integration.engine.sync import mapping_synchronize
from integration.models import FullSyncLine, FullSyncRun, IntegrationFieldMapping, SyncJob
from tests.integration.helpers import lines_by_name, run_start

pytestmark = pytest.mark.django_db

TO = "to_integration"


def english_run(mapping):
    """``mapping`` synchronised to Sales by a worker speaking English."""
    mapping.refresh_from_db()
    with translation.override("en"):
        [job] = mapping_synchronize(mapping=mapping, direction=TO, create_new=True)
    return job


def page(client, url, language):
    return client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode().replace("&#x27;", "'")


def error_page(client, error, language):
    return page(client, reverse("admin:integration_syncjoberror_change", args=[error.pk]), language)


def api_error(api_client, error, **headers):
    return api_client.get(f"/api/integration/job-errors/{error.pk}/", **headers).json()["message"]


# -- a write the database refuses ---------------------------------------------------------------------------------
@pytest.fixture
def duplicate_error(mappings):
    """An item whose number a Sales product outside the mapping's filter already holds: the insert is refused."""
    Product.objects.create(product_number="1027", name="Freight charge",
                           product_type_code=Product.ProductType.MISCELLANEOUS_CHARGES)
    Item.objects.create(no="1027", description="Freight")
    job = english_run(mappings["ITEM-PRODUCT"])
    error = job.errors.get()
    assert "Product ID 1027 is already used by Product 1027 (Freight charge)." in error.message, error.message
    assert error.message_data
    return error


def test_a_write_the_database_refused_reads_in_the_language_of_each_page(admin_client, api, duplicate_error):
    french = error_page(admin_client, duplicate_error, "fr")
    swedish = error_page(admin_client, duplicate_error, "sv")
    assert "est déjà utilisé par" in french and "already used" not in french
    assert "\u00a0: " in french  # "Article 1027 (Freight)\u00a0: …": French typography
    assert "används redan av" in swedish and "already used" not in swedish
    assert "Product ID 1027 is already used by Product 1027 (Freight charge)." in api_error(api, duplicate_error)


def test_a_validation_error_raised_while_writing_is_told_in_the_readers_language():
    """A ValidationError our models raise while a record is written (the number series'), lazy with its parameters:
    its stored meaning reads in each language, under the field's name."""
    from django.core.exceptions import ValidationError

    from erp.models import Customer
    from erp.numbering import increment_code
    from integration.engine.writing import write_error_said
    from p2c.said import said_data, said_text

    with translation.override("en"), pytest.raises(ValidationError) as raised:
        increment_code("NODIGITS")
    data = said_data(write_error_said(ValidationError({"no": raised.value}), Customer))
    with translation.override("fr"):
        french = said_text(data)
    with translation.override("en"):
        english = said_text(data)
    assert english == "No.: The number 'NODIGITS' contains no digits to increment.", english
    assert french == "N°\u00a0: Le numéro 'NODIGITS' ne contient aucun chiffre à incrémenter.", french


# -- a rule's RowError -----------------------------------------------------------------------------------------
@pytest.fixture
def rule_error(mappings):
    """A currency whose ISO code is not a standard one: the CURRENCY rules fail its row."""
    Currency.objects.create(code="BAD", iso_code="E1", description="Broken")
    job = english_run(mappings["CURRENCY"])
    error = job.errors.get()
    assert "ISO Code 'E1' is not a standard ISO 4217 currency code" in error.message and error.message_data
    return error


def test_a_rules_row_error_reads_in_the_language_of_each_page(admin_client, api, rule_error):
    french = error_page(admin_client, rule_error, "fr")
    swedish = error_page(admin_client, rule_error, "sv")
    assert "Le code ISO 'E1' n'est pas un code de devise ISO 4217 standard" in french
    assert "ISO-koden 'E1' är inte en standardvalutakod enligt ISO 4217" in swedish
    assert "not a standard" not in french + swedish
    assert "ISO Code 'E1' is not a standard ISO 4217 currency code" in api_error(api, rule_error)
    assert "n'est pas un code de devise" in api_error(api, rule_error, HTTP_ACCEPT_LANGUAGE="fr")


def test_a_contacts_company_not_linked_is_told_in_the_readers_language(mappings):
    """The CONTACT rules' own message (a person whose company is no customer coupled to an account)."""
    from erp.models import Contact

    company = Contact.objects.create(name="Lone Company", type="company")
    Contact.objects.create(name="Pat Person", type="person", company=company)
    job = english_run(mappings["CONTACT"])
    error = job.errors.get()
    assert "is not linked to a customer that is coupled to a Sales account" in error.message
    with translation.override("sv"):
        swedish = error.message_text
    assert "Lone Company" in swedish and "is not linked" not in swedish, swedish


# -- an option mapping's code that matches no option ---------------------------------------------------------------
def test_payment_terms_matching_no_option_read_in_the_language_of_each_page(admin_client, api, mappings):
    PaymentTerms.objects.create(code="ZZ99", description="Nothing like an option")
    job = english_run(mappings["PAYMENT TERMS"])
    assert "ZZ99 matches no" in job.message
    url = reverse("admin:integration_syncjob_change", args=[job.pk])
    french, swedish = page(admin_client, url, "fr"), page(admin_client, url, "sv")
    assert "ZZ99 ne correspond à aucune option" in french and "Sales\u00a0; les clients" in french
    assert "ZZ99 matchar inget alternativ" in swedish
    assert "matches no" not in french + swedish
    assert "ZZ99 matches no" in api.get(f"/api/integration/jobs/{job.pk}/").json()["message"]


# -- a full synchronisation's run and lines -------------------------------------------------------------------------
REVIEW = "admin:integration_full_sync_review"


def test_a_full_synchronisation_line_reads_in_the_language_of_each_page(admin_client, api, demo_sides, mappings,
                                                                       django_capture_on_commit_callbacks):
    """The CUSTOMER line of a run without match fields: "Not synchronised: <its coupling job's message> Choose the
    match fields…", every part of it in the reader's language."""
    IntegrationFieldMapping.objects.filter(table_mapping=mappings["CUSTOMER"]).update(use_for_match_coupling=False)
    with translation.override("en"):
        run = run_start(django_capture_on_commit_callbacks)
    line = lines_by_name(run)["CUSTOMER"]
    assert line.message.startswith("Not synchronised: ") and line.message_data

    french, swedish = page(admin_client, reverse(REVIEW), "fr"), page(admin_client, reverse(REVIEW), "sv")
    assert "Non synchronisé\u00a0: " in french and "Choisissez les champs de correspondance" in french
    assert "Inte synkroniserad: " in swedish and "Välj matchningsfälten" in swedish
    assert "Not synchronised" not in french + swedish and "Choose the match fields" not in french + swedish
    [english] = [each for each in api.get("/api/integration/full-sync/").json()["lines"] if each["name"] == "CUSTOMER"]
    assert english["message"].startswith("Not synchronised: ") and "Choose the match fields" in english["message"]


def test_a_failed_full_synchronisation_run_reads_in_the_language_of_each_page(admin_client, api, demo_sides,
                                                                             monkeypatch,
                                                                             django_capture_on_commit_callbacks):
    """A run whose CUSTOMER line failed (its mapping busy): the run's message and the line's, in each language."""
    from integration.engine import sync as engine_sync
    from integration.engine.locks import MappingBusy
    from p2c.said import said

    real = engine_sync.mapping_synchronize

    def busy(request):
        if request.mapping.name == "CUSTOMER":
            raise MappingBusy(said(translation.gettext_noop(
                "Mapping %(mapping)s is being synchronised by another run (%(holder)s); try again when it has "
                "finished."), mapping="CUSTOMER", holder="process 1 on host w1"))
        return real(request)

    monkeypatch.setattr(engine_sync, "mapping_synchronize", busy)
    with translation.override("en"):
        run = run_start(django_capture_on_commit_callbacks)
    assert run.status == "failed" and run.message.startswith("Failed: CUSTOMER.") and run.message_data

    french, swedish = page(admin_client, reverse(REVIEW), "fr"), page(admin_client, reverse(REVIEW), "sv")
    assert "Échec\u00a0: CUSTOMER." in french and "Corrigez la cause et redémarrez\u00a0:" in french
    assert "Le mappage CUSTOMER est en cours de synchronisation par une autre exécution" in french
    assert "Misslyckades: CUSTOMER." in swedish and "Mappningen CUSTOMER synkroniseras av en annan körning" in swedish
    assert "Failed: CUSTOMER" not in french + swedish and "being synchronised" not in french + swedish
    status = api.get("/api/integration/full-sync/").json()
    assert status["run"]["message"].startswith("Failed: CUSTOMER. Fix the cause and restart")
    [line] = [each for each in status["lines"] if each["name"] == "CUSTOMER"]
    assert line["message"].startswith("Mapping CUSTOMER is being synchronised by another run")


def test_a_finished_runs_errors_count_through_the_plural_rules_of_the_readers_language(mappings):
    from integration.full_sync.run import _close_run

    run = FullSyncRun.objects.create()
    lines = []
    for position, (name, failed) in enumerate([("CUSTOMER", 1), ("ITEM-PRODUCT", 3)]):
        job = SyncJob.objects.create(mapping_name=name, direction=TO, status=SyncJob.Status.SUCCESS, failed=failed)
        lines.append(FullSyncLine.objects.create(run=run, mapping_name=name, position=position, state="finished",
                                                 recommendation="full_synchronization", to_job=job))
    with translation.override("en"):
        _close_run(run, lines)
    run.refresh_from_db()
    assert run.message.startswith("Finished with errors: CUSTOMER (1 failed), ITEM-PRODUCT (3 failed). ")
    with translation.override("sv"):
        swedish = run.message_text
    with translation.override("fr"):
        french = run.message_text
    assert swedish.startswith("Klar med fel: CUSTOMER (1 misslyckad), ITEM-PRODUCT (3 misslyckade). "), swedish
    assert french.startswith("Terminée avec des erreurs\u00a0: CUSTOMER (1 en échec), ITEM-PRODUCT (3 en échec)"), french


def test_a_full_synchronisation_run_written_before_reads_its_stored_text():
    with translation.override("fr"):
        assert FullSyncRun(message="Failed: CUSTOMER.", message_data=None).message_text == "Failed\u00a0: CUSTOMER."
        assert FullSyncLine(message="boom", message_data=None).message_text == "boom"


def test_a_value_that_is_no_option_is_told_in_the_readers_language():
    from erp.models import Customer
    from integration.engine.transfer import field_error_text, not_allowed_error
    from p2c.said import said_data, said_text

    with translation.override("en"):
        data = said_data(field_error_text(Customer._meta.get_field("name"), not_allowed_error("ZZ")))
        english = said_text(data)
    with translation.override("fr"):
        french = said_text(data)
    assert english.endswith(": 'ZZ' is not one of the allowed values."), english
    assert "'ZZ'" in french and "allowed" not in french and "\u00a0: " in french, french


def test_a_task_that_gave_up_on_a_busy_mapping_counts_its_tries_in_the_readers_language(mappings):
    from integration.operations.queued_runs import queued_jobs_give_up

    mapping = mappings["CUSTOMER"]
    jobs = [SyncJob.objects.create(table_mapping=mapping, mapping_name=mapping.name, direction=TO,
                                   status=SyncJob.Status.QUEUED) for _ in range(2)]
    with translation.override("en"):
        queued_jobs_give_up(mapping_id=mapping.pk, job_ids=[jobs[0].pk], tries=1)
        queued_jobs_give_up(mapping_id=mapping.pk, job_ids=[jobs[1].pk], tries=20)
    once, often = (SyncJob.objects.get(pk=job.pk) for job in jobs)
    assert once.message == "Mapping CUSTOMER stayed busy: gave up after 1 try; synchronise again."
    with translation.override("fr"):
        assert once.message_text.startswith("Le mappage CUSTOMER est resté occupé\u00a0: abandon après 1 tentative\u00a0; ")
        assert "après 20 tentatives\u00a0; " in often.message_text and "synchronise again" not in often.message_text
    with translation.override("nl"):
        assert "opgegeven na 1 poging;" in once.message_text and "na 20 pogingen;" in often.message_text
