"""Benchmark: 100,000 Sales accounts → ERP customers (full, then 1% changed), against a plain bulk_create.

Run with ``make bench`` or ``.venv/bin/pytest tests/bench/test_engine_bench.py -s -o addopts=""``; on PostgreSQL with
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/p2c_bench``. Size: ``P2C_BENCH_N`` (default 100000).
Prints figures; asserts only correctness, never time.
"""

import os
import resource
import time

import pytest
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext

from crm.models import Account
from erp.models import Customer, NoSeries, SalesReceivablesSetup
from integration.defaults import integration_setup_reset
from integration.engine.sync import mapping_synchronize
from integration.models import ConnectionSetup, IntegrationTableMapping

N = int(os.environ.get("P2C_BENCH_N", "100000"))


@pytest.mark.django_db(transaction=True)
def test_bench_accounts_to_customers(settings):
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
    vendor = connection.vendor

    Account.objects.bulk_create(
        (Account(name=f"Account {i}", emailaddress1=f"a{i}@example.com", telephone1=f"+1 555 {i:06d}",
                 address1_city="Seattle", address1_line1=f"{i} Main St", customer_type_code="customer")
         for i in range(N)),
        batch_size=2000,
    )

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    [job] = mapping_synchronize(mapping=mapping, direction="from_integration")
    full_seconds = time.perf_counter() - started
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert (job.inserted, job.failed) == (N, 0), job.counts()

    # Queries per chunk: one more chunk of 1,000 changed rows.
    changed = list(Account.objects.order_by("pk").values_list("pk", flat=True)[: N // 100])
    Account.objects.filter(pk__in=changed[:1000]).update(telephone2="changed")
    mapping.refresh_from_db()
    with CaptureQueriesContext(connection) as ctx:
        mapping_synchronize(mapping=mapping, direction="from_integration", only_ids=changed[:1000])
    per_chunk = len(ctx)
    reset_queries()

    Account.objects.filter(pk__in=changed).update(telephone1="changed")
    mapping.refresh_from_db()
    started = time.perf_counter()
    [incremental] = mapping_synchronize(mapping=mapping, direction="from_integration")
    incremental_seconds = time.perf_counter() - started
    assert incremental.modified == len(changed), incremental.counts()

    started = time.perf_counter()
    Customer.objects.bulk_create(
        (Customer(name=f"Plain {i}", email=f"p{i}@example.com", phone_no=f"+1 555 {i:06d}", city="Seattle",
                  address=f"{i} Main St") for i in range(N)),
        batch_size=1000,
    )
    plain_seconds = time.perf_counter() - started

    print(f"\n== engine benchmark on {vendor}, N={N:,}")
    print(f"full sync Sales accounts → ERP customers: {full_seconds:.1f} s, {N / full_seconds:,.0f} rows/s")
    print(f"queries for one chunk of 1,000 rows (whole run incl. job bookkeeping): {per_chunk}")
    print(f"peak memory (max RSS) growth during the full sync: {rss_growth / 1024:.1f} MiB "
          f"(chunks of {settings.P2C_SYNC_CHUNK_SIZE:,}: flat in N)")
    print(f"incremental run, {len(changed):,} changed (1%): {incremental_seconds:.2f} s = "
          f"{100 * incremental_seconds / full_seconds:.1f}% of the full sync")
    print(f"plain bulk_create of {N:,} customers: {plain_seconds:.1f} s; ratio full sync / bulk_create = "
          f"{full_seconds / plain_seconds:.2f}")
