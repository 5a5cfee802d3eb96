"""Benchmark: Sales accounts → ERP customers (the CUSTOMER mapping), side by side in one run and one database.

- p2c: a full synchronisation, then one chunk's queries and a 1% incremental run;
- the floor: Django's plain ``QuerySet.bulk_create`` of the very same rows (every column, fresh keys);
- the peer: django-import-export 4.4 (``requirements-bench.txt``) in bulk mode with ``skip_diff``, insert-only
  (``force_init_instance``) and as an upsert by ``no``; skipped, with the reason, when it is not installed.

Run with ``make bench`` or ``.venv/bin/pytest tests/bench/test_engine_bench.py -s -o addopts=""``; on PostgreSQL with
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/p2c_bench``. Size: ``P2C_BENCH_N`` (default 100000);
``P2C_BENCH_ROUNDS`` repeats the three in turn (medians printed), ``P2C_BENCH_PROFILE=1`` prints where the full synchronisation spends its time (cProfile), ``P2C_BENCH_SQL=1``
its database time by statement. Prints figures and the
machine's load; asserts only correctness, never time.
"""

import cProfile
import io
import os
import pstats
import resource
import statistics
import time

import pytest
from django.db import connection, models, reset_queries
from django.test.utils import CaptureQueriesContext

from crm.models import Account
from erp.models import Customer
from integration.engine.sync import mapping_synchronize
from integration.models import Coupling
from p2c.utils import uuid7
from tests.bench.customers_world import accounts_create, customer_mapping_alone
from tests.bench.statements import StatementTimes

N = int(os.environ.get("P2C_BENCH_N", "100000"))
PROFILE = os.environ.get("P2C_BENCH_PROFILE", "")  # "1", or a file to dump the statistics to
SQL_TIMES = os.environ.get("P2C_BENCH_SQL") == "1"
# The three side by side this many times in turn (the first with the figures above): a shared machine's speed drifts
# from one minute to the next, so one round can favour whoever ran during a fast spell; the median round tells.
ROUNDS = int(os.environ.get("P2C_BENCH_ROUNDS", "1"))


def _load():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _customer_rows():
    """Every column of the customers the sync wrote, without the key: the rows the floor and the peer write."""
    names = [f.attname for f in Customer._meta.concrete_fields if not f.primary_key]
    return names, list(Customer.objects.order_by("pk").values_list(*names))


def _plain_bulk_create(names, rows):
    """Django's own bulk_create (no project hook) of the same rows, fresh keys and numbers."""
    started = time.perf_counter()
    objs = []
    for i, row in enumerate(rows):
        values = dict(zip(names, row, strict=True))
        values["no"], values["system_id"] = f"P{i:08d}", uuid7()
        objs.append(Customer(**values))
    models.QuerySet(Customer).bulk_create(objs, batch_size=1000)
    return time.perf_counter() - started


def _import_export(names, rows):
    """django-import-export: (insert-only seconds, upsert seconds), or None when it is not installed."""
    try:
        import tablib
        from import_export import resources
    except ImportError:
        return None
    fields = list(names)

    class Insert(resources.ModelResource):
        class Meta:
            model = Customer
            fields = ["no", *[n for n in names if n != "no"]]
            import_id_fields = ["no"]
            use_bulk = True
            batch_size = 1000
            skip_diff = True
            force_init_instance = True
            skip_unchanged = False
            report_skipped = False

    class Upsert(Insert):
        class Meta(Insert.Meta):
            force_init_instance = False

    at, system_id = fields.index("no"), fields.index("system_id")
    data = tablib.Dataset(headers=fields)
    for i, row in enumerate(rows):
        row = list(row)
        row[at], row[system_id] = f"I{i:08d}", uuid7()
        data.append(row)
    started = time.perf_counter()
    result = Insert().import_data(data, raise_errors=True)
    insert_seconds = time.perf_counter() - started
    assert not result.has_errors()
    print(f"import-export bulk insert: {insert_seconds:.1f} s", flush=True)
    if os.environ.get("P2C_BENCH_UPSERT") == "0":  # the upsert takes minutes on PostgreSQL
        return insert_seconds, None
    started = time.perf_counter()
    result = Upsert().import_data(data, raise_errors=True)
    upsert_seconds = time.perf_counter() - started
    assert not result.has_errors()
    return insert_seconds, upsert_seconds


@pytest.mark.django_db(transaction=True)
def test_bench_accounts_to_customers(settings):
    settings.DEBUG = False
    mapping = customer_mapping_alone()
    vendor = connection.vendor

    accounts_create(N)

    load_before = _load()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    profiler = cProfile.Profile() if PROFILE else None
    statements = StatementTimes() if SQL_TIMES else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    if statements:
        with connection.execute_wrapper(statements):
            [job] = mapping_synchronize(mapping=mapping, direction="from_integration")
    else:
        [job] = mapping_synchronize(mapping=mapping, direction="from_integration")
    if profiler:
        profiler.disable()
    full_seconds = time.perf_counter() - started
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert (job.status, job.inserted, job.failed) == ("success", N, 0), (job.message, job.counts())

    # Queries per chunk: one more chunk of 1,000 changed rows (a whole chunk at any N: at 20,000, 1% is 200 rows,
    # whose coupling refresh fits one statement where 1,000 take two).
    chunk = list(Account.objects.order_by("pk").values_list("pk", flat=True)[: settings.P2C_SYNC_CHUNK_SIZE])
    Account.objects.filter(pk__in=chunk).update(telephone2="changed")
    mapping.refresh_from_db()
    with CaptureQueriesContext(connection) as ctx:
        mapping_synchronize(mapping=mapping, direction="from_integration", only_ids=chunk)
    per_chunk = len(ctx)
    reset_queries()

    changed = list(Account.objects.order_by("pk").values_list("pk", flat=True)[: N // 100])
    Account.objects.filter(pk__in=changed).update(telephone1="changed")
    mapping.refresh_from_db()
    started = time.perf_counter()
    [incremental] = mapping_synchronize(mapping=mapping, direction="from_integration")
    incremental_seconds = time.perf_counter() - started
    assert incremental.modified == len(changed), incremental.counts()

    print(f"\n== engine benchmark on {vendor}, N={N:,}; load average (1, 5, 15 min) before {load_before}, "
          f"after the sync {_load()}", flush=True)
    print(f"p2c full sync: {full_seconds:.1f} s ({N / full_seconds:,.0f} rows/s)")
    print(f"queries for one chunk of 1,000 rows (whole run incl. job bookkeeping): {per_chunk}")
    print(f"peak memory (max RSS) growth during the full sync: {rss_growth / 1024:.1f} MiB "
          f"(chunks of {settings.P2C_SYNC_CHUNK_SIZE:,}: flat in N)")
    print(f"incremental run, {len(changed):,} changed (1%): {incremental_seconds:.2f} s = "
          f"{100 * incremental_seconds / full_seconds:.1f}% of the full sync", flush=True)
    if statements:
        print("database time of the full sync by statement (seconds, count, statement):")
        statements.print()
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(25)
        if PROFILE != "1":
            stats.dump_stats(PROFILE)
        print(out.getvalue(), flush=True)

    names, rows = _customer_rows()
    lines = []
    for round_ in range(1, ROUNDS + 1):
        if round_ > 1:  # the same first load again, on tables as clean as the first round's
            Coupling.objects.all()._raw_delete(connection.alias)
            Customer.objects.all()._raw_delete(connection.alias)
            if vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE")
            started = time.perf_counter()
            [job] = mapping_synchronize(mapping=mapping, direction="from_integration", full=True)
            full_seconds = time.perf_counter() - started
            assert (job.status, job.inserted, job.failed) == ("success", N, 0), (job.message, job.counts())
            print(f"round {round_}: p2c full sync: {full_seconds:.1f} s", flush=True)
        plain_seconds = _plain_bulk_create(names, rows)
        print(f"plain bulk_create: {plain_seconds:.1f} s", flush=True)
        peer = None if os.environ.get("P2C_BENCH_NO_PEER") == "1" else _import_export(names, rows)
        lines.append(_table_line(f"{vendor}, {N:,}" + (f", round {round_}" if ROUNDS > 1 else ""), full_seconds,
                                 plain_seconds, peer))
    print("| database, N | p2c full sync | plain bulk_create, same rows | import-export bulk insert | "
          "import-export bulk upsert |")
    print("|---|---|---|---|---|")
    for line, _ in lines:
        print(line)
    if ROUNDS > 1:
        ratios = [ratio for _, ratio in lines]
        print(f"median round: sync {statistics.median(r[0] for r in ratios):.2f}x the floor"
              + ("" if ratios[0][1] is None else f", p2c {statistics.median(r[1] for r in ratios):.2f}x the peer's "
                 "throughput"))
    print(f"load average after: {_load()}")


def _table_line(label, full_seconds, plain_seconds, peer):
    """One line of the side-by-side table, and (sync / floor, peer / sync)."""
    if peer is None:
        peer_cells, peer_ratio = ("skipped: django-import-export not installed (pip install -r requirements-bench.txt)"
                                  " | —"), None
    else:
        insert_seconds, upsert_seconds = peer
        peer_ratio = insert_seconds / full_seconds
        peer_cells = (f"{insert_seconds:.1f} s (p2c {peer_ratio:.2f}x its throughput) | "
                      + ("not run (P2C_BENCH_UPSERT=0)" if upsert_seconds is None else f"{upsert_seconds:.1f} s"))
    line = (f"| {label} | {full_seconds:.1f} s ({N / full_seconds:,.0f} rows/s) | {plain_seconds:.1f} s "
            f"(sync {full_seconds / plain_seconds:.2f}x) | {peer_cells} |")
    return line, (full_seconds / plain_seconds, peer_ratio)
