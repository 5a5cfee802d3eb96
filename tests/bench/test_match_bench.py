"""Benchmark: match-based coupling of N Sales accounts against N uncoupled ERP customers
(docs/decisions.md#write-paths).

The CUSTOMER mapping, creating customers for uncoupled accounts, meets N customers that already exist: the
Sales → ERP run matches each account by e-mail (priority 1), else by name (priority 2), both case-insensitive,
and couples instead of inserting. The customers' names and e-mails are the accounts' in upper case; one customer
in ten shares its name with another, so that the e-mail decides; one account in a hundred has no e-mail and is
coupled by its name; two in a hundred stay unmatched (no e-mail, and a name two customers have or none has) and
are inserted.

The same world is also coupled by the match-based coupling a person starts (``door`` "couple": from the Sales
accounts, creating customers for those without a unique match), through the same chunk loop.

What grows with N must grow linearly: the time per row at the largest size is compared with the smallest one's.
Sizes: ``P2C_BENCH_MATCH_SIZES`` (default ``10000,100000``), run one after the other on emptied tables. Run with
``.venv/bin/pytest tests/bench/test_match_bench.py -s -o addopts="" -p no:cacheprovider``; on PostgreSQL with
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/p2c_bench_match`` (``P2C_BENCH_MATCH_ANALYZE=0``: without
ANALYZE after creating the rows). Prints a table (seconds, µs per row, the
time in `matches_find` alone, this process's CPU time, and the per-row ratio to the first size); asserts only
correctness, never time. ``P2C_BENCH_MATCH_DOORS`` (default ``synchronise,couple``): the doors to run.
"""

import cProfile
import io
import os
import pstats
import time

import pytest
from django.db import connection

from crm.models import Account
from erp.models import Customer
from integration.coupling import couplings
from integration.engine import deciding
from integration.engine.sync import mapping_synchronize
from integration.models import Coupling
from tests.bench.customers_world import customer_mapping_alone
from tests.bench.statements import StatementTimes

SIZES = [int(n) for n in os.environ.get("P2C_BENCH_MATCH_SIZES", "10000,100000").split(",")]
# PostgreSQL: ANALYZE after creating the rows, as autovacuum would soon after such a load ("0": the run meets
# tables the planner knows nothing of yet).
ANALYZE = os.environ.get("P2C_BENCH_MATCH_ANALYZE", "1") != "0"
DOORS = os.environ.get("P2C_BENCH_MATCH_DOORS", "synchronise,couple").split(",")
PROFILE = os.environ.get("P2C_BENCH_PROFILE") == "1"  # where the largest size's run spends its time (cProfile)
SQL_TIMES = os.environ.get("P2C_BENCH_SQL") == "1"  # and its database time by statement


def _load():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def world_create(n):
    """N customers and N accounts; returns the number of accounts that stay unmatched."""
    customers, accounts, unmatched = [], [], 0
    for i in range(n):
        name, email = f"customer {i}", f"c{i}@example.com"
        customer_name, customer_email = name.upper(), email.upper()
        if i % 10 == 5:
            customer_name = f"CUSTOMER {i - 1}"  # a name two customers have: the e-mail decides
        if i % 100 == 0:
            email = ""  # by name, which customer i + 1 has too: unmatched
            unmatched += 1
        elif i % 100 == 1:
            name, email = f"account only {i}", ""  # matches nothing
            customer_name = f"CUSTOMER {i - 1}"  # the second customer of account i - 1's name
            unmatched += 1
        elif i % 100 == 50:
            email = ""  # coupled by its name alone
            name = f"  Customer {i} "  # trimmed, as the engine does
        customers.append(Customer(no=f"M{i:08d}", name=customer_name, email=customer_email,
                                  city="Seattle", address=f"{i} Main St"))
        accounts.append(Account(name=name, emailaddress1=email, telephone1=f"+1 555 {i:06d}",
                                address1_city="Seattle", address1_line1=f"{i} Main St",
                                customer_type_code="customer"))
    Customer.objects.bulk_create(customers, batch_size=2000)
    Account.objects.bulk_create(accounts, batch_size=2000)
    return unmatched


def tables_empty():
    for model in (Coupling, Customer, Account):
        model.objects.all()._raw_delete(model.objects.db)


def _run(door, mapping):
    if door == "couple":
        return couplings.mapping_couple_by_match(mapping=mapping, from_side="crm", create_new=True, sync_after=False)
    [job] = mapping_synchronize(mapping=mapping, direction="from_integration", full=True)
    return job


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.django_db(transaction=True)
def test_bench_match_coupling_grows_linearly(settings, monkeypatch, door):
    settings.DEBUG = False
    mapping = customer_mapping_alone()
    vendor = connection.vendor

    matching_seconds = [0.0]
    original = deciding.matches_find

    def timed_matches_find(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            matching_seconds[0] += time.perf_counter() - started

    monkeypatch.setattr(deciding, "matches_find", timed_matches_find)
    monkeypatch.setattr(couplings, "matches_find", timed_matches_find)

    lines, first = [], None
    for n in SIZES:
        tables_empty()
        unmatched = world_create(n)
        if vendor == "postgresql" and ANALYZE:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        mapping.refresh_from_db()
        matching_seconds[0] = 0.0
        load_before = _load()
        profiler = cProfile.Profile() if PROFILE and n == SIZES[-1] else None
        started, cpu_started = time.perf_counter(), time.process_time()
        statements = StatementTimes() if SQL_TIMES else None
        if profiler:
            profiler.enable()
        if statements:
            with connection.execute_wrapper(statements):
                job = _run(door, mapping)
        else:
            job = _run(door, mapping)
        if profiler:
            profiler.disable()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        if statements:
            print(f"database time at N={n:,} by statement (seconds, count, statement):")
            statements.print()
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
            print(out.getvalue(), flush=True)
        assert (job.status, job.coupled, job.inserted, job.failed) == ("success", n - unmatched, unmatched, 0), (
            job.message, job.counts())
        assert Coupling.objects.count() == n
        # Coupled by e-mail though the name is shared, and by the trimmed name alone: the right customers.
        pairs = dict(Coupling.objects.values_list("crm_id", "erp_id"))
        by_name = {a.pk: a for a in Account.objects.filter(name__in=["customer 5", "  Customer 50 "])}
        for account in by_name.values():
            customer = Customer.objects.get(pk=pairs[account.pk])
            assert customer.no == f"M{int(account.name.split()[-1]):08d}", (account.name, customer.no)
        per_row = seconds / n * 1e6
        match_per_row = matching_seconds[0] / n * 1e6
        first = first or (per_row, match_per_row)
        print(f"\n{vendor}, {door}, N={n:,}: {seconds:.1f} s, CPU {cpu:.2f} s, matching {matching_seconds[0]:.1f} s; "
              f"load before {load_before}, after {_load()}", flush=True)
        lines.append(f"| {vendor} | {door} | {n:,} | {seconds:.1f} s | {cpu:.2f} s | {per_row:.0f} µs | "
                     f"{matching_seconds[0]:.1f} s | "
                     f"{match_per_row:.0f} µs | {per_row / first[0]:.2f}x | {match_per_row / first[1]:.2f}x |")
    print(f"\n== match-based coupling on {vendor}: N accounts against N uncoupled customers")
    print("| database | door | N | run (match + couple) | CPU (this process) | per row | in matches_find | per row | "
          f"per row / N={SIZES[0]:,} | matching per row / N={SIZES[0]:,} |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for line in lines:
        print(line)
