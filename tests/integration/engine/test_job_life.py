"""A job's life (`SyncJob.start`, `add_counts`, `finish`, `fail`) is written by the job alone, and a dry run reports
what it decided, in the order it decided it (engine/request.py, docs/engine.md)."""

import ast
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext_noop

from crm.models import Account
from erp.models import Customer
from integration.engine.request import RunRequest
from integration.engine.sync import mapping_synchronize
from integration.models import SyncJob
from p2c.said import said

pytestmark = pytest.mark.django_db

TO = "to_integration"
ROOT = Path(__file__).resolve().parents[3]


def test_a_job_lives_through_its_own_methods(customer_mapping):
    job = SyncJob.objects.create(table_mapping=customer_mapping, mapping_name=customer_mapping.name, direction=TO)
    job.start(holder="worker 1")
    stored = SyncJob.objects.get(pk=job.pk)
    assert (stored.status, stored.holder, stored.finished_at) == (SyncJob.Status.RUNNING, "worker 1", None)
    assert stored.started_at is not None

    job.add_counts({"inserted": 2, "failed": 1})
    job.add_counts({"inserted": 1})
    assert SyncJob.objects.get(pk=job.pk).counts() == {**dict.fromkeys(SyncJob.COUNTERS, 0), "inserted": 3,
                                                       "failed": 1}

    job.finish(said(gettext_noop("nothing to synchronise")))
    stored = SyncJob.objects.get(pk=job.pk)
    assert stored.status == SyncJob.Status.ERROR, "a row failed: done, with an error"
    assert stored.finished_at is not None and stored.message_data
    with translation.override("fr"):
        assert stored.message_text == "rien à synchroniser"


def test_a_job_that_fails_before_it_starts_tells_when_and_why(customer_mapping):
    job = SyncJob.objects.create(table_mapping=customer_mapping, mapping_name=customer_mapping.name, direction=TO)
    job.fail(said(gettext_noop("The mapping was deleted.")))
    stored = SyncJob.objects.get(pk=job.pk)
    assert stored.status == SyncJob.Status.FAILED and stored.started_at and stored.finished_at
    assert stored.message == "The mapping was deleted."


def test_only_the_jobs_a_race_leaves_as_asked_are_closed(customer_mapping):
    queued, running = (SyncJob.objects.create(table_mapping=customer_mapping, mapping_name=customer_mapping.name,
                                              direction=TO) for _ in range(2))
    running.start(holder="worker 2")
    closed = SyncJob.objects.filter(pk__in=[queued.pk, running.pk], status=SyncJob.Status.QUEUED).fail(
        said(gettext_noop("The connection is not enabled.")))
    assert closed == 1
    assert SyncJob.objects.get(pk=queued.pk).status == SyncJob.Status.FAILED
    assert SyncJob.objects.get(pk=running.pk).status == SyncJob.Status.RUNNING


def _status_writes(path):
    """Lines of ``path`` that write a job's status: ``status=`` given to ``update``/``create``, or ``.status =``
    assigned, with a value naming a job's statuses (``SyncJob.Status`` or ``job.Status``)."""
    tree = ast.parse(path.read_text(), str(path))

    def names_job_status(node):
        text = ast.unparse(node)
        return "SyncJob.Status" in text or "job.Status" in text

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                "update", "create", "get_or_create", "update_or_create"):
            found += [node.lineno for kw in node.keywords if kw.arg == "status" and names_job_status(kw.value)]
        elif isinstance(node, ast.Assign):
            targets = [t for target in node.targets for t in (target.elts if isinstance(target, ast.Tuple)
                                                                else [target])]
            if any(isinstance(t, ast.Attribute) and t.attr == "status" for t in targets) and names_job_status(
                    node.value):
                found.append(node.lineno)
    return found


def test_no_code_but_the_job_writes_its_status():
    writers = {str(path.relative_to(ROOT)): lines for path in sorted((ROOT / "integration").rglob("*.py"))
               if "migrations" not in path.parts and (lines := _status_writes(path))}
    assert writers == {"integration/models/jobs.py": writers.get("integration/models/jobs.py")}
    assert writers["integration/models/jobs.py"], "the check finds the job's own writes"


def test_a_dry_run_reports_its_rows_in_the_order_it_decided_them(customer_mapping, salesperson_pair):
    salesperson, _ = salesperson_pair
    first, second = (Customer.objects.create(name=f"Customer {i}", salesperson=salesperson) for i in range(2))
    mapping_synchronize(RunRequest(mapping=customer_mapping, direction=TO))
    new = Customer.objects.create(name="Brand New", salesperson=salesperson)
    Customer.objects.filter(pk__in=[first.pk, second.pk]).update(name="Renamed")
    accounts = list(Account.objects.order_by("pk").values_list("name", flat=True))

    [job] = mapping_synchronize(RunRequest(mapping=customer_mapping, direction=TO, dry_run=True))

    assert list(Account.objects.order_by("pk").values_list("name", flat=True)) == accounts, "nothing written"
    assert [(line["source_id"], line["action"]) for line in job.report] == [
        (str(first.pk), "modify"), (str(second.pk), "modify"), (str(new.pk), "insert")]
    assert (job.inserted, job.modified, job.status) == (1, 2, SyncJob.Status.SUCCESS)
    assert job.message.startswith("Dry run, nothing written:")
