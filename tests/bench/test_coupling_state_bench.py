"""Benchmark: the records a queued job was given (`SyncJobRecord`) and the coupling column and filter over them.

"Create in ERP" of 100,000 Sales accounts queued (100 jobs of 1,000 ids, their job records written in bulk), the
accounts list with every record queued (its query count, and the time of a page), the *Queued* and *Not coupled*
filters over the whole table, and the release of the records when the jobs end.

Run with ``.venv/bin/pytest tests/bench/test_coupling_state_bench.py -s -o addopts=""``; on PostgreSQL with
``DATABASE_URL=postgres://...``. Size: ``P2C_BENCH_N`` (default 100000). Prints figures; asserts only
correctness and query counts, never time.
"""

import os
import time

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Account
from integration import queue
from integration.coupling.job_records import job_records_release
from integration.defaults import integration_setup_reset
from integration.models import ConnectionSetup, IntegrationTableMapping, SyncJob, SyncJobRecord

N = int(os.environ.get("P2C_BENCH_N", "100000"))


def _timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


@pytest.mark.django_db(transaction=True)
def test_bench_queued_records_and_the_coupling_column(settings, client, monkeypatch):
    settings.DEBUG = False
    monkeypatch.setattr(queue, "_enqueue", lambda task, countdown=None, **kwargs: None)  # no worker
    setup = ConnectionSetup.get_solo()
    setup.is_enabled = True
    setup.save()
    integration_setup_reset(names=["CUSTOMER"])
    mapping = IntegrationTableMapping.objects.get(name="CUSTOMER")
    Account.objects.bulk_create(
        (Account(name=f"Account {i}", customer_type_code="customer") for i in range(N)), batch_size=2000)
    ids = list(Account.objects.values_list("pk", flat=True))
    client.force_login(User.objects.create_superuser("bench", "bench@example.com", None))
    vendor = connection.vendor

    with CaptureQueriesContext(connection) as ctx:
        queue.mapping_synchronize_enqueue(mapping=mapping, direction="from_integration", only_ids=ids[:1000],
                                             create_new=True, skip_coupled=True)
    per_chunk = len(ctx)
    SyncJob.objects.all().delete()
    jobs, queue_seconds = _timed(lambda: queue.mapping_synchronize_enqueue(
        mapping=mapping, direction="from_integration", only_ids=ids, create_new=True, skip_coupled=True))
    assert SyncJobRecord.objects.count() == N

    client.get("/admin/crm/account/")  # warm: templates, URLs
    with CaptureQueriesContext(connection) as ctx:
        page, page_seconds = _timed(lambda: client.get("/admin/crm/account/"))
    assert page.status_code == 200 and b"Queued" in page.content
    page_queries = len(ctx)
    queued, queued_seconds = _timed(lambda: client.get("/admin/crm/account/", {"coupling": "queued"}))
    uncoupled, uncoupled_seconds = _timed(lambda: client.get("/admin/crm/account/", {"coupling": "uncoupled"}))
    assert queued.context["cl"].result_count == N and uncoupled.context["cl"].result_count == 0

    SyncJob.objects.filter(pk__in=[j.pk for j in jobs]).update(status=SyncJob.Status.SUCCESS)
    _none, release_seconds = _timed(lambda: job_records_release(job_ids=[j.pk for j in jobs]))
    assert not SyncJobRecord.objects.exists()

    print(f"\n== coupling state benchmark on {vendor}, N={N:,}")
    print(f"queue 'Create in ERP' of {N:,} accounts ({len(jobs)} jobs, {N:,} job records): {queue_seconds:.2f} s; "
          f"{per_chunk} queries per chunk of 1,000 ids")
    print(f"accounts list, every record queued: {page_seconds * 1000:.0f} ms, {page_queries} queries")
    print(f"filter Queued over {N:,}: {queued_seconds * 1000:.0f} ms; Not coupled: {uncoupled_seconds * 1000:.0f} ms")
    print(f"release the job records of {len(jobs)} finished jobs: {release_seconds * 1000:.0f} ms")
