"""Celery tasks and the background helpers (docs/features.md X4): queued jobs at once, tasks on commit, ids not objects,
idempotent on redelivery, large selections in chunks."""

import pytest
from django.utils import timezone

from crm.models import Account
from integration import queue, task_names, tasks
from integration.engine.locks import holding
from integration.models import Coupling, IntegrationTableMapping, SyncJob
from integration.queue import mapping_couple_by_match_enqueue, mapping_synchronize_enqueue
from p2c.celery import app
from tests.factories import AccountFactory, CustomerFactory

pytestmark = pytest.mark.django_db

TO = "to_integration"


@pytest.fixture
def customers(mappings, salesperson_pair):
    salesperson, _ = salesperson_pair
    return [CustomerFactory(no=f"K{i}", name=f"Customer {i}", email=f"c{i}@example.com", salesperson=salesperson)
            for i in range(3)]


@pytest.fixture
def sent(monkeypatch):
    """Record what is enqueued (task name, kwargs) instead of running it."""
    calls = []

    def fake(task):
        def apply_async(kwargs=None, countdown=None, **options):
            calls.append((task.name, kwargs, countdown))
        return apply_async

    for task in (tasks.synchronize_mapping_task, tasks.couple_by_match_task, tasks.full_sync_advance_task,
                 tasks.full_sync_line_task):
        monkeypatch.setattr(task, "apply_async", fake(task))
    return calls


def test_every_task_is_registered_acknowledged_late_and_takes_ids():
    names = {task_names.SYNCHRONIZE_MAPPING, task_names.COUPLE_BY_MATCH, task_names.FULL_SYNC_ADVANCE,
             task_names.FULL_SYNC_LINE, task_names.RUN_PROJECT}
    assert names <= set(app.tasks)
    for name in names:
        assert app.tasks[name].acks_late, name


def test_task_names_are_declared_once_registered_and_unchanged(settings):
    # Stored beat schedules (PeriodicTask.task) of existing databases hold these values: a rename would orphan them
    assert set(task_names.ALL) == {f"integration.{n}" for n in (
        "run_project", "cleanup_project_runs", "sync_log_cleanup", "synchronize_mapping", "couple_by_match",
        "full_sync_advance", "full_sync_line", "sync_partitions", "close_stopped_runs", "sales_changes_poll",
        "create_sales_orders", "update_sales_order_statuses")}
    registered = {name for name in app.tasks if name.startswith("integration.")}
    assert registered == set(task_names.ALL)
    # p2c.settings may not import the integration: its beat schedule names declared tasks as text
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= set(task_names.ALL)


def test_synchronize_later_returns_queued_jobs_and_enqueues_on_commit(customers, mappings, sent,
                                                                      django_capture_on_commit_callbacks):
    mapping = mappings["CUSTOMER"]
    with django_capture_on_commit_callbacks() as callbacks:
        jobs = mapping_synchronize_enqueue(mapping=mapping, direction=TO, only_ids=[c.pk for c in customers])
        assert sent == []  # nothing leaves before the commit
    assert [(j.status, j.direction) for j in jobs] == [("queued", TO)]
    for callback in callbacks:
        callback()
    assert sent == [(task_names.SYNCHRONIZE_MAPPING,
                     {"mapping_id": mapping.pk, "direction": TO, "full": False,
                      "only_ids": [str(c.pk) for c in customers], "job_ids": [jobs[0].pk]}, None)]


def test_large_selections_are_split_in_chunks(customers, mappings, sent, monkeypatch,
                                              django_capture_on_commit_callbacks):
    monkeypatch.setattr(queue, "CHUNK_IDS", 2)
    with django_capture_on_commit_callbacks(execute=True):
        jobs = mapping_synchronize_enqueue(mapping=mappings["CUSTOMER"], direction=TO, only_ids=[c.pk for c in customers])
    assert len(jobs) == 2
    assert [len(kwargs["only_ids"]) for _, kwargs, _ in sent] == [2, 1]


def test_task_fills_the_queued_job_and_a_redelivery_does_nothing(customers, mappings,
                                                                 django_capture_on_commit_callbacks):
    mapping = mappings["CUSTOMER"]
    with django_capture_on_commit_callbacks(execute=True):
        (job,) = mapping_synchronize_enqueue(mapping=mapping, direction=TO, only_ids=[c.pk for c in customers],
                                           create_new=True)
    job.refresh_from_db()
    assert (job.status, job.inserted) == ("success", 3)
    assert Account.objects.count() == 3

    again = tasks.synchronize_mapping_task.apply(
        kwargs={"mapping_id": mapping.pk, "direction": TO, "only_ids": [str(c.pk) for c in customers],
                "job_ids": [job.pk]}).get()
    assert again["already_done"] == [job.pk]
    assert SyncJob.objects.filter(mapping_name="CUSTOMER").count() == 1
    assert Account.objects.count() == 3


def test_a_job_interrupted_by_a_dead_worker_is_failed_and_run_again(customers, mappings):
    mapping = mappings["CUSTOMER"]
    job = SyncJob.objects.create(table_mapping=mapping, mapping_name=mapping.name, direction=TO,
                                 status=SyncJob.Status.RUNNING, started_at=timezone.now())
    result = tasks.synchronize_mapping_task.apply(
        kwargs={"mapping_id": mapping.pk, "direction": TO, "job_ids": [job.pk], "full": True,
                "create_new": True}).get()
    job.refresh_from_db()
    assert job.status == "failed" and "stopped (killed or crashed)" in job.message
    (new_job,) = result["jobs"]
    assert SyncJob.objects.get(pk=new_job).status == "success"
    assert Account.objects.count() == 3


def test_a_running_job_under_a_live_lock_is_left_to_its_worker(customers, mappings):
    mapping = mappings["CUSTOMER"]
    with holding() as worker:  # a live process holding the mapping (and its job)
        job = SyncJob.objects.create(table_mapping=mapping, mapping_name=mapping.name, direction=TO,
                                     status=SyncJob.Status.RUNNING, started_at=timezone.now(), holder=worker.token)
        IntegrationTableMapping.objects.filter(pk=mapping.pk).update(locked_by=worker.token, locked_at=timezone.now())
        result = tasks.synchronize_mapping_task.apply(
            kwargs={"mapping_id": mapping.pk, "direction": TO, "job_ids": [job.pk]}).get()
    assert result["already_done"] == [job.pk]
    job.refresh_from_db()
    assert job.status == "running"


def test_scheduled_run_is_skipped_while_another_run_holds_the_mapping(mappings, another_run):
    mapping = mappings["CUSTOMER"]
    another_run(mapping)
    result = tasks.synchronize_mapping_task.apply(kwargs={"mapping_id": mapping.pk}).get()
    assert "being synchronised" in result["skipped"]
    assert not SyncJob.objects.filter(mapping_name="CUSTOMER").exists()


def test_disabled_mapping_fails_its_queued_jobs(mappings):
    mapping = mappings["CUSTOMER"]
    job = SyncJob.objects.create(table_mapping=mapping, mapping_name=mapping.name, direction=TO)
    IntegrationTableMapping.objects.filter(pk=mapping.pk).update(is_enabled=False)
    tasks.synchronize_mapping_task.apply(kwargs={"mapping_id": mapping.pk, "job_ids": [job.pk]}).get()
    job.refresh_from_db()
    assert job.status == "failed"


# -- a mapping another run holds: wait, retry, give up -------------------------------------------------------------
@pytest.fixture
def lock_clock(monkeypatch):
    """The lock's wait loop without waiting: ``clock.on_sleep`` runs at each pause (say, the holder lets go);
    ``clock.fast`` makes every wait time out at once."""
    import time
    from types import SimpleNamespace

    from integration.engine import locks

    clock = SimpleNamespace(on_sleep=None, fast=False, now=time.monotonic())

    def monotonic():
        if clock.fast:
            clock.now += 3600
        return clock.now

    def sleep(seconds):
        clock.now += seconds
        if clock.on_sleep:
            clock.on_sleep()

    monkeypatch.setattr(locks, "time", SimpleNamespace(monotonic=monotonic, sleep=sleep))
    return clock


def test_a_chunk_waits_for_the_lock_and_runs_when_the_chunk_before_it_lets_go(customers, mappings, lock_clock,
                                                                             another_run):
    mapping = mappings["CUSTOMER"]
    job = SyncJob.objects.create(table_mapping=mapping, mapping_name=mapping.name, direction=TO)
    previous = another_run(mapping)
    waited = []

    def previous_chunk_done():
        waited.append(True)
        previous.finish()

    lock_clock.on_sleep = previous_chunk_done
    tasks.synchronize_mapping_task.apply(kwargs={
        "mapping_id": mapping.pk, "direction": TO, "only_ids": [str(c.pk) for c in customers], "job_ids": [job.pk],
        "create_new": True}).get()  # no Retry: it waited instead of coming back in 30 s
    job.refresh_from_db()
    assert waited and (job.status, job.inserted) == ("success", 3)


def test_a_busy_mapping_is_retried_with_its_jobs_left_queued(customers, mappings, lock_clock, another_run):
    from celery.exceptions import Retry

    lock_clock.fast = True
    mapping = mappings["CUSTOMER"]
    job = SyncJob.objects.create(table_mapping=mapping, mapping_name=mapping.name, direction=TO)
    another_run(mapping)
    with pytest.raises(Retry):  # eager mode propagates it; a worker runs the task again in 30 s
        tasks.synchronize_mapping_task.apply(kwargs={
            "mapping_id": mapping.pk, "direction": TO, "only_ids": [str(customers[0].pk)], "job_ids": [job.pk]},
            retries=tasks.MAPPING_BUSY_MAX_RETRIES - 1)
    job.refresh_from_db()
    assert job.status == "queued"


def test_a_sync_task_that_gives_up_fails_its_still_queued_jobs(customers, mappings, lock_clock, another_run):
    lock_clock.fast = True
    mapping = mappings["CUSTOMER"]
    queued = SyncJob.objects.create(table_mapping=mapping, mapping_name=mapping.name, direction=TO)
    done = SyncJob.objects.create(table_mapping=mapping, mapping_name=mapping.name, direction="from_integration",
                                  status=SyncJob.Status.SUCCESS, finished_at=timezone.now())
    another_run(mapping)
    result = tasks.synchronize_mapping_task.apply(kwargs={
        "mapping_id": mapping.pk, "only_ids": [str(customers[0].pk)], "job_ids": [queued.pk, done.pk]},
        retries=tasks.MAPPING_BUSY_MAX_RETRIES).get()  # the last try
    queued.refresh_from_db()
    done.refresh_from_db()
    tries = tasks.MAPPING_BUSY_MAX_RETRIES + 1
    expected = f"Mapping CUSTOMER stayed busy: gave up after {tries} tries; synchronise again."
    assert (queued.status, queued.message) == ("failed", expected) and queued.finished_at
    assert result["gave_up"] == expected
    assert done.status == "success"  # only the jobs still queued


def test_a_coupling_task_waiting_for_a_busy_mapping_keeps_its_job_queued_then_gives_up(customers, mappings,
                                                                                      lock_clock, another_run):
    from celery.exceptions import Retry

    lock_clock.fast = True
    mapping = mappings["CUSTOMER"]
    job = SyncJob.objects.create(table_mapping=mapping, mapping_name=mapping.name, direction=TO,
                                 type=SyncJob.Type.COUPLING)
    another_run(mapping)
    kwargs = {"mapping_id": mapping.pk, "job_id": job.pk, "create_new": False}
    with pytest.raises(Retry):
        tasks.couple_by_match_task.apply(kwargs=kwargs)
    job.refresh_from_db()
    assert (job.status, job.started_at) == ("queued", None)  # the retry will run it (a running job it would skip)

    result = tasks.couple_by_match_task.apply(kwargs=kwargs, retries=tasks.MAPPING_BUSY_MAX_RETRIES).get()
    job.refresh_from_db()
    assert job.status == "failed" and job.finished_at
    assert job.message == ("Mapping CUSTOMER stayed busy: gave up after 21 tries; run the match-based coupling "
                           "again.") == result["gave_up"]
    assert not Coupling.objects.filter(erp_model="erp.Customer").exists()


def test_couple_by_match_later_couples_in_the_background_once(customers, mappings,
                                                             django_capture_on_commit_callbacks):
    for customer in customers[:2]:
        AccountFactory(name=customer.name, emailaddress1=customer.email)
    mapping = mappings["CUSTOMER"]
    with django_capture_on_commit_callbacks(execute=True):
        (job,) = mapping_couple_by_match_enqueue(mapping=mapping, create_new=False)
        assert job.status == "queued" and job.type == "coupling"
    job.refresh_from_db()
    assert job.coupled == 2
    assert Coupling.objects.filter(erp_model="erp.Customer").count() == 2

    again = tasks.couple_by_match_task.apply(kwargs={"mapping_id": mapping.pk, "job_id": job.pk}).get()
    assert again["already_done"] is True


def test_couple_by_match_later_from_the_sales_records_carries_the_side_to_the_task(customers, mappings, sent,
                                                                                   django_capture_on_commit_callbacks):
    accounts = [AccountFactory(name=c.name, emailaddress1=c.email.upper()) for c in customers[:2]]
    mapping = mappings["CUSTOMER"]
    with django_capture_on_commit_callbacks(execute=True):
        (job,) = mapping_couple_by_match_enqueue(mapping=mapping, only_ids=[a.pk for a in accounts], create_new=False,
                                               from_side="crm")
    assert (job.status, job.direction) == ("queued", "from_integration")
    [(name, kwargs, _countdown)] = sent
    assert name == task_names.COUPLE_BY_MATCH and kwargs["from_side"] == "crm"
    assert kwargs["only_ids"] == [str(a.pk) for a in accounts]  # ids, not objects

    result = tasks.couple_by_match_task.apply(kwargs=kwargs).get()  # what the worker runs
    job.refresh_from_db()
    assert result["job"] == job.pk and (job.status, job.coupled) == ("success", 2)
    assert {c.crm_id for c in Coupling.objects.filter(erp_model="erp.Customer")} == {a.pk for a in accounts}


def test_couple_by_match_later_refuses_a_side_the_mapping_does_not_read_before_queueing(mappings, sent):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        mapping_couple_by_match_enqueue(mapping=mappings["SALESPEOPLE"], from_side="erp")
    assert sent == [] and not SyncJob.objects.exists()


def test_create_new_travels_to_the_task_and_skips_what_is_coupled_by_then(customers, mappings, sent,
                                                                          django_capture_on_commit_callbacks):
    from integration.coupling.couplings import coupling_create

    new, coupled = AccountFactory(name="New One"), AccountFactory(name="Coupled One")
    mapping = mappings["CUSTOMER"]
    with django_capture_on_commit_callbacks(execute=True):
        (job,) = mapping_synchronize_enqueue(mapping=mapping, direction="from_integration",
                                           only_ids=[new.pk, coupled.pk], full=True, create_new=True,
                                           skip_coupled=True)
    [(_name, kwargs, _countdown)] = sent
    assert kwargs["create_new"] is True and kwargs["skip_coupled"] is True
    coupling_create(erp_record=customers[0], crm_record=coupled)  # coupled before the worker gets to it

    tasks.synchronize_mapping_task.apply(kwargs=kwargs).get()
    job.refresh_from_db()
    assert (job.inserted, job.skipped, job.failed) == (1, 1, 0)
    assert Coupling.objects.get(crm_id=coupled.pk).erp_id == customers[0].pk
    assert Coupling.objects.filter(crm_id=new.pk).exists()
