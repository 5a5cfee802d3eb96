"""One mapping's run split into key-range partitions that any worker claims (docs/decisions.md#partitions,
integration/full_sync/partitions.py).

In process on SQLite (and whatever database the run has): a partitioned run gives exactly the couplings, destination
rows, errors, job counts and watermark of a single-process run; a partition whose worker died is claimed again;
hypothesis over the partition boundaries. On PostgreSQL with Redis: the same comparison with two real Celery worker
processes, and a worker killed mid-run (its partition taken over, no duplicate).
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from io import StringIO
from itertools import pairwise

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from crm.models import Account
from erp.models import Customer
from integration.engine.locks import HOST, mapping_lock
from integration.engine.sync import WATERMARK_MARGIN, job_create, mapping_synchronize
from integration.full_sync.partitions import (
    mapping_synchronize_partitioned,
    partition_claim,
    partition_run,
    partitioned_job_finish,
    partitions_plan,
    uncoupled_partition_run,
)
from integration.full_sync.partitions_progress import partitions_progress, partitions_progress_of
from integration.full_sync.review import _job_dict
from integration.models import Coupling, FailedInsert, IntegrationTableMapping, SyncJob, SyncJobError, SyncPartition
from tests.concurrency import REPO
from tests.databases import rolled_back
from tests.integration.partitions_world import FROM, PAIR, Coordinator, accounts_create, wipe
from tests.workers import wait_until, worker_stop


def snapshot(mapping):
    """Everything a run leaves: couplings (account → its customer's values), the customers, the errors, the jobs'
    counts and the watermark."""
    customers = {c.pk: (c.name, c.email, c.phone_no, c.salesperson_id) for c in Customer.objects.all()}
    couplings = {str(c.crm_id): (customers[c.erp_id], c.last_erp_result, c.skipped)
                 for c in Coupling.objects.filter(**PAIR)}
    errors = sorted(SyncJobError.objects.values_list("source_id", "message"))
    failed_inserts = sorted(FailedInsert.objects.values_list("source_id", "message", "skipped"))
    jobs = [(job.direction, job.status, job.counts()) for job in SyncJob.objects.order_by("pk")]
    mapping.refresh_from_db()
    return {"couplings": couplings, "customers": sorted(customers.values()), "errors": errors,
            "failed_inserts": failed_inserts, "jobs": jobs,
            "watermark just past the last row read": watermark_past_last_row(mapping)}


def watermark_past_last_row(mapping, started=None):
    """Whether the mapping's Sales watermark lies past the latest change read by the margin kept for late commits,
    or at the run's start when that came sooner (engine.sync.watermark_after)."""
    latest = max(Account.objects.values_list("modifiedon", flat=True))
    mapping.refresh_from_db()
    if started is not None:
        return mapping.crm_watermark == min(latest + WATERMARK_MARGIN, started)
    return latest < mapping.crm_watermark <= latest + WATERMARK_MARGIN


def scenario(mapping, salesperson_pair, run):
    """A full run of 40 accounts (some failing), then an incremental run after 14 changed and 6 new; the snapshot
    after each."""
    _, owner = salesperson_pair
    accounts_create(owner, 40)
    run(full=True)
    first = snapshot(mapping)
    changed = list(Account.objects.order_by("pk").values_list("pk", flat=True)[3:31:2])
    Account.objects.filter(pk__in=changed).update(name="Changed", modifiedon=timezone.now())
    accounts_create(owner, 6, start=100, failing_every=0)
    run(full=False)
    return first, snapshot(mapping)


def in_savepoint(body):
    """``body()`` in a savepoint of each database (Sales may have its own), rolled back."""
    with rolled_back():
        result = body()
    return result


@pytest.mark.django_db
def test_a_partitioned_run_leaves_exactly_what_a_single_process_run_leaves(customer_mapping, salesperson_pair,
                                                                          settings):
    settings.P2C_SYNC_PARTITION_SIZE = 3
    mapping = customer_mapping

    def single(full):
        mapping.refresh_from_db()
        mapping_synchronize(mapping=mapping, direction=FROM, full=full)

    def partitioned(full):
        mapping.refresh_from_db()
        mapping_synchronize_partitioned(mapping=mapping, direction=FROM, full=full, workers=3)

    expected = in_savepoint(lambda: scenario(mapping, salesperson_pair, single))
    got = in_savepoint(lambda: scenario(mapping, salesperson_pair, partitioned))
    assert not SyncPartition.objects.exists()  # rolled back with the rest
    assert expected[0]["jobs"][0][2]["failed"] > 0 and expected[1]["jobs"][1][2]["modified"] > 0
    for step in (0, 1):
        for key in expected[step]:
            assert got[step][key] == expected[step][key], (step, key)


@pytest.mark.django_db
def test_a_partitioned_job_shows_its_partitions_and_counts_once(customer_mapping, salesperson_pair, settings):
    settings.P2C_SYNC_PARTITION_SIZE = 5
    _, owner = salesperson_pair
    accounts_create(owner, 23, failing_every=0)
    [job] = mapping_synchronize_partitioned(mapping=customer_mapping, direction=FROM, full=True, workers=2)
    assert (job.status, job.inserted, job.failed) == ("success", 23, 0)
    assert job.message.endswith("(5 partitions)")
    progress = partitions_progress(job)
    assert (progress["done"], progress["total"], progress["rows"]) == (5, 5, 23)
    out = StringIO()
    call_command("sync_status", stdout=out)
    assert "5/5 partitions done" in out.getvalue() and "rows/s" in out.getvalue()


def _uncoupled_customer_checks(queries):
    """The queries asking whether any customer has no coupling (an anti-join over the whole customer table)."""
    return [q["sql"] for q in queries if 'FROM "erp_customer"' in q["sql"] and "NOT EXISTS" in q["sql"].upper()]


@pytest.mark.django_db
def test_a_partitioned_run_asks_once_whether_customers_are_uncoupled_and_matches_them_in_every_partition(
        customer_mapping, salesperson_pair, settings):
    settings.P2C_SYNC_PARTITION_SIZE = 5
    salesperson, owner = salesperson_pair
    accounts_create(owner, 30, failing_every=0)
    with CaptureQueriesContext(connection) as first_load:
        [job] = mapping_synchronize_partitioned(mapping=customer_mapping, direction=FROM, full=True, workers=2)
    assert (job.status, job.inserted, job.message.endswith("(6 partitions)")) == ("success", 30, True)
    assert len(_uncoupled_customer_checks(first_load.captured_queries)) == 1  # not once per partition
    # nothing to match: no case-insensitive read of the customers (the rules' currency lookup has its own)
    assert not [q["sql"] for q in first_load.captured_queries
                if "LOWER(" in q["sql"].upper() and '"erp_customer"' in q["sql"]]

    # ERP customers made by hand, uncoupled, with the names of accounts in different partitions: each partition
    # that holds one of those accounts couples it to its customer, and creates no second one.
    Coupling.objects.filter(**PAIR).delete()
    Customer.objects.all().delete()
    named = ["Account 2", "Account 13", "Account 27"]
    hand_made = {name: Customer.objects.create(name=name.upper(), salesperson=salesperson).pk for name in named}
    customer_mapping.refresh_from_db()
    with CaptureQueriesContext(connection) as second:
        [job] = mapping_synchronize_partitioned(mapping=customer_mapping, direction=FROM, full=True, workers=2)
    assert (job.status, job.coupled, job.inserted) == ("success", 3, 27)
    assert len(_uncoupled_customer_checks(second.captured_queries)) == 1
    for name, pk in hand_made.items():
        account = Account.objects.get(name=name)
        assert Coupling.objects.get(**PAIR, crm_id=account.pk).erp_id == pk
    assert Customer.objects.count() == 30


@pytest.mark.django_db
def test_partitions_take_as_many_numbers_as_they_create_so_the_series_has_no_gap(customer_mapping, salesperson_pair,
                                                                                  settings):
    settings.P2C_SYNC_PARTITION_SIZE = 4
    _, owner = salesperson_pair
    accounts_create(owner, 17, failing_every=0)
    mapping_synchronize_partitioned(mapping=customer_mapping, direction=FROM, full=True, workers=2)
    Account.objects.filter(name__in=["Account 1", "Account 9"]).update(name="Changed", modifiedon=timezone.now())
    accounts_create(owner, 9, start=100, failing_every=0)  # new keys, after the others: in the last partitions
    customer_mapping.refresh_from_db()
    [job] = mapping_synchronize_partitioned(mapping=customer_mapping, direction=FROM, full=True, workers=2)

    assert (job.inserted, job.modified) == (9, 2)
    numbers = sorted(int(no[1:]) for no in Customer.objects.values_list("no", flat=True))
    assert numbers == list(range(10, 10 + 10 * 26, 10))  # taken ahead per partition, and every one used


@pytest.mark.django_db
def test_a_small_run_or_one_worker_is_not_partitioned(customer_mapping, salesperson_pair, settings):
    settings.P2C_SYNC_PARTITION_SIZE = 50
    _, owner = salesperson_pair
    accounts_create(owner, 23, failing_every=0)
    [job] = mapping_synchronize_partitioned(mapping=customer_mapping, direction=FROM, full=True, workers=4)
    assert job.inserted == 23 and not job.partitions.exists()
    settings.P2C_SYNC_PARTITION_SIZE = 5
    [job] = mapping_synchronize_partitioned(mapping=customer_mapping, direction=FROM, full=True, workers=1)
    assert job.unchanged == 23 and not job.partitions.exists()


@pytest.mark.django_db
def test_the_sync_command_runs_a_mapping_over_n_workers_and_refuses_a_bad_n(customer_mapping, salesperson_pair,
                                                                           settings):
    settings.P2C_SYNC_PARTITION_SIZE = 4
    _, owner = salesperson_pair
    accounts_create(owner, 10, failing_every=0)
    for bad in ("0", "-1", "many"):
        with pytest.raises(CommandError, match="argument --workers: "):
            call_command("sync", "CUSTOMER", "--direction", "from", "--workers", bad, stdout=StringIO())
    out = StringIO()
    call_command("sync", "CUSTOMER", "--direction", "from", "--workers", "2", "--full", stdout=out)
    assert "10 inserted" in out.getvalue() and "3/3 partitions done" in out.getvalue()
    assert Customer.objects.count() == 10


def test_the_sync_command_exits_non_zero_for_a_bad_number_of_workers():
    done = subprocess.run([sys.executable, "manage.py", "sync", "CUSTOMER", "--workers", "0"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "argument --workers: 0 is out of range: give a number from 1 to 1,000" in done.stderr


@pytest.mark.django_db
def test_a_partition_whose_worker_died_is_claimed_again_and_runs_once(customer_mapping, salesperson_pair, settings):
    _, owner = salesperson_pair
    accounts_create(owner, 12, failing_every=0)
    with mapping_lock(customer_mapping) as token:
        job = job_create(mapping=customer_mapping, direction=FROM, full=True)
        SyncJob.objects.filter(pk=job.pk).update(status="running", holder=token, started_at=timezone.now())
        job.refresh_from_db()
        assert partitions_plan(job=job, mapping=customer_mapping, size=5) == 3
        dead = f"{HOST}:{2**22 + 7}:deadbeef0000"  # a pid no process has: that worker is gone
        live = f"{HOST}:{os.getpid()}:another0000"  # this process's pid, a holder not open here: ended
        first = partition_claim(job_id=job.pk, token=dead)
        assert first.position == 0 and first.claim == dead
        # The dead worker's partition is taken over once the pending ones are claimed.
        claimed = [partition_claim(job_id=job.pk, token=token) for _ in range(3)]
        assert [p.position for p in claimed] == [1, 2, 0]
        assert claimed[2].attempts == 2
        assert partition_claim(job_id=job.pk, token=live) is None  # nothing left to claim
        for partition in claimed:
            assert partition_run(partition=partition, token=token) == "done"
        # The dead worker comes back: its claim is gone, it records nothing and counts nothing twice.
        assert partition_run(partition=first, token=dead) is None
        job = partitioned_job_finish(job_id=job.pk)
    assert (job.status, job.inserted) == ("success", 12)
    assert Customer.objects.count() == Coupling.objects.filter(**PAIR).count() == 12


@pytest.mark.django_db
def test_the_watermark_moves_only_when_every_partition_is_done(customer_mapping, salesperson_pair, settings):
    _, owner = salesperson_pair
    accounts_create(owner, 9, failing_every=0)
    with mapping_lock(customer_mapping) as token:
        job = job_create(mapping=customer_mapping, direction=FROM, full=True)
        SyncJob.objects.filter(pk=job.pk).update(status="running", holder=token, started_at=timezone.now())
        job.refresh_from_db()
        partitions_plan(job=job, mapping=customer_mapping, size=4)
        partition_run(partition=partition_claim(job_id=job.pk, token=token), token=token)
        assert partitioned_job_finish(job_id=job.pk) is None  # two partitions not done
        SyncPartition.objects.filter(job=job, state="pending").update(state="failed", message="boom")
        job = partitioned_job_finish(job_id=job.pk)
    assert job.status == "failed" and "2 of 3 partitions failed" in job.message
    customer_mapping.refresh_from_db()
    assert customer_mapping.crm_watermark is None
    # The next run resumes the job: the failed partitions run, the done one does not; then the watermark moves.
    [again] = mapping_synchronize_partitioned(mapping=customer_mapping, direction=FROM, full=True, workers=2)
    assert again.pk == job.pk and (again.status, again.inserted) == ("success", 9)
    assert watermark_past_last_row(customer_mapping, started=again.started_at)


@pytest.mark.django_db
def test_a_run_whose_coordinator_died_after_the_last_partition_is_closed_by_the_next_run(customer_mapping,
                                                                                        salesperson_pair):
    _, owner = salesperson_pair
    accounts_create(owner, 8, failing_every=0)
    with mapping_lock(customer_mapping) as token:
        job = job_create(mapping=customer_mapping, direction=FROM, full=True)
        SyncJob.objects.filter(pk=job.pk).update(status="running", holder=token, started_at=timezone.now())
        job.refresh_from_db()
        partitions_plan(job=job, mapping=customer_mapping, size=4)
        while (partition := partition_claim(job_id=job.pk, token=token)) is not None:
            partition_run(partition=partition, token=token)
    # Its coordinator died before closing the job: the check of stopped runs closed it as failed.
    SyncJob.objects.filter(pk=job.pk).update(status="failed", finished_at=timezone.now(), message="stopped")
    [again] = mapping_synchronize_partitioned(mapping=customer_mapping, direction=FROM, full=True, workers=2)
    assert again.pk == job.pk and (again.status, again.inserted) == ("success", 8)
    assert set(again.partitions.values_list("attempts", flat=True)) == {1}  # nothing ran twice
    assert watermark_past_last_row(customer_mapping, started=again.started_at)


@pytest.mark.django_db
@hypothesis_settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(0, 13), size=st.integers(1, 5), deleted=st.sets(st.integers(0, 12), max_size=6),
       when=st.sampled_from(["before the plan", "after the claim"]))
def test_partition_boundaries_hold_for_any_size_and_deleted_rows(customer_mapping, salesperson_pair, n, size,
                                                                 deleted, when):
    _, owner = salesperson_pair
    with rolled_back():  # each example rolled back in each database (Sales may have its own)
        accounts_create(owner, n, failing_every=0)
        doomed = {uuid.UUID(int=i + 1) for i in deleted if i < n}
        if when == "before the plan":
            Account.objects.filter(pk__in=doomed).delete()
        with mapping_lock(customer_mapping) as token:
            job = job_create(mapping=customer_mapping, direction=FROM, full=True)
            SyncJob.objects.filter(pk=job.pk).update(status="running", holder=token, started_at=timezone.now())
            job.refresh_from_db()
            count = partitions_plan(job=job, mapping=customer_mapping, size=size)
            left = n - len(doomed)
            assert count == max(1, -(-(left if when == "before the plan" else n) // size))
            ranges = list(SyncPartition.objects.filter(job=job).values_list("low", "high"))
            assert ranges[0][0] == "" and ranges[-1][1] == ""  # the ranges tile the whole key space
            assert all(a[1] == b[0] != "" for a, b in pairwise(ranges))
            while (partition := partition_claim(job_id=job.pk, token=token)) is not None:
                if when == "after the claim":  # deleted between the claim and the run: simply not there
                    Account.objects.filter(pk__in=doomed).delete()
                assert partition_run(partition=partition, token=token) == "done"
            job = partitioned_job_finish(job_id=job.pk)
        assert (job.status, job.inserted, job.failed) == ("success", left, 0)
        couplings = Coupling.objects.filter(**PAIR)
        assert couplings.count() == Customer.objects.count() == left
        assert not couplings.values("crm_id").annotate(n=Count("pk")).filter(n__gt=1).exists()
        assert {str(pk) for pk in couplings.values_list("crm_id", flat=True)} == {
            str(pk) for pk in Account.objects.values_list("pk", flat=True)} or left == 0


@pytest.mark.django_db
def test_the_full_sync_review_shows_partitions_done_and_rows_per_second(customer_mapping, salesperson_pair, settings):
    settings.P2C_SYNC_PARTITION_SIZE = 4
    _, owner = salesperson_pair
    accounts_create(owner, 9, failing_every=0)
    [job] = mapping_synchronize_partitioned(mapping=customer_mapping, direction=FROM, full=True, workers=2)
    shown = _job_dict(job, partitions_progress_of([job]))
    assert shown["partitions"]["done"] == shown["partitions"]["total"] == 3
    assert shown["partitions_text"].startswith("3/3 partitions done, ")


# -- PostgreSQL and Redis: real Celery worker processes -------------------------------------------------------------
ROWS = 3000


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_run_loses_nothing_and_duplicates_nothing(customer_mapping, salesperson_pair, settings,
                                                                      celery_workers):
    settings.P2C_SYNC_PARTITION_SIZE = 500
    settings.P2C_SYNC_CHUNK_SIZE = 10  # a partition long enough, in small commits, to be caught in the middle
    _, owner = salesperson_pair
    # A first load, split from the start: no customer is left from before, uncoupled, for the run to match (that
    # would have the coordinator decide every account itself, before any worker starts: docs/decisions.md#partitions)
    wipe(customer_mapping)
    assert not Customer.objects.exists()
    accounts_create(owner, ROWS, failing_every=0)
    workers = celery_workers(2)
    coordinator = Coordinator(customer_mapping, workers=2)
    coordinator.start()
    worker_of_process = {worker.pid: worker for worker in workers}

    def worker_of(pid):
        """The worker whose pool process ``pid`` is (its parent), asked when its claim is seen: a child listed
        while the worker starts may be gone by then, replaced by the pool process that runs the task."""
        try:
            with open(f"/proc/{pid}/stat") as stat:
                return worker_of_process.get(int(stat.read().rpartition(")")[2].split()[1]))
        except (FileNotFoundError, ValueError):
            return None

    def worker_mid_partition():
        # Whichever worker holds a partition after one of its chunks committed and before the partition is done: the
        # broker decides which worker gets how many partitions, so waiting for one chosen in advance can miss them all.
        claims = SyncPartition.objects.filter(state="running", rows__gt=0).values_list("claim", flat=True)
        caught = next((worker for claim in claims if (worker := worker_of(claim.split(":")[1]))), None)
        if caught is None and not coordinator.is_alive():
            pytest.fail(f"the run ended before a worker was caught mid-partition: {coordinator.error} "
                        f"{list(SyncPartition.objects.values_list('position', 'rows_coupled', 'rows', 'claim'))}")
        return caught

    victim = wait_until(worker_mid_partition, 120, "no worker was caught mid-partition", poll=0.01)
    worker_stop(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    coordinator.join(timeout=300)
    assert not coordinator.is_alive() and coordinator.error is None, coordinator.error
    [job] = coordinator.jobs
    print(f"\nrun finished {time.monotonic() - killed_at:.1f} s after a worker was killed; "
          f"{job.partitions.filter(attempts__gt=1).count()} partition(s) run again")
    assert job.status == "success", job.message
    assert job.partitions.filter(attempts__gt=1).exists(), "the killed worker's partition was taken over"
    couplings = Coupling.objects.filter(**PAIR)
    assert couplings.count() == Customer.objects.count() == ROWS, "a duplicate or missing customer"
    assert couplings.values("crm_id").distinct().count() == ROWS
    assert couplings.values("erp_id").distinct().count() == ROWS
    assert job.inserted + job.unchanged + job.modified == ROWS


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_two_real_workers_leave_exactly_what_one_process_leaves(customer_mapping, salesperson_pair, settings,
                                                                celery_workers):
    settings.P2C_SYNC_PARTITION_SIZE = 250
    _, owner = salesperson_pair
    accounts_create(owner, ROWS)
    [single] = mapping_synchronize(mapping=customer_mapping, direction=FROM, full=True)
    expected = snapshot(customer_mapping)
    wipe(customer_mapping)

    celery_workers(2)
    coordinator = Coordinator(customer_mapping, workers=2)
    coordinator.start()
    coordinator.join(timeout=300)
    assert not coordinator.is_alive() and coordinator.error is None, coordinator.error
    [job] = coordinator.jobs
    got = snapshot(customer_mapping)
    assert (job.status, job.counts()) == (single.status, single.counts())
    assert got == expected
    claims = set(SyncPartition.objects.filter(job=job).values_list("claim", flat=True))
    print(f"\n{job.partitions.count()} partitions run by {len(claims)} worker holders")
    assert len(claims) == 2, "both worker processes ran partitions"


@pytest.mark.django_db
def test_a_partitioned_run_into_sales_moves_its_deletion_check_when_every_partition_is_done(customer_mapping,
                                                                                           salesperson_pair, settings):
    settings.P2C_SYNC_PARTITION_SIZE = 4
    salesperson, _ = salesperson_pair
    Customer.objects.bulk_create([Customer(no=f"P{i:03d}", name=f"Customer {i}", salesperson=salesperson)
                                  for i in range(10)])

    [job] = mapping_synchronize_partitioned(mapping=customer_mapping, direction="to_integration", full=True, workers=2)

    customer_mapping.refresh_from_db()
    assert (job.status, job.inserted, job.partitions.count()) == ("success", 10, 3)
    # Every Sales deletion logged before the job began is behind the run (engine/reading.py reads the log from here)
    assert customer_mapping.crm_deletions_checked_on == job.started_at


# -- matching over partitions (docs/decisions.md#partitions) -----------------------------------------------------------
# Demo-shaped data: source rows that share a match value (an e-mail on two accounts), destination rows made by hand,
# uncoupled, that each of those source rows matches, destination rows that share one (no unique match), and rows
# that fail. Whatever the number of workers, and in whatever order they take the partitions, the same source row
# gets the same destination row, no destination row holds another source row's values, and every failure is a
# job error.
TO = "to_integration"
SIDES = {FROM: (Account, Customer, "crm_id", "erp_id"), TO: (Customer, Account, "erp_id", "crm_id")}


def _row(model, i, *, email, owner, salesperson, failing, key=None):
    """A row of ``model`` named for ``i``; ``failing``: one whose values the other side does not take (a phone
    number longer than the ERP's, a credit limit larger than Sales')."""
    if model is Account:
        return Account(id=uuid.UUID(int=key or i + 1), name=f"Name {i}", account_number=f"A{i:05d}",
                       emailaddress1=email, customer_type_code="customer", owner=owner,
                       telephone1="+46 8 555 " + ("1" * 40 if failing else f"{i:04d}"))
    return Customer(no=f"N{key or i:05d}", name=f"Name {i}", email=email, phone_no=f"+46 8 444 {i:04d}",
                    credit_limit_lcy=Decimal("9" * 16) if failing else 0, salesperson=salesperson)


def contested_world(direction, owner, salesperson, n=240):
    """Uncoupled source rows, every sixth sharing the e-mail of the one before (two source rows, one match value),
    and destination rows made by hand for every third: most match two source rows, every fifth shares its e-mail
    with another (no unique match), every seventh has none (it matches on the name). Some rows of each side fail.
    Returns the destination rows made by hand, by key."""
    source_model, dest_model, _, _ = SIDES[direction]
    people = {"owner": owner, "salesperson": salesperson}
    source_model.objects.bulk_create([
        _row(source_model, i, email=f"e{i - 1 if i % 6 == 1 else i}@example.com", failing=i % 37 == 36, **people)
        for i in range(n)])
    dest_model.objects.bulk_create([
        _row(dest_model, 3 * j, key=10_000 + j, failing=j % 29 == 28,
             email="" if j % 7 == 3 else f"e{3 * j if j % 5 else 3 * j - 3}@example.com", **people)
        for j in range(n // 3)])
    return {row.pk: row for row in dest_model.objects.all()}


def _values(row):
    return (row.name, row.emailaddress1, row.telephone1) if isinstance(row, Account) else (
        row.name, row.email, row.phone_no)


def outcome(direction, before):
    """What a run left, in terms that do not depend on keys a run chose: each source row's counterpart (a row that
    was there before, by key, or a new one) and that counterpart's values; the rows that were there before and stayed
    uncoupled, with their values; the jobs' counts and errors."""
    _, dest_model, source_id, dest_id = SIDES[direction]
    couplings = dict(Coupling.objects.filter(**PAIR).values_list(source_id, dest_id))
    dests = {row.pk: row for row in dest_model.objects.all()}
    pairs = {str(src): (dst if dst in before else "new", _values(dests[dst])) for src, dst in couplings.items()}
    coupled = set(couplings.values())
    uncoupled_before = {pk: _values(row) for pk, row in dests.items() if pk in before and pk not in coupled}
    new_uncoupled = [pk for pk in dests if pk not in before and pk not in coupled]
    jobs = list(SyncJob.objects.filter(table_mapping__name="CUSTOMER", direction=direction))
    counts = {name: sum(getattr(job, name) for job in jobs) for name in ("inserted", "modified", "coupled", "failed")}
    errors = sorted((e.source_id, e.message) for e in SyncJobError.objects.filter(job__in=jobs))
    return {"pairs": pairs, "uncoupled before": uncoupled_before, "new uncoupled": new_uncoupled, "counts": counts,
            "errors": errors}


def outcome_checked(direction, before_values, got):
    """The properties that hold for any number of workers: each coupled destination row holds its own source row's
    values, the rows left uncoupled hold what they held, no new row is left uncoupled, and every failure is an
    error of its job."""
    source_model = SIDES[direction][0]
    sources = {str(row.pk): _values(row) for row in source_model.objects.all()}
    for src, (_, values) in got["pairs"].items():
        assert values[0] == sources[src][0], f"{values} is coupled to {sources[src]}"
    assert got["uncoupled before"] == {pk: before_values[pk] for pk in got["uncoupled before"]}
    assert got["new uncoupled"] == []
    assert got["counts"]["failed"] == len(got["errors"]) > 0
    assert got["counts"]["coupled"] > 0 and any(dst != "new" for dst, _ in got["pairs"].values())


def world_reset(direction, before_rows):
    """Back to the state before the run: no coupling, the rows made by hand as they were, nothing else."""
    _, dest_model, _, _ = SIDES[direction]
    Coupling.objects.filter(**PAIR).delete()
    dest_model.objects.exclude(pk__in=list(before_rows)).delete()
    dest_model.objects.bulk_update(list(before_rows.values()), ["name", "email", "phone_no", "credit_limit_lcy"]
                                   if dest_model is Customer else ["name", "emailaddress1", "telephone1"])
    SyncJob.objects.all().delete()
    FailedInsert.objects.all().delete()
    IntegrationTableMapping.objects.filter(name="CUSTOMER").update(crm_watermark=None, erp_watermark=None)


def partitions_run_in_reverse(mapping, direction):
    """A partitioned run whose workers take the partitions last first, as a slow first worker would let happen."""
    with mapping_lock(mapping) as token:
        job = job_create(mapping=mapping, direction=direction, full=True)
        SyncJob.objects.filter(pk=job.pk).update(status="running", holder=token, started_at=timezone.now())
        job.refresh_from_db()
        partitions_plan(job=job, mapping=mapping)
        uncoupled_partition_run(job=job, token=token)  # what the coordinator does before it asks any worker
        for partition in job.partitions.filter(state="pending").order_by("-position"):
            SyncPartition.objects.filter(pk=partition.pk).update(state="running", claim=token)
            partition.refresh_from_db()
            partition_run(partition=partition, token=token)
        return partitioned_job_finish(job_id=job.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("direction", [FROM, TO])
def test_partitions_taken_in_any_order_couple_contested_records_as_one_process_does(
        customer_mapping, salesperson_pair, settings, direction):
    settings.P2C_SYNC_PARTITION_SIZE = 30
    settings.P2C_SYNC_CHUNK_SIZE = 20
    salesperson, owner = salesperson_pair
    before_rows = contested_world(direction, owner, salesperson)
    before_values = {pk: _values(row) for pk, row in before_rows.items()}

    [single] = mapping_synchronize(mapping=customer_mapping, direction=direction, full=True)
    expected = outcome(direction, before_rows)
    outcome_checked(direction, before_values, expected)
    for workers in (2, 4):
        world_reset(direction, before_rows)
        customer_mapping.refresh_from_db()
        [job] = mapping_synchronize_partitioned(mapping=customer_mapping, direction=direction, full=True,
                                                workers=workers)
        assert job.partitions.filter(rows_coupled=False).count() == 1, "the uncoupled rows are decided first"
        assert outcome(direction, before_rows) == expected, workers
    world_reset(direction, before_rows)
    customer_mapping.refresh_from_db()
    job = partitions_run_in_reverse(customer_mapping, direction)
    assert (job.status, job.counts()) == (single.status, single.counts())
    assert outcome(direction, before_rows) == expected


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("direction", [FROM, TO])
def test_real_workers_couple_contested_records_as_one_process_does(customer_mapping, salesperson_pair, settings,
                                                                   celery_workers, direction):
    """Two real worker processes, with 2 and with 4 tasks on the run (each claims partitions while there are any):
    the same couplings and rows as one process, whichever worker takes which partition when."""
    settings.P2C_SYNC_PARTITION_SIZE = 30
    settings.P2C_SYNC_CHUNK_SIZE = 20
    salesperson, owner = salesperson_pair
    before_rows = contested_world(direction, owner, salesperson)
    before_values = {pk: _values(row) for pk, row in before_rows.items()}
    mapping_synchronize(mapping=customer_mapping, direction=direction, full=True)
    expected = outcome(direction, before_rows)
    outcome_checked(direction, before_values, expected)
    celery_workers(2)
    for workers in (2, 4):
        world_reset(direction, before_rows)
        customer_mapping.refresh_from_db()
        coordinator = Coordinator(customer_mapping, workers=workers, direction=direction)
        coordinator.start()
        coordinator.join(timeout=300)
        assert not coordinator.is_alive() and coordinator.error is None, coordinator.error
        [job] = coordinator.jobs
        claims = set(job.partitions.values_list("claim", flat=True))
        print(f"\n{direction}, {workers} tasks: {job.partitions.count()} partitions by {len(claims)} holders; "
              f"{job.counts()}")
        assert outcome(direction, before_rows) == expected, workers
