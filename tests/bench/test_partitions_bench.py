"""Benchmark: one mapping over worker processes (issue 17 §2): N Sales accounts → ERP customers on PostgreSQL + Redis.

Runs: one process (the engine as it is, no partitions), then the partitioned run over 1 and over 2 real Celery worker
processes (one pool process each), then 2 worker processes with one killed mid-run (duplicates counted after the
finish). Prints per-partition figures (rows per second per partition, lock-row and commit rates) from which a
paragraph about 8 and 32 workers can be written. Asserts only correctness, never time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/p2c_bench CELERY_BROKER_URL=redis://127.0.0.1:6379/3 \\
        .venv/bin/python -m pytest tests/bench/test_partitions_bench.py -s -p no:cacheprovider -o addopts=""

Size: ``P2C_BENCH_N`` (default 20000; ``P2C_BENCH_SINGLE=0`` leaves out the one-process run); partition size ``P2C_SYNC_PARTITION_SIZE`` (default of the deployment).
"""

import os
import signal
import statistics
import threading
import time

import pytest
from django.db import connection, connections

from crm.models import Account
from erp.models import Customer, NoSeries, SalesReceivablesSetup
from integration.defaults import integration_setup_reset
from integration.engine.sync import mapping_synchronize
from integration.models import ConnectionSetup, Coupling, IntegrationTableMapping, SyncPartition
from tests.integration.test_partitions import PAIR, Coordinator, celery_workers, wait_until, worker_stop  # noqa: F401
from tests.integration.test_partitions import wipe as wipe_small

N = int(os.environ.get("P2C_BENCH_N", "20000"))
SINGLE = os.environ.get("P2C_BENCH_SINGLE", "1") == "1"  # 0: leave out the one-process run (saves its time at 1M)
FROM = "from_integration"

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def wipe(mapping):
    """The partitions test's wipe, with the customers and couplings deleted in one statement each (Django's
    collector would read a million of them first)."""
    Coupling.objects.filter(**PAIR)._raw_delete(connection.alias)
    Customer.objects.all()._raw_delete(connection.alias)
    wipe_small(mapping)


def commits():
    with connection.cursor() as cursor:
        cursor.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def duplicates():
    couplings = Coupling.objects.filter(**PAIR)
    return {
        "customers - accounts": Customer.objects.count() - Account.objects.count(),
        "couplings - distinct accounts": couplings.count() - couplings.values("crm_id").distinct().count(),
        "couplings - distinct customers": couplings.count() - couplings.values("erp_id").distinct().count(),
    }


class LockSampler(threading.Thread):
    """Every 0.1 s: how many of the database's backends are running a statement, and how many of them wait for a lock
    (a row lock another transaction holds: the number series row each chunk's insert takes, the mapping row)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop, self.active, self.waiting = threading.Event(), 0, 0

    def run(self):
        try:
            while not self.stop.wait(0.1):
                with connections["default"].cursor() as cursor:
                    cursor.execute("SELECT count(*), count(*) FILTER (WHERE wait_event_type = 'Lock') "
                                   "FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' "
                                   "AND pid <> pg_backend_pid()")
                    active, waiting = cursor.fetchone()
                self.active += active
                self.waiting += waiting
        finally:
            connections.close_all()

    def share(self):
        self.stop.set()
        self.join()
        return f"{100 * self.waiting / self.active:.0f}%" if self.active else "-"


def partition_figures(job):
    """Per partition: rows per second while it ran; per worker holder: partitions; and the chunk (lock-row) rate."""
    rows = list(SyncPartition.objects.filter(job=job, state="done").values_list("rows", "started_at", "finished_at",
                                                                                "claim"))
    rates = sorted(r / max((f - s).total_seconds(), 1e-6) for r, s, f, _ in rows)
    seconds = [(f - s).total_seconds() for _, s, f, _ in rows]
    holders = {}
    for _, _, _, claim in rows:
        holders[claim] = holders.get(claim, 0) + 1
    return {
        "partitions": len(rows), "rows per partition": round(statistics.mean(r for r, *_ in rows)),
        "rows/s per partition (min / median / max)": (round(rates[0]), round(statistics.median(rates)),
                                                      round(rates[-1])),
        "seconds per partition (median)": round(statistics.median(seconds), 2),
        "partitions per worker": sorted(holders.values()),
    }


def timed_partitioned(mapping, workers, start, *, kill_one=False):
    """Run the mapping over ``workers`` worker processes (the coordinator here runs none); return figures."""
    processes = start(workers)
    time.sleep(3)  # the workers are up (connected to the broker) before the clock starts
    before = commits()
    started = time.perf_counter()
    coordinator = Coordinator(mapping, workers=max(workers, 2))  # 2 tasks at least: else it would not partition
    coordinator.start()
    sampler = LockSampler()
    sampler.start()
    killed = None
    if kill_one:
        victim = processes[0]
        with open(f"/proc/{victim.pid}/task/{victim.pid}/children") as children:
            pool = wait_until(lambda: children.seek(0) or children.read().split(), 60, "no pool process")
        wait_until(lambda: SyncPartition.objects.filter(state="done").count() >= 2 and any(
            claim.split(":")[1] in pool for claim in SyncPartition.objects.filter(state="running", rows__gt=0)
            .values_list("claim", flat=True)), 600, "the victim never ran a partition")
        worker_stop(victim, signal.SIGKILL)
        killed = time.perf_counter() - started
    coordinator.join(timeout=3600)
    seconds = time.perf_counter() - started
    lock_waits = sampler.share()
    assert coordinator.error is None, coordinator.error
    [job] = coordinator.jobs
    for process in processes:
        worker_stop(process)
    figures = partition_figures(job)
    figures.update({"seconds": round(seconds, 1), "rows/s": round(N / seconds), "commits/s": round(
        (commits() - before) / seconds), "job": job.counts(), "status": job.status, "killed after s": killed,
        "partitions run again": job.partitions.filter(attempts__gt=1).count(), "duplicates": duplicates(),
        "busy statements waiting for a row lock": lock_waits})
    return job, figures


def test_bench_one_mapping_over_worker_processes(celery_workers, settings):  # noqa: F811
    settings.DEBUG = False
    series = NoSeries.objects.create(code="CUST", starting_no="C000010")
    setup = SalesReceivablesSetup.get_solo()
    setup.customer_nos = series
    setup.save()
    ConnectionSetup.get_solo()
    integration_setup_reset(names=["CUSTOMER"])
    mapping = IntegrationTableMapping.objects.get(name="CUSTOMER")
    mapping.sync_only_coupled = False
    mapping.save()
    mapping.dependencies.clear()
    Account.objects.bulk_create(
        (Account(name=f"Account {i}", emailaddress1=f"a{i}@example.com", telephone1=f"+1 555 {i:06d}",
                 address1_city="Seattle", address1_line1=f"{i} Main St", customer_type_code="customer")
         for i in range(N)),
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    load = os.getloadavg()
    print(f"\n== one mapping over worker processes, PostgreSQL + Redis, N={N:,}, partitions of "
          f"{settings.P2C_SYNC_PARTITION_SIZE:,} rows, chunks of {settings.P2C_SYNC_CHUNK_SIZE:,}; "
          f"{os.cpu_count()} cores, load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)

    single = None
    if SINGLE:
        started = time.perf_counter()
        [single] = mapping_synchronize(mapping=mapping, direction=FROM, full=True)
        single_seconds = time.perf_counter() - started
        assert (single.inserted, single.failed) == (N, 0)
        print(f"one process, no partitions: {single_seconds:.1f} s, {N / single_seconds:,.0f} rows/s", flush=True)
        wipe(mapping)

    results = {}
    for label, workers, kill in (("1 worker process", 1, False), ("2 worker processes", 2, False),
                                 ("2 worker processes, one killed mid-run", 2, True)):
        job, figures = timed_partitioned(mapping, workers, celery_workers, kill_one=kill)
        results[label] = figures
        print(f"{label}: {figures}", flush=True)
        assert job.status == "success", job.message
        assert duplicates() == dict.fromkeys(duplicates(), 0), duplicates()
        assert Customer.objects.count() == N
        if not kill:
            assert job.inserted == N and (single is None or job.counts() == single.counts())
        wipe(mapping)
        with connection.cursor() as cursor:  # the next run starts on tables as clean as the first (no dead rows)
            cursor.execute("VACUUM ANALYZE")

    one, two = results["1 worker process"], results["2 worker processes"]
    print(f"speed-up 2 worker processes / 1: {one['seconds'] / two['seconds']:.2f}x")
