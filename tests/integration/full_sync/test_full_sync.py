"""Full synchronisation review and its run (docs/features.md I6; BC page 5373): recommendations, dependency order,
parallel readiness, idempotent advance and claims, restart without duplicates."""

import json
from decimal import Decimal

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from crm.models import Account, SystemUser
from erp.models import Customer
from integration.engine import sync as engine_sync
from integration.engine.locks import MappingBusy
from integration.full_sync import review as full_sync
from integration.full_sync import run as full_sync_run
from integration.full_sync.review import full_sync_review_lines, full_sync_status, mapping_recommendation
from integration.full_sync.run import full_sync_advance, full_sync_line_run, full_sync_start
from integration.models import Coupling, FullSyncLine, FullSyncRun, SyncJob
from tests.factories import (
    AccountFactory,
    CurrencyFactory,
    CustomerFactory,
    PaymentTermsFactory,
    TransactionCurrencyFactory,
    UnitGroupFactory,
    UnitOfMeasureFactory,
)
from tests.integration.helpers import lines_by_name, run_start

pytestmark = pytest.mark.django_db

FULL, COUPLE, NONE, DEP = "full_synchronization", "couple_records", "no_records", "dependency_not_satisfied"


def recommendations():
    return {line.name: line.recommendation for line in full_sync_review_lines()}


# -- recommendations -------------------------------------------------------------------------------------------------
def test_recommendations_on_empty_tables(mappings):
    got = recommendations()
    assert got["SALESPEOPLE"] == FULL  # always
    assert got["CURRENCY"] == COUPLE  # not exactly one Sales currency at rate 1
    assert got["CUSTOMER"] == got["CONTACT"] == got["ITEM-PRODUCT"] == got["OPPORTUNITY"] == NONE
    assert got["PAYMENT TERMS"] == NONE  # no ERP codes
    assert got["UNIT OF MEASURE"] == NONE


def test_customer_recommendation_follows_which_sides_have_records(mappings):
    mapping = mappings["CUSTOMER"]
    assert mapping_recommendation(mapping) == NONE
    CustomerFactory()
    assert mapping_recommendation(mapping) == FULL
    AccountFactory(customer_type_code="vendor")  # outside the mapping's Sales filter
    assert mapping_recommendation(mapping) == FULL
    AccountFactory()
    assert mapping_recommendation(mapping) == COUPLE
    Customer.objects.all().delete()
    assert mapping_recommendation(mapping) == FULL


def test_currency_is_full_only_with_just_the_base_currency_in_sales(mappings):
    mapping = mappings["CURRENCY"]
    TransactionCurrencyFactory(iso_currency_code="USD", exchange_rate=Decimal(1))
    assert mapping_recommendation(mapping) == FULL
    TransactionCurrencyFactory(iso_currency_code="EUR", exchange_rate=Decimal("0.9"))
    assert mapping_recommendation(mapping) == COUPLE


def test_currency_alone_at_another_rate_is_coupled(mappings):
    TransactionCurrencyFactory(iso_currency_code="EUR", exchange_rate=Decimal("0.9"))
    assert mapping_recommendation(mappings["CURRENCY"]) == COUPLE


def test_option_and_unit_rules(mappings):
    assert mapping_recommendation(mappings["PAYMENT TERMS"]) == NONE
    PaymentTermsFactory()
    assert mapping_recommendation(mappings["PAYMENT TERMS"]) == COUPLE

    uom = mappings["UNIT OF MEASURE"]
    UnitGroupFactory()
    assert mapping_recommendation(uom) == NONE  # ERP empty, one Sales unit group
    UnitOfMeasureFactory()
    assert mapping_recommendation(uom) == FULL  # ERP has units, Sales only one group
    UnitGroupFactory()
    assert mapping_recommendation(uom) == COUPLE


# -- lines -----------------------------------------------------------------------------------------------------------
def test_lines_in_dependency_order_without_child_and_disabled_mappings(mappings):
    mappings["ITEM-PRODUCT"].is_enabled = False
    mappings["ITEM-PRODUCT"].save()
    names = [line.name for line in full_sync_review_lines()]

    assert "POSTEDSALESLINE-INV" not in names  # child of POSTEDSALESINV-INV
    assert "ITEM-PRODUCT" not in names
    for line in full_sync_review_lines():
        for dep in line.dependencies:
            if dep in names:
                assert names.index(dep) < names.index(line.name), (dep, line.name)
    assert names.index("SALESPEOPLE") < names.index("CUSTOMER") < names.index("CONTACT") < names.index("OPPORTUNITY")


def test_dependency_not_satisfied_when_a_disabled_dependency_has_records(mappings):
    CustomerFactory()
    AccountFactory()
    assert recommendations()["CONTACT"] == NONE
    mappings["CUSTOMER"].is_enabled = False
    mappings["CUSTOMER"].save()
    # CONTACT has no records itself, but its (disabled) dependency has: it cannot be synchronised safely.
    assert recommendations()["CONTACT"] == DEP
    assert recommendations()["OPPORTUNITY"] == DEP  # transitively


def test_review_line_labels_and_job_statuses(mappings):
    line = next(line for line in full_sync_review_lines() if line.name == "SALESPEOPLE")
    assert line.recommendation_label == "Full Synchronization"
    assert (line.state, line.to_job_status, line.from_job_status) == ("", " ", " ")
    job = SyncJob(mapping_name="X", direction="to_integration")
    assert full_sync.job_status(job) == "in_process"
    job.finished_at, job.failed = timezone.now(), 1
    assert full_sync.job_status(job) == "error"
    job.failed = 0
    assert full_sync.job_status(job) == "success"


# -- orchestration (line execution stubbed: the order and the claims are what is tested) ------------------------------
@pytest.fixture
def enqueued(monkeypatch):
    """Record the line tasks and advances handed to the background instead of running them."""
    calls = {"lines": [], "advances": []}
    monkeypatch.setattr("integration.queue.full_sync_line_enqueue", lambda *, line: calls["lines"].append(line.pk))
    monkeypatch.setattr("integration.queue.full_sync_advance_enqueue",
                        lambda *, run: calls["advances"].append(run.pk))
    return calls


@pytest.fixture
def executed(monkeypatch):
    """Stub out the engine: a line 'runs' by being recorded."""
    names = []

    def fake_execute(line):
        names.append(line.mapping_name)
        return False, ""

    monkeypatch.setattr(full_sync_run, "_line_execute", fake_execute)
    return names


def with_records_everywhere():
    """Records on both sides of the mappings under CUSTOMER and CONTACT so they are lines to run."""
    CustomerFactory()
    AccountFactory()
    CurrencyFactory(code="EUR")
    PaymentTermsFactory()


def test_independent_lines_start_together_and_dependants_wait(mappings, enqueued, executed):
    with_records_everywhere()
    run = full_sync_start().jobs[0]
    assert enqueued["advances"] == [run.pk]

    started = full_sync_advance(run_id=run.pk)
    lines = lines_by_name(run)
    waiting = {name for name, line in lines.items() if line.state == "waiting"}
    # Everything without an unfinished dependency starts at once (one task each: N workers run N at once).
    assert waiting == {"SALESPEOPLE", "CURRENCY", "PAYMENT TERMS"}
    assert sorted(started) == sorted(enqueued["lines"])
    assert lines["CUSTOMER"].state == ""  # waits for SALESPEOPLE, CURRENCY, PAYMENT TERMS (the others: no records)

    full_sync_line_run(line_id=lines["SALESPEOPLE"].pk)
    full_sync_line_run(line_id=lines["CURRENCY"].pk)
    assert lines_by_name(run)["CUSTOMER"].state == ""
    full_sync_line_run(line_id=lines["PAYMENT TERMS"].pk)
    assert lines_by_name(run)["CUSTOMER"].state == "waiting"

    full_sync_line_run(line_id=lines["CUSTOMER"].pk)
    assert executed == ["SALESPEOPLE", "CURRENCY", "PAYMENT TERMS", "CUSTOMER"]
    run.refresh_from_db()
    assert run.status == "finished" and run.finished_at  # CONTACT and later: no records
    assert full_sync_status()["progress"] == {"total": 4, "done": 4, "failed": 0, "running": 0, "percent": 100,
                                              "failed_records": 0}


def test_advance_and_line_tasks_are_idempotent(mappings, enqueued, executed):
    with_records_everywhere()
    run = full_sync_start().jobs[0]
    first = full_sync_advance(run_id=run.pk)
    assert full_sync_advance(run_id=run.pk) == []  # nothing starts twice
    assert len(enqueued["lines"]) == len(first)

    salespeople = lines_by_name(run)["SALESPEOPLE"]
    full_sync_line_run(line_id=salespeople.pk)
    full_sync_line_run(line_id=salespeople.pk)  # a redelivered message
    assert executed.count("SALESPEOPLE") == 1


def test_a_running_line_is_left_alone_while_its_worker_holds_the_mapping(mappings, enqueued, executed,
                                                                         another_run):
    with_records_everywhere()
    run = full_sync_start().jobs[0]
    full_sync_advance(run_id=run.pk)
    line = lines_by_name(run)["SALESPEOPLE"]
    worker = another_run(mappings["SALESPEOPLE"])
    FullSyncLine.objects.filter(pk=line.pk).update(state="running", claim=worker.token)

    full_sync_line_run(line_id=line.pk)
    assert executed == []

    # The worker was killed (its claim is still on the row): a redelivered task takes the line over at once.
    worker.die()
    full_sync_line_run(line_id=line.pk)
    assert executed == ["SALESPEOPLE"]
    assert lines_by_name(run)["SALESPEOPLE"].state == "finished"


def test_second_start_returns_the_run_in_process(mappings, enqueued, executed):
    with_records_everywhere()
    run = full_sync_start().jobs[0]
    assert full_sync_start().jobs[0] == run
    assert FullSyncRun.objects.count() == 1


def test_status_is_json_and_says_when_to_stop_polling(mappings, enqueued, executed):
    assert full_sync_status()["run"] is None
    with_records_everywhere()
    run = full_sync_start().jobs[0]
    status = json.loads(json.dumps(full_sync_status()))
    assert status["run"]["id"] == run.pk and status["finished"] is False
    line = next(line for line in status["lines"] if line["name"] == "CUSTOMER")
    assert line["recommendation"] == COUPLE and line["recommendation_label"] == "Start couples the records that match, then synchronises"
    assert line["state"] == "" and line["to_job"] is None and line["to_job_status"] == " "


# -- end to end, eager (tasks run in-process when the transaction's on_commit callbacks run) ---------------------------
def test_full_synchronisation_end_to_end(demo_sides, django_capture_on_commit_callbacks):
    run = run_start(django_capture_on_commit_callbacks)

    assert run.status == "finished", run.message
    lines = lines_by_name(run)
    customer = lines["CUSTOMER"]
    assert (customer.recommendation, customer.state) == (COUPLE, "finished")
    assert customer.coupling_job.coupled == 3
    assert customer.to_job.status == customer.from_job.status == "success"
    assert Coupling.objects.filter(erp_model="erp.Customer").count() == 5
    assert Customer.objects.count() == 5 and Account.objects.count() == 5  # no duplicates
    assert lines["SALESPEOPLE"].from_job.status == "success"


def test_failed_run_restarts_where_it_stopped_without_duplicates(demo_sides, monkeypatch,
                                                                 django_capture_on_commit_callbacks):
    real = engine_sync.mapping_synchronize
    calls = {"n": 0}

    def flaky(request):
        if request.mapping.name == "CUSTOMER" and calls["n"] == 0:
            calls["n"] += 1
            real(request.but(direction="to_integration"))  # half done, then the worker "dies"
            raise MappingBusy("interrupted after the first direction")
        return real(request)

    monkeypatch.setattr(engine_sync, "mapping_synchronize", flaky)
    run = run_start(django_capture_on_commit_callbacks)
    assert run.status == "failed"
    assert "CUSTOMER" in run.message
    lines = lines_by_name(run)
    assert lines["CUSTOMER"].state == "failed"
    salespeople_jobs = SyncJob.objects.filter(mapping_name="SALESPEOPLE").count()

    run = run_start(django_capture_on_commit_callbacks, restart=True)
    assert run.status == "finished", run.message
    assert run.restarts == 1
    assert SyncJob.objects.filter(mapping_name="SALESPEOPLE").count() == salespeople_jobs  # finished: not rerun
    assert Customer.objects.count() == 5 and Account.objects.count() == 5
    assert Coupling.objects.filter(erp_model="erp.Customer").count() == 5


def test_couple_line_without_match_fields_finishes_without_synchronising(demo_sides, mappings,
                                                                         django_capture_on_commit_callbacks):
    from integration.models import IntegrationFieldMapping

    IntegrationFieldMapping.objects.filter(table_mapping=mappings["CUSTOMER"]).update(use_for_match_coupling=False)
    run = run_start(django_capture_on_commit_callbacks)

    customer = lines_by_name(run)["CUSTOMER"]
    assert customer.state == "finished"  # as in BC: the coupling job logs the error, dependants may start
    assert customer.coupling_job.status == "failed"
    assert "match-based coupling" in customer.message
    assert customer.to_job is None and customer.from_job is None  # never a sync that would duplicate
    assert (Customer.objects.count(), Account.objects.count()) == (4, 4)  # as seeded: nothing created


def test_line_task_looks_again_later_while_another_worker_holds_the_line(mappings, enqueued, executed,
                                                                         another_run):
    from integration.tasks import full_sync_line_task

    with_records_everywhere()
    run = full_sync_start().jobs[0]
    full_sync_advance(run_id=run.pk)
    line = lines_by_name(run)["SALESPEOPLE"]
    worker = another_run(mappings["SALESPEOPLE"])
    FullSyncLine.objects.filter(pk=line.pk).update(state="running", claim=worker.token)
    with pytest.raises(Retry):  # eager mode propagates it; a worker schedules the task again in a minute
        full_sync_line_task.apply(kwargs={"line_id": line.pk})
    assert executed == []


def test_full_sync_command_shows_the_review_and_starts_a_run(demo_sides, django_capture_on_commit_callbacks):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("full_sync", stdout=out)
    assert "CUSTOMER" in out.getvalue() and "Start couples the records that match" in out.getvalue()
    assert not FullSyncRun.objects.exists()

    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("full_sync", "--start", stdout=out)
    assert FullSyncRun.objects.get().status == "finished"


# -- the demo data, as `seed_demo` + `integration_setup` leave it ------------------------------------------------------
@pytest.fixture
def demo(db):
    from integration.defaults import integration_setup_reset
    from integration.demo import demo_seed
    from integration.models import ConnectionSetup

    demo_seed()  # the default scale, as `seed_demo` runs it
    integration_setup_reset()
    setup = ConnectionSetup.get_solo()
    setup.is_enabled = True
    setup.integration_user = SystemUser.objects.filter(access_mode="integration").first()
    setup.save()


def record_counts():
    from django.apps import apps

    labels = ["crm.Account", "crm.Contact", "crm.Product", "crm.ProductPriceLevel", "crm.Opportunity", "crm.Invoice",
              "crm.InvoiceDetail", "crm.SalesOrder", "erp.Customer", "erp.Contact", "erp.Item", "erp.Resource",
              "erp.Opportunity", "integration.Coupling"]
    return {label: apps.get_model(label).objects.count() for label in labels}


def test_full_synchronisation_of_the_demo_data_runs_every_mapping(demo, django_capture_on_commit_callbacks):
    from integration.models import SyncJobError

    recommended = recommendations()
    # Both sides have records almost everywhere: the review recommends coupling them first, BC's way.
    for name in ("CUSTOMER", "CONTACT", "ITEM-PRODUCT", "SALESPRC-PRODPRICE", "OPPORTUNITY", "POSTEDSALESINV-INV"):
        assert recommended[name] == COUPLE, name

    run = run_start(django_capture_on_commit_callbacks)

    assert run.status == "finished", run.message
    lines = lines_by_name(run)
    for name, line in lines.items():
        if line.recommendation not in (FULL, COUPLE):
            continue
        assert line.state == "finished", (name, line.message)
        assert line.message == "", (name, line.message)  # no "not synchronised: choose the match fields"
        if line.recommendation == COUPLE and not line.mapping.is_option_mapping:
            assert line.coupling_job.status in ("success", "error"), (name, line.coupling_job.message)
        for direction in line.mapping.directions():
            job = line.to_job if direction == "to_integration" else line.from_job
            assert job is not None and job.status in ("success", "error"), (name, direction)
    # Every job ran to its end: records may fail one by one (the demo has a few bad ones), a job never as a whole.
    assert not SyncJob.objects.filter(status__in=["failed", "queued", "running"]).exists()
    # Dependants of the mappings that used to stop at "set the match fields" ran and coupled or created records.
    assert lines["OPPORTUNITY"].coupling_job.inserted > 0
    assert lines["SALESPRC-PRODPRICE"].coupling_job.coupled > 0  # existing price list lines, not a second line
    assert Coupling.objects.filter(erp_model="erp.SalesInvoiceHeader").exists()
    assert Coupling.objects.filter(erp_model="erp.SalesInvoiceLine").exists()
    # Sales records in the base currency (USD) are ERP records in the local currency (blank), and back.
    errors = list(SyncJobError.objects.values_list("message", flat=True))
    assert not [e for e in errors if "Currency" in e and "is not coupled" in e]
    assert Customer.objects.filter(currency=None, pk__in=Coupling.objects.filter(
        erp_model="erp.Customer", crm_model="crm.Account").values("erp_id")).exists()
    if any(job.failed for job in SyncJob.objects.all()):
        assert run.message.startswith("Finished with errors: ")
    # The demo data agrees with the mappings: its full synchronisation runs clean
    # (docs/decisions.md#demo-data-that-runs-clean), no record fails.
    failures = sorted(SyncJobError.objects.values_list("job__mapping_name", "message"))
    assert failures == [], "\n".join(f"{name}: {message}" for name, message in failures)
    assert run.message == "" or not run.message.startswith("Finished with errors"), run.message


def test_a_second_full_synchronisation_of_the_demo_data_creates_nothing(demo, django_capture_on_commit_callbacks):
    first = run_start(django_capture_on_commit_callbacks)
    assert first.status == "finished", first.message
    counts = record_counts()

    second = run_start(django_capture_on_commit_callbacks)

    assert second.pk != first.pk and second.status == "finished", second.message
    assert record_counts() == counts
    assert not SyncJob.objects.filter(status="failed").exists()
