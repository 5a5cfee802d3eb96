"""A lock dies with the process holding it; a job, a full synchronisation line or a project run whose process
stopped is closed or queued again (engine/locks.py, integration/operations/stopped_runs.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.models import Account
from erp.models import Customer
from integration import task_names, tasks
from integration.engine.locks import MappingBusy, holding, mapping_lock
from integration.engine.sync import mapping_synchronize
from integration.models import Coupling, FullSyncLine, FullSyncRun, IntegrationTableMapping, SyncJob
from tests.concurrency import dead_holder_token

pytestmark = pytest.mark.django_db

TO = "to_integration"
STOPPED = "The process running it stopped (killed or crashed) at"


def customers(n, salesperson):
    return [Customer.objects.create(name=f"Customer {i}", salesperson=salesperson) for i in range(n)]


def claim(mapping, token, at):
    IntegrationTableMapping.objects.filter(pk=mapping.pk).update(locked_by=token, locked_at=at)


def running_job(mapping, holder):
    return SyncJob.objects.create(table_mapping=mapping, mapping_name=mapping.name, direction=TO, holder=holder,
                                  status=SyncJob.Status.RUNNING, started_at=timezone.now(), inserted=4)


def test_a_claim_whose_process_is_gone_is_free_at_once_and_its_job_is_closed(mappings, salesperson_pair):
    """`kill -9` a moment ago: the next run starts at once and closes the job it left running, saying so."""
    mapping = mappings["CUSTOMER"]
    customers(3, salesperson_pair[0])
    dead = dead_holder_token()
    a_second_ago = timezone.now() - timedelta(seconds=1)
    claim(mapping, dead, a_second_ago)
    left = running_job(mapping, dead)

    (job,) = mapping_synchronize(mapping=mapping, direction=TO, full=True, create_new=True)

    assert job.status == SyncJob.Status.SUCCESS and job.inserted == 3
    left.refresh_from_db()
    assert left.status == SyncJob.Status.FAILED and left.finished_at is not None
    assert left.message.startswith(STOPPED) and "the chunks it committed stay" in left.message
    assert left.inserted == 4  # what it had committed and counted stays on the job
    mapping.refresh_from_db()
    assert mapping.locked_by == ""


def test_a_claim_of_a_live_run_is_refused_naming_its_process(mappings):
    mapping = mappings["CUSTOMER"]
    busy = pytest.raises(MappingBusy, match=r"being synchronised by another run \(since .*process \d+ on host")
    with mapping_lock(mapping), busy:
        mapping_synchronize(mapping=mapping, direction=TO)


@pytest.mark.sqlite_only  # on PostgreSQL the advisory lock decides, not the heartbeat
def test_a_claim_from_another_machine_is_free_once_its_heartbeat_is_a_minute_old(mappings):
    mapping = mappings["CUSTOMER"]
    claim(mapping, "other-host:4242:abc", timezone.now() - timedelta(seconds=20))
    with pytest.raises(MappingBusy):
        mapping_synchronize(mapping=mapping, direction=TO)
    claim(mapping, "other-host:4242:abc", timezone.now() - timedelta(seconds=61))
    (job,) = mapping_synchronize(mapping=mapping, direction=TO)
    assert job.status == SyncJob.Status.SUCCESS


def test_a_run_that_failed_in_this_process_frees_its_claim(mappings, monkeypatch):
    """An exception inside the run releases the lock; a leftover claim of this process's ended run is free too."""
    mapping = mappings["CUSTOMER"]
    with pytest.raises(RuntimeError), mapping_lock(mapping) as token:
        raise RuntimeError("boom")
    mapping.refresh_from_db()
    assert mapping.locked_by == ""
    claim(mapping, token, timezone.now())  # as if the release itself had failed
    (job,) = mapping_synchronize(mapping=mapping, direction=TO)
    assert job.status == SyncJob.Status.SUCCESS


def test_the_periodic_check_closes_stopped_jobs_and_leaves_live_ones(mappings, django_capture_on_commit_callbacks):
    mapping = mappings["CUSTOMER"]
    dead = dead_holder_token()
    stopped = running_job(mapping, dead)
    sales_order_job = running_job(mappings["CURRENCY"], "")  # run without a holder (not a mapping run): left alone
    run = FullSyncRun.objects.create(status=FullSyncRun.Status.RUNNING)
    line = FullSyncLine.objects.create(run=run, mapping=mapping, mapping_name=mapping.name, state="running",
                                       recommendation="full_synchronization", claim=dead,
                                       started_at=timezone.now() - timedelta(seconds=3), from_job=stopped)
    with holding() as worker:
        live = running_job(mappings["CONTACT"], worker.token)
        with django_capture_on_commit_callbacks() as queued:
            counts = tasks.close_stopped_runs_task.apply().get()
        live.refresh_from_db()
        assert live.status == SyncJob.Status.RUNNING

    assert counts == {"jobs": 1, "project_runs": 0, "full_sync_lines": 1, "intents_adopted": 0, "intents_forgotten": 0}
    stopped.refresh_from_db()
    sales_order_job.refresh_from_db()
    line.refresh_from_db()
    assert stopped.status == SyncJob.Status.FAILED and "stopped (killed or crashed)" in stopped.message
    assert sales_order_job.status == SyncJob.Status.RUNNING
    assert (line.state, line.claim) == ("waiting", "") and len(queued) == 1  # queued again for the next worker
    # The live job's holder has ended meanwhile without closing it: the next check closes it.
    assert tasks.close_stopped_runs_task.apply().get() == {
        "jobs": 1, "project_runs": 0, "full_sync_lines": 0, "intents_adopted": 0, "intents_forgotten": 0}


def test_the_periodic_check_is_on_beat_every_minute():
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import ModelEntry

    from p2c.celery import app

    # What the DatabaseScheduler of `celery worker --beat` does with the settings' schedule when it starts.
    for name, entry in app.conf.beat_schedule.items():
        ModelEntry.from_entry(name, app=app, **entry)
    task = PeriodicTask.objects.get(task=task_names.CLOSE_STOPPED_RUNS)
    assert task.enabled and task.interval.every * {"seconds": 1, "minutes": 60}[task.interval.period] == 60


def test_a_coupling_job_counts_what_each_chunk_committed(mappings, salesperson_pair, settings, monkeypatch):
    """A coupling killed after its first chunk tells what it coupled; the next run closes it and goes on."""
    from integration.coupling import couplings as coupling

    settings.P2C_SYNC_CHUNK_SIZE = 5
    salesperson, user = salesperson_pair
    mapping = mappings["CUSTOMER"]
    mapping.field_mappings.filter(erp_field="name").update(use_for_match_coupling=True)
    for i in range(12):
        Customer.objects.create(name=f"Twin {i}", salesperson=salesperson)
        Account.objects.create(name=f"Twin {i}", customer_type_code="customer", owner=user)
    real, calls = coupling.matches_find, []

    def die_on_the_second_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise SystemExit("killed")  # the process goes: nothing after this line runs
        return real(*args, **kwargs)

    monkeypatch.setattr(coupling, "matches_find", die_on_the_second_chunk)
    with pytest.raises(SystemExit):
        coupling.mapping_couple_by_match(mapping=mapping, sync_after=False)
    killed = SyncJob.objects.get(type="coupling")
    assert (killed.status, killed.coupled) == (SyncJob.Status.RUNNING, 5)  # its first chunk, counted

    monkeypatch.setattr(coupling, "matches_find", real)
    again = coupling.mapping_couple_by_match(mapping=mapping, sync_after=False)
    killed.refresh_from_db()
    assert killed.status == SyncJob.Status.FAILED and "stopped (killed or crashed)" in killed.message
    assert again.coupled == 7 and Coupling.objects.filter(erp_model="erp.Customer").count() == 12


def test_a_run_reads_its_claim_after_each_chunk_and_moves_the_heartbeat_every_few_seconds(mappings, salesperson_pair,
                                                                                           settings, monkeypatch):
    """Every worker of a partitioned run checks the claim after each chunk: with an UPDATE each time they would queue
    on the mapping's one row. A heartbeat HEARTBEAT_EVERY old is moved."""
    from integration.engine import locks

    mapping = mappings["CUSTOMER"]
    settings.P2C_SYNC_CHUNK_SIZE = 2
    customers(6, salesperson_pair[0])
    beats = []
    real_update = IntegrationTableMapping.objects.none().__class__.update

    def update(queryset, **values):
        if queryset.model is IntegrationTableMapping and set(values) == {"locked_at"}:
            beats.append(values["locked_at"])
        return real_update(queryset, **values)

    monkeypatch.setattr(IntegrationTableMapping.objects.none().__class__, "update", update)
    with mapping_lock(mapping) as token:
        (job,) = mapping_synchronize(mapping=mapping, direction=TO, full=True, create_new=True, lock_token=token)
        assert job.status == SyncJob.Status.SUCCESS and job.inserted == 6
        assert len(beats) == 1  # the run's start, under the caller's lock; not one per chunk (3 chunks)

        six_seconds_ago = timezone.now() - locks.HEARTBEAT_EVERY - timedelta(seconds=1)
        IntegrationTableMapping.objects.filter(pk=mapping.pk).update(locked_at=six_seconds_ago)
        locks.mapping_lock_refresh(mapping, token)
        mapping.refresh_from_db()
        assert mapping.locked_at > six_seconds_ago

        IntegrationTableMapping.objects.filter(pk=mapping.pk).update(locked_by="another-run")
        with pytest.raises(locks.MappingLockLost, match="was taken over by another run"):
            locks.mapping_lock_refresh(mapping, token)  # a fresh heartbeat does not hide a lost claim


def test_a_mapping_is_free_the_moment_its_run_ends(mappings):
    """Runs of one mapping back to back, none waiting: each takes the lock the one before left. On PostgreSQL the
    lock was released only when the server ended the closed session, and a loaded machine's next run found it
    still held ("being synchronised by another run")."""
    from django.db import connections

    from integration.engine.locks import Holder

    mapping = mappings["CURRENCY"]
    for _ in range(20):
        with mapping_lock(mapping):
            pass
    holder = Holder()
    token = holder.token
    holder.close()
    if connections["default"].vendor == "postgresql":  # nothing of the holder's left in pg_locks, at once
        from integration.engine.locks import holders_alive

        assert holders_alive({token: None}) == set()
