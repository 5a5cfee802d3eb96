"""Benchmark (docs/decisions.md#write-paths): the CUSTOMER mapping with its references, toward the database's floor, in
one run and one database, each way (Sales accounts → ERP customers, then ERP customers → Sales accounts):

- p2c: a full synchronisation into an empty table, no couplings of the pair;
- Django: plain ``QuerySet.bulk_create`` of the very same rows (every column, as read back from what p2c wrote,
  fresh keys), batches of 1,000, in one transaction;
- the raw floor: the same rows, prepared for the database beforehand (not timed), through PostgreSQL's
  ``COPY ... FROM STDIN`` (psycopg 3 ``write_row``) or, on SQLite, ``executemany`` of a one-row INSERT on the
  sqlite3 cursor, in one transaction;
- the peer: django-import-export in bulk mode, insert only (``requirements-bench.txt``); skipped if not installed;
- the sync's statements alone: the source's columns a run reads, fetched and dropped, then the raw floor's write and
  the couplings written the same way: what a synchronisation would take if all of its work per row cost nothing.

Each step starts from an empty destination table; the table for a way prints the medians of ``P2C_BENCH_ROUNDS``
rounds (default 3) and the ratios of the medians. Each step runs in a process of its own (tests/bench/floor_steps.py
through floor_step_run.py; on PostgreSQL, or SQLite in a file: ``P2C_TEST_SQLITE_NAME``), as a worker or ``manage.py
sync`` runs a synchronisation: the steps that write the rows again load them there from files (not timed), and what
a step loaded is frozen (``gc.freeze``) before its clock starts. In one process, a step ran slower once the process
had held the rows read back for the others (at 1,000,000, some 7 GB: the same sync 8-10% slower after holding them,
even once they were dropped, and 26-35% with Python's full collections walking them), so that later rounds measured
the benchmark's memory more than the step. With SQLite in memory, out of another process's reach, every step runs in
the benchmark's process, frozen the same way. Then, coupled after a full synchronisation in a process of its own,
whose peak memory (max RSS) growth is printed so that one run at N=100,000 and one at N=1,000,000 compare:
incremental runs with 1% of N changed, with 1,000 changed, and with nothing changed.

    P2C_TEST_SQLITE_NAME=/tmp/floor.sqlite3 P2C_BENCH_N=20000 make bench PYTEST_ARGS="-k floor"
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/p2c_bench_floor make bench PYTEST_ARGS="-k floor"
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/p2c_bench_floor P2C_BENCH_N=1000000 P2C_BENCH_ROUNDS=1 \
        make bench PYTEST_ARGS="-k floor"

``P2C_BENCH_N`` is the size (default 100000); ``P2C_BENCH_PEER=0`` leaves the peer out; ``P2C_BENCH_ONE_PROCESS=1``
runs every step in the benchmark's process. Prints figures and the machine's load; asserts only correctness (every
row written, none failed, the references landed), never time.
"""

import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connections, models

from crm.models import Account
from erp.models import Customer
from integration.engine.sync import mapping_synchronize
from integration.models import Coupling
from p2c.databases import sales_database, sales_separate
from tests.bench import floor_steps
from tests.bench.customers_world import ISO_CODES, customer_world_with_references, customers_salespeople_assign
from tests.bench.floor_steps import PAIR, TO_ERP, TO_SALES

N = int(os.environ.get("P2C_BENCH_N", "100000"))
ROUNDS = int(os.environ.get("P2C_BENCH_ROUNDS", "3"))
PEER = os.environ.get("P2C_BENCH_PEER", "1") != "0"
RUNNER = Path(__file__).resolve().parent / "floor_step_run.py"


def _own_processes():
    """Whether the steps run in processes of their own: not with SQLite in memory, out of their reach, nor when
    ``P2C_BENCH_ONE_PROCESS=1`` asks for them all in the benchmark's process (as before, to compare)."""
    return os.environ.get("P2C_BENCH_ONE_PROCESS", "0") != "1" and not any(c.vendor == "sqlite" and c.is_in_memory_db() for c in map(connections.__getitem__, connections))


def _step(name, way, directory):
    """One step's figures (floor_steps.step), in a process of its own (floor_step_run.py) when the databases allow,
    else in this one, what it froze unfrozen after. With Sales in a database of its own, the process is given both
    (the benchmark's test databases)."""
    if not _own_processes():
        try:
            return floor_steps.step(name, way, directory, N)
        finally:
            gc.unfreeze()
    env = {key: value for key, value in os.environ.items() if key != "SALES_DATABASE_URL"}
    env["DATABASE_URL"] = _url(connections["default"])
    if sales_separate():
        env["SALES_DATABASE_URL"] = _url(connections[sales_database()])
    result = subprocess.run([sys.executable, str(RUNNER), name, way.direction, str(directory), str(N)], env=env,
                            capture_output=True, text=True, timeout=4 * 3600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _references_landed(way):
    """Every row's references were translated: no reference left blank where the source had one."""
    if way is TO_ERP:
        # Accounts in USD (the ERP's local currency) get a blank currency; the others all have one.
        counts = Customer.objects.aggregate(
            currency=models.Count("currency"), payment_terms=models.Count("payment_terms"),
            shipment_method=models.Count("shipment_method"), shipping_agent=models.Count("shipping_agent"))
        in_usd = len(range(0, N, len(ISO_CODES)))
        assert counts == {"currency": N - in_usd, "payment_terms": N, "shipment_method": N, "shipping_agent": N}, counts
    else:
        blank = models.Q(payment_terms_code="") | models.Q(address1_freight_terms_code="") | models.Q(
            address1_shipping_method_code="")
        assert Account.objects.filter(owner__isnull=False, transaction_currency__isnull=False).exclude(
            blank).count() == N


def _url(connection):
    """The URL of ``connection``'s database (the test database the benchmark runs in)."""
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        return (f"postgres://{settings['USER']}@{settings['HOST'] or 'localhost'}:{settings['PORT'] or 5432}/"
                f"{settings['NAME']}")
    return f"sqlite:///{settings['NAME']}"


def _incremental(mapping, way, full_seconds):
    """Coupled runs: 1% of N changed, 1,000 changed, nothing changed. Lines of the table."""
    ids = list(way.source.objects.order_by("pk").values_list("pk", flat=True)[: max(N // 100, 1000)])
    lines = []
    for step, (label, count) in enumerate(((f"incremental, 1% changed ({N // 100:,} rows)", N // 100),
                                           ("incremental, 1,000 rows changed", min(1000, N)),
                                           ("settled run (nothing changed)", 0))):
        for start in range(0, count, 1000):
            # A value neither the step before (at N=100,000 both change the same 1,000 rows) nor the other way wrote.
            way.source.objects.filter(pk__in=ids[start:min(count, start + 1000)]).update(
                **{way.changed_field: f"{way.changed_field} {step}"})
        mapping.refresh_from_db()
        started = time.perf_counter()
        [job] = mapping_synchronize(mapping=mapping, direction=way.direction)
        seconds = time.perf_counter() - started
        counts = job.counts()
        assert (job.status, job.modified, job.inserted, job.failed) == ("success", count, 0, 0), (job.message, counts)
        lines.append(f"| {label} | {seconds:.2f} s = {100 * seconds / full_seconds:.1f}% of the full sync "
                     f"(modified {job.modified:,}, unchanged {job.unchanged:,}) | | | |")
    return lines


def _cell(seconds, ratio=None):
    text = f"{seconds:.1f} s" if seconds >= 10 else f"{seconds:.2f} s"
    return text if ratio is None else f"{text} ({ratio})"


def _measure(mapping, way):
    """The rounds of the four, then the memory run and the incremental runs; prints the way's table."""
    model, vendor = way.destination, floor_steps.connection_of(way.destination).vendor
    where = "each step in a process of its own" if _own_processes() else "every step in this process"
    print(f"\n== {way.title}, {vendor}, N={N:,}, {where}; load average (1, 5, 15 min) before: {floor_steps.load_average()}", flush=True)
    figures = {"p2c": [], "bulk_create": [], "raw": [], "peer": [], "statements": []}
    steps = ["bulk_create", "raw", *(["peer"] if PEER else [])]
    with tempfile.TemporaryDirectory(prefix="p2c-floor-") as directory:
        for round_ in range(1, ROUNDS + 1):
            floor_steps.table_empty(model)
            figures["p2c"].append(_step("p2c", way, directory)["seconds"])
            if round_ == 1:
                _references_landed(way)
                assert Coupling.objects.filter(**PAIR).count() == N
                floor_steps.rows_save(way, directory)
            for name in steps:
                floor_steps.table_empty(model)
                result = _step(name, way, directory)
                if result["seconds"] is not None:
                    assert model.objects.count() == N
                    _references_landed(way)  # the same rows: their references too
                    figures[name].append(result["seconds"])
                if name == "raw":
                    assert Coupling.objects.filter(**PAIR).count() == N
                    figures["statements"].append(result["statements"])
            print(f"round {round_}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in figures.items() if v)
                  + f"; load {floor_steps.load_average()}", flush=True)

        median = {name: statistics.median(values) for name, values in figures.items() if values}
        p2c = median["p2c"]
        label = "PostgreSQL" if vendor == "postgresql" else "SQLite"
        peer = ("not run (P2C_BENCH_PEER=0)" if not PEER
                else "skipped: django-import-export not installed (pip install -r requirements-bench.txt)"
                if "peer" not in median else _cell(median["peer"], f"p2c {median['peer'] / p2c:.2f}x its throughput"))
        plain, raw, statements = median["bulk_create"], median["raw"], median["statements"]
        lines = [f"| {label}, {N:,} | {_cell(p2c)} ({N / p2c:,.0f} rows/s) | "
                 f"{_cell(plain, f'sync {p2c / plain:.2f}x')} | {_cell(raw, f'sync {p2c / raw:.2f}x')} | {peer} |",
                 f"| the sync's statements alone (the source's columns read, the raw floor's write, the couplings "
                 f"written the same way) | {_cell(statements, f'{statements / raw:.2f}x the raw floor')}; the sync "
                 f"{p2c / statements:.2f}x them | | | |"]

        # The full sync once more, its peak memory measured in a process of its own; it leaves the pair coupled for
        # the incremental runs.
        floor_steps.table_empty(model)
        memory = _step("p2c", way, directory)
    if _own_processes():
        before, peak = memory["rss_before_kib"] / 1024, memory["rss_peak_kib"] / 1024
        lines.append(f"| peak memory (max RSS) growth, full sync in a process of its own | {peak - before:,.1f} MiB "
                     f"({before:,.0f} → {peak:,.0f} MiB; that sync {_cell(memory['seconds'])}) | | | |")
    else:
        lines.append("| peak memory (max RSS) growth, full sync | not measured: SQLite in memory (set "
                     "P2C_TEST_SQLITE_NAME to a file) | | | |")
    lines += _incremental(mapping, way, p2c)

    print(f"\n{way.title}, medians of {ROUNDS} round(s); load average after: {floor_steps.load_average()}")
    print("| database, N | p2c full sync | bulk_create same rows (sync x) | raw floor COPY/executemany (sync x) | "
          "import-export bulk insert (p2c x its throughput) |")
    print("|---|---|---|---|---|")
    for line in lines:
        print(line)
    print(flush=True)


@pytest.mark.django_db(transaction=True)
def test_bench_floor(settings):
    settings.DEBUG = False
    mapping = customer_world_with_references(N)
    started = time.perf_counter()
    _measure(mapping, TO_ERP)
    # The customers stay (coupled, as the last synchronisation left them), now each with a salesperson: the owner
    # of its account on the way back.
    customers_salespeople_assign()
    _measure(mapping, TO_SALES)
    print(f"both ways in {time.perf_counter() - started:,.0f} s; peak RSS of this process "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
