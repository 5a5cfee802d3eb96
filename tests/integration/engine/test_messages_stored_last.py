"""The last messages stored as what they mean (docs/decisions.md): a Finance and Operations project run's and its tasks'
messages and skip reasons, a Sales order's own creation error, a lock holder's description and an unexpected exception.
Each written by a worker in English (P2C_LANGUAGE=en), read in French on a French admin page and in English in the API
without Accept-Language; rows written before read their stored text."""

import os

import pytest
from django.urls import reverse
from django.utils import translation

from crm.models import SalesOrder
from integration.fo.projects import project_run_execute, project_run_start, task_run_skip_reasons
from integration.models import Coupling, IntegrationProjectRun, IntegrationProjectTaskRun
from integration.sales_orders import creation
from p2c.said import said_data, said_exception, said_text
from tests.integration.fo_helpers import make_account
from tests.integration.sales_orders_world import world_build

pytestmark = pytest.mark.django_db


def page(client, url, language):
    return client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode().replace("&#x27;", "'")


def english_project_run(project):
    with translation.override("en"):
        return project_run_execute(run_id=project_run_start(project=project).pk)


def run_page(client, run, language):
    return page(client, reverse("admin:integration_integrationprojectrun_change", args=[run.pk]), language)


# -- a Finance and Operations project run ---------------------------------------------------------------------------
def test_a_project_runs_summary_and_skip_reasons_read_in_the_language_of_each_page(admin_client, api,
                                                                                   fo_projects):
    make_account("A1")
    make_account("Gone", state_code="inactive")
    run = english_project_run(fo_projects["accounts"])
    assert run.message.startswith("Accounts - Customers: 1 read, 1 upserted") and run.message_data
    task_run = run.task_runs.get()
    assert "1 skipped (1 account is inactive)" in task_run.message, task_run.message

    french = run_page(admin_client, run, "fr")
    assert "Accounts - Customers\u00a0: 1 lus, 1 écrits" in french and "le compte est inactif" in french
    assert "1 upserted" not in french and "account is inactive" not in french
    english = api.get(f"/api/integration/project-runs/{run.pk}/").json()
    assert english["message"].startswith("Accounts - Customers: 1 read, 1 upserted (1 new, 0 changed)")
    assert english["task_runs"][0]["skip_reasons"] == {"account is inactive": 1}
    asked = api.get(f"/api/integration/project-runs/{run.pk}/", HTTP_ACCEPT_LANGUAGE="fr").json()
    assert asked["task_runs"][0]["skip_reasons"] == {"le compte est inactif": 1}
    assert "1 lus, 1 écrits" in asked["task_runs"][0]["message"]


def test_a_project_task_on_a_busy_mapping_names_its_holder_in_the_readers_language(admin_client, api,
                                                                                  fo_projects, another_run):
    """The task fails as a whole: "Task …: Mapping … is being synchronised by another run (…, process 12 on host
    w1)…", the holder's description told in the reader's language as the rest."""
    holder = another_run(fo_projects["accounts"].tasks.get().table_mapping)
    run = english_project_run(fo_projects["accounts"])
    assert run.status == "error" and run.message.startswith("Task Accounts - Customers: Mapping ")
    host, pid = holder.token.split(":")[:2]
    assert f"process {pid} on host {host}" in run.message, run.message

    french = run_page(admin_client, run, "fr")
    assert "Tâche Accounts - Customers\u00a0: Le mappage" in french
    assert f"processus {pid} sur l'hôte {host}" in french
    assert "being synchronised" not in french and f"process {pid} on host" not in french
    english = api.get(f"/api/integration/project-runs/{run.pk}/").json()
    assert english["message"].startswith("Task Accounts - Customers: Mapping ")
    assert f"process {pid} on host {host}" in english["task_runs"][0]["message"]


def test_a_project_run_written_before_reads_its_stored_text():
    task_run = IntegrationProjectTaskRun(task_name="Contacts", message="2 read", skip_reasons={"no company": 2})
    with translation.override("fr"):
        assert IntegrationProjectRun(message="Contacts: 2 read").message_text == "Contacts\u00a0: 2 read"
        assert task_run.message_text == "2 read"
        assert task_run_skip_reasons(task_run) == {"no company": 2}


# -- a Sales order's own creation error -------------------------------------------------------------------------
@pytest.fixture
def world(mappings, salesperson_pair):
    return world_build(salesperson_pair=salesperson_pair)


def error_page(client, error, language):
    return page(client, reverse("admin:integration_syncjoberror_change", args=[error.pk]), language)


def english_creation(order):
    with translation.override("en"):
        job = creation.sales_orders_create_in_erp(sales_orders=[order])
    return job.errors.get()


def test_a_sales_orders_creation_error_reads_in_the_language_of_each_page(admin_client, api, world):
    order = world.order(lines=2)
    Coupling.objects.filter(crm_model="crm.Product", crm_id=world.products[1].pk).delete()
    error = english_creation(order)
    assert "cannot be created in the ERP. Line 20: the Sales product 1001-A (Paris Chair) is not coupled to an ERP item." \
        in error.message and error.message.startswith(f"Sales order {order.number}") and error.message_data

    french = error_page(admin_client, error, "fr")
    assert f"Commande Sales {order.number}" in french and "ne peut pas être créée dans l'ERP" in french
    assert "Ligne 20\u00a0: le produit Sales 1001-A (Paris Chair) n'est pas couplé à un article ERP." in french
    assert "cannot be created" not in french and "Line 20" not in french
    english = api.get(f"/api/integration/job-errors/{error.pk}/").json()["message"]
    assert english == error.message


def test_a_sales_orders_status_is_told_in_the_readers_language(world):
    order = world.order(state="active")
    error = english_creation(order)
    assert error.message.endswith("must be submitted to be created in the ERP; its status is Active.")
    with translation.override("fr"):
        french = error.message_text
    assert french.endswith("doit être soumise pour être créée dans l'ERP\u00a0; son statut est Actif."), french


# -- an unexpected exception ------------------------------------------------------------------------------------
def test_an_unexpected_exception_is_a_translated_sentence_around_the_exceptions_own_words(admin_client, api,
                                                                                         world, monkeypatch):
    """The exception's class and words are data, under a sentence told in the reader's language."""
    order = world.order(lines=1)

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(creation, "_header", broken)
    error = english_creation(order)
    assert error.message.endswith(": Unexpected error (RuntimeError): disk on fire"), error.message
    french = error_page(admin_client, error, "fr")
    assert "Erreur inattendue (RuntimeError)\u00a0: disk on fire" in french and "Unexpected" not in french
    english = api.get(f"/api/integration/job-errors/{error.pk}/").json()["message"]
    assert english.endswith("Unexpected error (RuntimeError): disk on fire")
    assert SalesOrder.objects.get(pk=order.pk).sent_to_back_office_on is None


def test_an_exception_carrying_its_meaning_says_that():
    from integration.engine.locks import MappingBusy, holder_describe

    busy = MappingBusy(holder_describe(f"w1:{os.getpid()}:x"))
    data = said_data(said_exception(busy))
    with translation.override("sv"):
        assert said_text(data) == f"process {os.getpid()} på värden w1"
    with translation.override("nl"):
        assert said_text(said_data(said_exception(KeyError("k")))).startswith("Onverwachte fout (KeyError): ")


def test_a_job_failed_by_an_unexpected_exception_reads_in_the_language_of_each_page(admin_client, api, mappings,
                                                                                   monkeypatch):
    from erp.models import Currency
    from integration.engine import sync as engine_sync

    def broken(**kwargs):
        raise RuntimeError("watermark table gone")

    monkeypatch.setattr(engine_sync, "run_done_advance", broken)
    Currency.objects.create(code="NOK", iso_code="NOK", description="Norwegian krone")
    with translation.override("en"):
        [job] = engine_sync.mapping_synchronize(mapping=mappings["CURRENCY"], direction="to_integration")
    assert job.status == "failed"
    assert job.message == "The job failed: Unexpected error (RuntimeError): watermark table gone", job.message
    french = page(admin_client, reverse("admin:integration_syncjob_change", args=[job.pk]), "fr")
    assert "Erreur inattendue (RuntimeError)\u00a0: watermark table gone" in french and "Unexpected" not in french
    assert api.get(f"/api/integration/jobs/{job.pk}/").json()["message"] == job.message
