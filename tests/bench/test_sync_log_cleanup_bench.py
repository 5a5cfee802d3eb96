"""Benchmark (docs/features.md I7): deleting 1,000,000 old synchronisation jobs (100,000 with an error each, 1,000 of
them still referenced by skipped couplings) in chunks. Prints the time, the longest chunk (how long a chunk's
transaction can hold the synchronisation up) and the peak Python memory of the clean-up; asserts only correctness. Run:
``make bench PYTEST_ARGS=tests/bench/test_sync_log_cleanup_bench.py`` (SQLite by default, or
``DATABASE_URL=postgres://...``). ``P2C_LOG_BENCH_JOBS`` changes the size."""

import os
import time
import tracemalloc
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from integration.background.sync_log import CHUNK_SIZE, sync_log_cleanup
from integration.models import Coupling, Direction, SyncJob, SyncJobError

JOBS = int(os.environ.get("P2C_LOG_BENCH_JOBS", "1000000"))
WITH_ERROR = JOBS // 10
REFERENCED = min(1000, WITH_ERROR)

pytestmark = pytest.mark.django_db(transaction=True)


def timed(label, fn):
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    print(f"  {label:58} {seconds:8.1f} s")
    return result, seconds


def load():
    batch = 10_000
    for start in range(0, JOBS, batch):
        SyncJob.objects.bulk_create([
            SyncJob(mapping_name="CUSTOMER", direction=Direction.TO_INTEGRATION, status=SyncJob.Status.SUCCESS,
                    inserted=1) for _ in range(min(batch, JOBS - start))])
    SyncJob.objects.update(created_at=timezone.now() - timedelta(days=90))
    failed = list(SyncJob.objects.order_by("pk").values_list("pk", flat=True)[:WITH_ERROR])
    SyncJob.objects.filter(pk__in=failed[:REFERENCED]).update(status=SyncJob.Status.ERROR, failed=1)
    for start in range(0, len(failed), batch):
        SyncJobError.objects.bulk_create([
            SyncJobError(job_id=pk, source_model="erp.Customer", source_id=str(pk), message="Name is blank")
            for pk in failed[start:start + batch]])
    Coupling.objects.bulk_create([
        Coupling(erp_model="erp.Customer", crm_model="crm.Account", erp_id=i, crm_id=uuid.uuid4(),
                 last_crm_job_id=pk, last_crm_result="failure", skipped=True)
        for i, pk in enumerate(failed[:REFERENCED])])
    if connection.vendor == "postgresql":
        # Statistics as a live database has them (autovacuum would analyse these tables after such a load).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE integration_syncjob, integration_syncjoberror, integration_coupling")


def test_sync_log_cleanup_of_1000000_jobs():
    print(f"\n[sync log clean-up] {JOBS:,} old jobs, {WITH_ERROR:,} errors, {REFERENCED:,} referenced by skipped "
          f"couplings, on {connection.vendor}; chunks of {CHUNK_SIZE:,}")
    timed("data: jobs, errors, couplings", load)

    outcome, _ = timed("dry run (counts only)", lambda: sync_log_cleanup(older_than_days=30, dry_run=True))
    assert outcome.counts["done"] == JOBS - REFERENCED

    chunks = []
    last = [time.perf_counter()]

    def progress(*, deleted):
        now = time.perf_counter()
        chunks.append(now - last[0])
        last[0] = now

    tracemalloc.start()
    outcome, seconds = timed("clean-up older than 30 days",
                             lambda: sync_log_cleanup(older_than_days=30, progress=progress))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"      {outcome.summary()}")
    print(f"      {JOBS / seconds:,.0f} jobs deleted per second; {len(chunks)} chunks, longest {max(chunks):.2f} s "
          f"(median {sorted(chunks)[len(chunks) // 2]:.2f} s); peak Python memory {peak / 2**20:.1f} MiB")
    assert outcome.counts["done"] == JOBS - REFERENCED
    assert SyncJob.objects.count() == REFERENCED
    assert SyncJobError.objects.count() == REFERENCED
    again, _ = timed("clean-up again (nothing left to delete)", lambda: sync_log_cleanup(older_than_days=30))
    assert again.counts["done"] == 0
