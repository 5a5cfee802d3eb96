"""Benchmark: one mapping over worker processes (docs/decisions.md#partitions): N Sales accounts → ERP customers on
PostgreSQL + Redis.

Runs: one process (the engine as it is, no partitions), then the partitioned run over 1 and over 2 real Celery worker
processes (one pool process each), then 2 worker processes with one killed mid-run (duplicates counted after the
finish). Prints per-partition figures (rows per second per partition, lock-row and commit rates) from which a
paragraph about 8 and 32 workers can be written. Asserts only correctness, never time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/p2c_bench CELERY_BROKER_URL=redis://127.0.0.1:6379/3 \\
        .venv/bin/python -m pytest tests/bench/test_partitions_bench.py -s -p no:cacheprovider -o addopts=""

Size: ``P2C_BENCH_N`` (default 20000; ``P2C_BENCH_SINGLE=0`` leaves out the one-process run,
``P2C_BENCH_KILL=0`` the run with a worker killed,
``P2C_BENCH_ROUNDS`` how many times the 1-worker and 2-worker runs are repeated, alternately); partition size ``P2C_SYNC_PARTITION_SIZE`` (default of the deployment).
"""

import os
import signal
import statistics
import threading
import time

import pytest
from django.db import connection, connections

from crm.models import Account
from erp.models import Customer
from integration.engine.sync import mapping_synchronize
from integration.models import Coupling, SyncPartition
from tests.bench.customers_world import accounts_create, customer_mapping_alone
from tests.integration.partitions_world import PAIR, Coordinator
from tests.integration.partitions_world import wipe as wipe_small
from tests.workers import wait_until, worker_stop

N = int(os.environ.get("P2C_BENCH_N", "20000"))
SINGLE = os.environ.get("P2C_BENCH_SINGLE", "1") == "1"  # 0: leave out the one-process run (saves its time at 1M)
KILL = os.environ.get("P2C_BENCH_KILL", "1") == "1"  # 0: leave out the run with a worker killed (speed figures only)
ROUNDS = int(os.environ.get("P2C_BENCH_ROUNDS", "1"))  # 1 worker then 2, this many times: how far the ratio varies
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


def cpu_snapshot():
    """CPU seconds used so far, by kind of process, and the machine's idle seconds (Linux /proc). What 2 workers gain
    over 1 depends on what else wants the cores: PostgreSQL's backends and its background processes (WAL writer,
    checkpointer, autovacuum, which run on the idle core for free while only one worker runs)."""
    tick = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    # idle + iowait; steal: what the hypervisor gave other machines (a busy neighbour slows every run it overlaps)
    used = {"idle (all cores)": (fields[3] + fields[4]) / tick, "stolen by the hypervisor": fields[7] / tick}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as stat:
                values = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # it ended meanwhile
            continue
        seconds = (int(values[11]) + int(values[12])) / tick  # utime, stime
        if int(pid) == os.getpid():
            kind = "bench process (coordinator, sampler)"
        elif "celery" in command:
            kind = "celery workers"
        elif command.startswith("postgres:") and "autovacuum" in command:
            kind = "PostgreSQL autovacuum"
        elif command.startswith("postgres:") and "bench" in command:
            kind = "PostgreSQL backends"
        elif command.startswith("postgres:"):
            kind = "PostgreSQL background (WAL writer, checkpointer...)"
        elif "bin/postgres" in command:  # the postmaster: what its children used that ended (a worker's connection
            # closes when its task ends, before the figures are taken)
            kind, seconds = "PostgreSQL processes ended (the workers' connections)", (int(values[13]) + int(values[14])) / tick
        elif "redis" in command:
            kind = "Redis"
        else:
            kind = "other"
        used[kind] = used.get(kind, 0) + seconds
    return used


def cpu_used(before, after):
    return {kind: round(after[kind] - before.get(kind, 0), 1) for kind in after if after[kind] - before.get(kind, 0) >= 0.5}


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
    before, cpu_before = commits(), cpu_snapshot()
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
    cpu = cpu_used(cpu_before, cpu_snapshot())  # before the workers stop: their CPU ends with them
    lock_waits = sampler.share()
    assert coordinator.error is None, coordinator.error
    [job] = coordinator.jobs
    for process in processes:
        worker_stop(process)
    figures = partition_figures(job)
    figures.update({"seconds": round(seconds, 1), "rows/s": round(N / seconds), "commits/s": round(
        (commits() - before) / seconds), "job": job.counts(), "status": job.status, "killed after s": killed,
        "partitions run again": job.partitions.filter(attempts__gt=1).count(), "duplicates": duplicates(),
        "busy statements waiting for a row lock": lock_waits, "CPU seconds": cpu})
    return job, figures


def test_bench_one_mapping_over_worker_processes(celery_workers, settings):
    settings.DEBUG = False
    mapping = customer_mapping_alone()
    accounts_create(N)
    with connection.cursor() as cursor:  # as between runs: the first run sets no hint bits the others find set
        cursor.execute("VACUUM ANALYZE")
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
    runs, pairs = [], []
    for round_ in range(1, ROUNDS + 1):
        suffix = f" (round {round_})" if ROUNDS > 1 else ""
        pairs.append((f"1 worker process{suffix}", f"2 worker processes{suffix}"))
        runs += [(pairs[-1][0], 1, False), (pairs[-1][1], 2, False)]
    if KILL:
        runs.append(("2 worker processes, one killed mid-run", 2, True))
    for label, workers, kill in runs:
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

    ratios = [results[one]["seconds"] / results[two]["seconds"] for one, two in pairs]
    print("speed-up 2 worker processes / 1: " + ", ".join(f"{ratio:.2f}x" for ratio in ratios))
    if len(pairs) > 1:  # the machine's own speed drifts between runs: the rounds together, and the median round
        total = sum(results[one]["seconds"] for one, _ in pairs) / sum(results[two]["seconds"] for _, two in pairs)
        print(f"all rounds together: {total:.2f}x; median round: {statistics.median(ratios):.2f}x")
