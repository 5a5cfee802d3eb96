"""Benchmark: the conflict inbox of a 100,000-customer mapping with 1,000 conflicts
(docs/decisions.md#the-conflict-inbox).

100,000 Sales accounts → ERP customers (a full synchronisation, which keeps each coupling's synchronised values),
then 1,000 pairs given a new phone number on both sides and a synchronisation that records them in the inbox;
the inbox's first page (queries, time); resolving the 1,000 at once (chunks, queries, time); and a last
synchronisation that finds nothing to do (no ping-pong).

Run with ``.venv/bin/pytest tests/bench/test_conflict_inbox_bench.py -s -o addopts=""``; on PostgreSQL with
``DATABASE_URL=postgres://...``. Sizes: ``P2C_BENCH_N`` (default 100000), ``P2C_BENCH_CONFLICTS`` (1000). Prints
figures; asserts only correctness, never time.
"""

import math
import os
import time

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.models import Account
from erp.models import Customer, NoSeries, SalesReceivablesSetup
from integration.defaults import integration_setup_reset
from integration.engine.sync import mapping_synchronize
from integration.models import ConnectionSetup, Coupling, IntegrationTableMapping, SyncConflict
from integration.operations.conflicts import CHUNK, conflicts_resolve

N = int(os.environ.get("P2C_BENCH_N", "100000"))
CONFLICTS = int(os.environ.get("P2C_BENCH_CONFLICTS", "1000"))


def _timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


@pytest.mark.django_db(transaction=True)
def test_bench_conflict_inbox(settings, client):
    settings.DEBUG = False
    series = NoSeries.objects.create(code="CUST", starting_no="C000010")
    setup = SalesReceivablesSetup.get_solo()
    setup.customer_nos = series
    setup.save()
    connection_setup = ConnectionSetup.get_solo()
    connection_setup.is_enabled = True
    connection_setup.save()
    integration_setup_reset(names=["CUSTOMER"])
    mapping = IntegrationTableMapping.objects.get(name="CUSTOMER")
    mapping.sync_only_coupled = False
    mapping.save()
    mapping.dependencies.clear()
    vendor = connection.vendor

    Account.objects.bulk_create(
        (Account(name=f"Account {i}", emailaddress1=f"a{i}@example.com", telephone1=f"+1 555 {i:06d}",
                 address1_city="Seattle", customer_type_code="customer") for i in range(N)),
        batch_size=2000,
    )
    [full], full_seconds = _timed(lambda: mapping_synchronize(mapping=mapping, direction="from_integration"))
    assert (full.inserted, full.failed) == (N, 0), full.counts()

    pairs = list(Coupling.objects.filter(erp_model="erp.Customer").order_by("pk")
                 .values_list("erp_id", "crm_id")[:CONFLICTS])
    now = timezone.now()
    Customer.objects.filter(pk__in=[e for e, _ in pairs]).update(phone_no="ERP phone", modified_at=now)
    Account.objects.filter(pk__in=[c for _, c in pairs]).update(telephone1="Sales phone", modifiedon=now)
    mapping.refresh_from_db()
    jobs, record_seconds = _timed(lambda: mapping_synchronize(mapping=mapping))
    assert SyncConflict.objects.count() == CONFLICTS, [job.message for job in jobs]

    client.force_login(User.objects.create_superuser("bench", "bench@example.com", None))
    client.get("/admin/integration/syncconflict/")  # warm: templates, URLs
    with CaptureQueriesContext(connection) as ctx:
        page, page_seconds = _timed(lambda: client.get("/admin/integration/syncconflict/"))
    assert page.status_code == 200 and page.content.count(b"Compare #") == 100
    page_queries = len(ctx)
    with CaptureQueriesContext(connection) as ctx:
        api, api_seconds = _timed(lambda: client.get("/api/integration/conflicts/"))
    assert api.status_code == 200
    api_queries = len(ctx)

    ids = list(SyncConflict.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as ctx:
        outcome, resolve_seconds = _timed(lambda: conflicts_resolve(ids=ids, resolution="erp", decided_by="bench"))
    resolve_queries = len(ctx)
    assert outcome.counts["done"] == CONFLICTS and not SyncConflict.objects.exists(), outcome.summary()
    assert Account.objects.filter(telephone1="ERP phone").count() == CONFLICTS

    mapping.refresh_from_db()
    settled, settle_seconds = _timed(lambda: mapping_synchronize(mapping=mapping))
    assert all(job.modified == job.failed == 0 for job in settled), [job.message for job in settled]

    chunks = math.ceil(CONFLICTS / CHUNK)
    print(f"\n== conflict inbox benchmark on {vendor}: {N:,} customers, {CONFLICTS:,} conflicts")
    print(f"full synchronisation of {N:,} accounts (synchronised values kept): {full_seconds:.1f} s")
    print(f"synchronisation recording {CONFLICTS:,} conflicts (both directions): {record_seconds:.2f} s")
    print(f"inbox first page (admin, 100 rows): {page_queries} queries, {page_seconds * 1000:.0f} ms; "
          f"API first page: {api_queries} queries, {api_seconds * 1000:.0f} ms")
    print(f"resolve {CONFLICTS:,} at once (take the ERP side): {resolve_seconds:.2f} s in {chunks} chunks of "
          f"{CHUNK}, {resolve_queries} queries ({resolve_queries / chunks:.0f} per chunk), {len(outcome.jobs)} jobs")
    print(f"the next synchronisation: nothing to do ({settle_seconds:.2f} s)")
