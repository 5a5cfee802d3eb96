"""Benchmark (issue 31): the CUSTOMER mapping with its references, toward the database's floor, in one run and one
database, each way (Sales accounts → ERP customers, then ERP customers → Sales accounts):

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
rounds (default 3) and the ratios of the medians. Before each step what the process holds is frozen (``gc.freeze``:
the world, and the rows read back for the other steps from the second round on), as a process that synchronises
holds little else: Python's full collections, which come when a step has made enough objects, walked it all (0.8 s a
time for 1.2 million objects, at 100,000 rows). At 1,000,000 the rounds that held the rows took 26-35% longer than
the first without the freeze, 5-11% with it: the collector is part of that, not all. Then, coupled after a full
synchronisation: incremental runs with 1% of N changed, with 1,000 changed, and with nothing changed. The peak
memory (max RSS) growth of a full synchronisation is measured in a process of its own
(tests/bench/floor_sync_run.py; on PostgreSQL, or SQLite in a file: ``P2C_TEST_SQLITE_NAME``), so that one run at
N=100,000 and one at N=1,000,000 compare: one run is one size.

    P2C_TEST_SQLITE_NAME=/tmp/floor.sqlite3 P2C_BENCH_N=20000 make bench PYTEST_ARGS="-k floor"
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/p2c_bench_floor make bench PYTEST_ARGS="-k floor"
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/p2c_bench_floor P2C_BENCH_N=1000000 P2C_BENCH_ROUNDS=1 \
        make bench PYTEST_ARGS="-k floor"

``P2C_BENCH_N`` is the size (default 100000); ``P2C_BENCH_PEER=0`` leaves the peer out. Prints figures and the machine's load; asserts only correctness
(every row written, none failed, the references landed), never time.
"""

import contextlib
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import pytest
from django.db import DatabaseError, connections, models, transaction

from crm.models import Account
from erp.models import Customer
from integration.engine.plan import plan_build
from integration.engine.reading import source_attnames
from integration.engine.sync import mapping_synchronize
from integration.models import Coupling
from p2c.databases import sales_database, sales_separate
from tests.bench.customers_world import ISO_CODES, customer_world_with_references, customers_salespeople_assign

N = int(os.environ.get("P2C_BENCH_N", "100000"))
ROUNDS = int(os.environ.get("P2C_BENCH_ROUNDS", "3"))
PEER = os.environ.get("P2C_BENCH_PEER", "1") != "0"
PAIR = {"erp_model": "erp.Customer", "crm_model": "crm.Account"}
RUNNER = Path(__file__).resolve().parent / "floor_sync_run.py"


@dataclass
class Way:
    title: str
    direction: str  # mapping_synchronize's
    source: type
    destination: type
    changed_field: str  # a mapped field of the source the incremental runs change


TO_ERP = Way("Sales accounts → ERP customers", "from_integration", Account, Customer, "telephone1")
TO_SALES = Way("ERP customers → Sales accounts", "to_integration", Customer, Account, "phone_no")


def _load():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _connection(model):
    return connections[model.objects.db]


def _empty(model):
    """The table and the pair's couplings emptied, as fresh as a first load: on PostgreSQL, each table rewritten with
    its indexes (``VACUUM FULL``: after a plain VACUUM, the pages of the rows deleted stayed, and at 20,000 rows the
    next step wrote into a customer table and indexes of 22 MB where a first load's were 14 MB), then the dirty pages
    written out (``CHECKPOINT``), so that no step flushes what the one before it wrote."""
    Coupling.objects.filter(**PAIR)._raw_delete(Coupling.objects.db)
    model._base_manager.all()._raw_delete(model.objects.db)
    rewritten = set()  # the databases written, each checkpointed once, after all of its tables
    for table_model in (model, Coupling):  # each in its own database (Sales may have one of its own)
        connection = _connection(table_model)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM FULL ANALYZE {table_model._meta.db_table}")
            rewritten.add(connection.alias)
    for alias in rewritten:
        with connections[alias].cursor() as cursor, contextlib.suppress(DatabaseError):  # not a superuser: the
            cursor.execute("CHECKPOINT")  # step runs with what is pending


def _full_sync(mapping, way):
    mapping.refresh_from_db()
    started = time.perf_counter()
    [job] = mapping_synchronize(mapping=mapping, direction=way.direction, full=True)
    seconds = time.perf_counter() - started
    assert (job.status, job.inserted, job.failed) == ("success", N, 0), (job.message, job.counts())
    return seconds


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


def _rows(model):
    """Every column but an automatic key, as the synchronisation wrote them, and the unique ones (fresh values)."""
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]
    unique = [f.attname for f in fields if f.unique]
    return fields, unique, model.objects.order_by("pk").values_list(*[f.attname for f in fields])


def _fresh(fields, unique, rows, prefix):
    """The rows with new values in their unique columns (a number; a key made as the model makes a new one's)."""
    at = [(i, f) for i, f in enumerate(fields) if f.attname in unique]
    for n, row in enumerate(rows):
        row = list(row)
        for i, field in at:
            row[i] = field.get_default() if isinstance(field, models.UUIDField) else f"{prefix}{n:09d}"[:field.max_length]
        yield row


def _bulk_create(model, fields, unique, rows):
    started = time.perf_counter()
    names = [f.attname for f in fields]
    with transaction.atomic(using=model.objects.db):
        fresh = _fresh(fields, unique, rows, "B")
        while batch := list(islice(fresh, 10_000)):  # not N instances at once: 1,000,000 would not fit
            models.QuerySet(model).bulk_create([model(**dict(zip(names, row, strict=True))) for row in batch],
                                               batch_size=1000)
    return time.perf_counter() - started


def _raw_floor(model, fields, unique, rows):
    """COPY (PostgreSQL) or executemany (SQLite), in one transaction; the values are converted for the database
    before the clock starts, so the figure is the database's write alone."""
    connection = _connection(model)
    prepared = [[f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)]
                for row in _fresh(fields, unique, rows, "R")]
    table, columns = model._meta.db_table, ", ".join(connection.ops.quote_name(f.column) for f in fields)
    started = time.perf_counter()
    with transaction.atomic(using=model.objects.db):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in prepared:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(fields))
            connection.connection.cursor().executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                                                       prepared)
    return time.perf_counter() - started


def _source_read(way, mapping):
    """The source's rows a full synchronisation reads (its columns, `source_attnames`), fetched as the database gives
    them, nothing made of them; in seconds."""
    source = way.source
    names = source_attnames(plan_build(mapping=mapping, direction=way.direction, full=True))
    sql, params = source.objects.order_by("pk").values_list(*names).query.sql_with_params()
    started = time.perf_counter()
    with transaction.atomic(using=source.objects.db), _connection(source).cursor() as cursor:
        cursor.execute(sql, params)
        while cursor.fetchmany(10_000):
            pass
    return time.perf_counter() - started


def _coupling_rows():
    """The pair's couplings as the synchronisation wrote them, every column but the key."""
    fields = [f for f in Coupling._meta.concrete_fields if not isinstance(f, models.AutoField)]
    return fields, list(Coupling.objects.filter(**PAIR).order_by("pk").values_list(*[f.attname for f in fields]))


def _import_export(model, fields, unique, rows):
    """django-import-export's bulk insert of the same rows, in seconds; None when it is not installed, or not asked
    for (``P2C_BENCH_PEER=0``: at a million rows it takes tens of minutes a way)."""
    if not PEER:
        return None
    try:
        import tablib
        from import_export import resources
    except ImportError:
        return None
    names = [f.name for f in fields]  # its fields by name: a reference goes through its ForeignKeyWidget
    destination = model

    class Insert(resources.ModelResource):
        class Meta:
            model = destination
            fields = names
            import_id_fields = [unique[-1]]
            use_bulk = True
            batch_size = 1000
            skip_diff = True
            force_init_instance = True
            skip_unchanged = False
            report_skipped = False

    data = tablib.Dataset(*_fresh(fields, unique, rows, "I"), headers=names)
    started = time.perf_counter()
    result = Insert().import_data(data, raise_errors=True)
    seconds = time.perf_counter() - started
    assert not result.has_errors()
    return seconds


def _memory_run(model, way):
    """A full synchronisation in a process of its own (floor_sync_run.py): its figures (seconds, RSS in KiB), or None
    when its database is SQLite in memory, out of another process's reach. With Sales in a database of its own, the
    process is given both (the benchmark's test databases)."""
    connection = _connection(model)
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        return None
    env = {key: value for key, value in os.environ.items() if key != "SALES_DATABASE_URL"}
    env["DATABASE_URL"] = _url(connections["default"])
    if sales_separate():
        env["SALES_DATABASE_URL"] = _url(connections[sales_database()])
    result = subprocess.run([sys.executable, str(RUNNER), way.direction], env=env, capture_output=True, text=True,
                            timeout=4 * 3600)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    counts = figures["counts"]
    assert (figures["status"], counts["inserted"], counts["failed"]) == ("success", N, 0), figures
    return figures


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
    model, vendor = way.destination, _connection(way.destination).vendor
    print(f"\n== {way.title}, {vendor}, N={N:,}; load average (1, 5, 15 min) before: {_load()}", flush=True)
    figures = {"p2c": [], "bulk_create": [], "raw": [], "peer": [], "statements": []}
    rows = None
    for round_ in range(1, ROUNDS + 1):
        _empty(model)
        gc.freeze()
        figures["p2c"].append(_full_sync(mapping, way))
        if rows is None:
            _references_landed(way)
            fields, unique, rows = _rows(model)
            rows = list(rows)
            coupling_fields, couplings = _coupling_rows()
            assert len(couplings) == N
        for name, step in (("bulk_create", _bulk_create), ("raw", _raw_floor), ("peer", _import_export)):
            _empty(model)
            gc.freeze()
            seconds = step(model, fields, unique, rows)
            if seconds is not None:
                assert model.objects.count() == N
                _references_landed(way)  # the same rows: their references too
                figures[name].append(seconds)
            if name == "raw":  # a sync's statements without its Python: the read, the raw floor's write, the couplings
                seconds += _source_read(way, mapping) + _raw_floor(Coupling, coupling_fields, [], couplings)
                assert Coupling.objects.filter(**PAIR).count() == N
                figures["statements"].append(seconds)
        print(f"round {round_}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in figures.items() if v)
              + f"; load {_load()}", flush=True)
    del rows
    gc.unfreeze()

    median = {name: statistics.median(values) for name, values in figures.items() if values}
    p2c = median["p2c"]
    label = "PostgreSQL" if vendor == "postgresql" else "SQLite"
    peer = ("not run (P2C_BENCH_PEER=0)" if not PEER
            else "skipped: django-import-export not installed (pip install -r requirements-bench.txt)"
            if "peer" not in median else _cell(median["peer"], f"p2c {median['peer'] / p2c:.2f}x its throughput"))
    plain, raw, statements = median["bulk_create"], median["raw"], median["statements"]
    lines = [f"| {label}, {N:,} | {_cell(p2c)} ({N / p2c:,.0f} rows/s) | {_cell(plain, f'sync {p2c / plain:.2f}x')} | "
             f"{_cell(raw, f'sync {p2c / raw:.2f}x')} | {peer} |",
             f"| the sync's statements alone (the source's columns read, the raw floor's write, the couplings "
             f"written the same way) | {_cell(statements, f'{statements / raw:.2f}x the raw floor')}; the sync "
             f"{p2c / statements:.2f}x them | | | |"]

    _empty(model)
    memory = _memory_run(model, way)
    if memory is None:  # SQLite in memory: the full sync in this process, coupled for the incremental runs
        _full_sync(mapping, way)
        lines.append("| peak memory (max RSS) growth, full sync | not measured: SQLite in memory (set "
                     "P2C_TEST_SQLITE_NAME to a file) | | | |")
    else:
        before, peak = memory["rss_before_kib"] / 1024, memory["rss_peak_kib"] / 1024
        lines.append(f"| peak memory (max RSS) growth, full sync in a process of its own | {peak - before:,.1f} MiB "
                     f"({before:,.0f} → {peak:,.0f} MiB; that sync {_cell(memory['seconds'])}) | | | |")
    lines += _incremental(mapping, way, p2c)

    print(f"\n{way.title}, medians of {ROUNDS} round(s); load average after: {_load()}")
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
