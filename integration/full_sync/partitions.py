"""One mapping's large run over many workers: key-range partitions that any worker claims, runs and commits.

A full (or large incremental) run of one mapping in one direction is one `SyncJob`. Here it is split into key ranges
of about ``P2C_SYNC_PARTITION_SIZE`` source rows (`SyncPartition`: ``low <= pk < high``, the ranges tile the whole
key space, so a row added or retried later still falls in one). The coordinator holds the mapping's run lock
(engine/locks.py) for the whole run, as a single-process run does; every worker runs its partitions under that lock
(the engine's ``lock_token``), so no other run of the mapping goes on meanwhile. A worker claims a partition with a
conditional UPDATE naming its holder; a partition whose holder died (PostgreSQL sees its connection go; elsewhere its
process or heartbeat) is claimed again by the next worker that looks, and the couplings it committed make the rerun
go on without duplicates. A crash loses at most the partitions in flight.

Each partition runs the engine with ``key_range`` (chunks committed with their couplings, errors and couplings
pointing at the run's job); its counts are added to the job when it is done, so the job counts what a
single-process run counts. The job closes, and the mapping's watermark moves (to the largest modified timestamp
read, never past the run's start), only when every partition is done; a failed partition leaves the watermark
where it was, and the next run of the mapping resumes the job (the partitions done are not run again).

Matching is not split (docs/decisions.md#partitions): when the destination has uncoupled rows and the mapping creates
and matches, partition 0 holds every uncoupled source row and the coordinator runs it first, alone, in the order one
process reads them; the key-range partitions then take the coupled rows. Two workers matching two source rows to one
destination row (each partition seeing it free) would leave the result to timing; this way it is what one process does.

Dependencies still order mappings: a full synchronisation line (integration/full_sync/run.py) is this run's
coordinator and finishes only when all its partitions are done, so CUSTOMER still waits for SALESPEOPLE.
"""

import logging
import time
from itertools import pairwise

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from erp.models import NumberedRecord
from erp.numbering import numbers_reserve
from p2c.said import counted, said, said_exception, said_from_data, said_stored

from .. import queue
from ..engine import sync as engine_sync
from ..engine.cursors import CHANGES, cursor_get
from ..engine.filters import filter_validate
from ..engine.job_log import job_summary_said, skip_reason_from_key
from ..engine.locks import MappingBusy, holders_alive, holding, mapping_lock, mapping_lock_refresh
from ..engine.matching import match_rules, uncoupled_destinations_exist
from ..engine.plan import plan_build, sides_of
from ..engine.reading import key_range_q
from ..engine.request import RunRequest
from ..models import Coupling, Direction, IntegrationTableMapping, SideCursor, SyncJob, SyncPartition

logger = logging.getLogger("p2c.integration")

State = SyncPartition.State
WAIT_POLL_SECONDS = 0.3  # how often a coordinator with nothing to claim looks at the partitions in flight
LOCK_REFRESH_SECONDS = 10


class PartitionLost(Exception):
    """The partition was taken over by another worker (this one was judged stopped): stop writing. ``said``: the
    message as what it means, for the job that stores it."""

    def __init__(self, message):
        super().__init__(str(message))
        self.said = message


# -- planning -----------------------------------------------------------------------------------------------------
def _source(mapping, direction):
    """(model, queryset of the rows passing the mapping's filter, modified field, watermark field) of the source."""
    if direction == Direction.TO_INTEGRATION:
        model, spec, watermark = mapping.erp_model_class(), mapping.erp_filter, "erp_watermark"
    else:
        model, spec, watermark = mapping.crm_model_class(), mapping.crm_filter, "crm_watermark"
    return model, model.objects.filter(filter_validate(model, spec or {})), model.MODIFIED_FIELD, watermark


def rows_to_read(*, mapping, direction, full):
    """The source rows a run would read, about (every filtered row; since the watermark for an incremental run), of a
    source in this process's database."""
    _, rows, modified, watermark_field = _source(mapping, direction)
    watermark = getattr(mapping, watermark_field)
    if not full and watermark is not None:
        rows = rows.filter(**{f"{modified}__gt": watermark - engine_sync.WATERMARK_MARGIN})
    return rows


def _remote_source(mapping, direction, full):
    """(the source's `Side`, the cursor a run reads since: None for a full read) when the source is not in this
    process's database (a Sales over the Web API), else None."""
    source, _destination = sides_of(mapping, direction)
    if source.reach.database is not None:
        return None
    return source.reach, None if full else cursor_get(mapping, source, CHANGES)


def enough_rows_to_read(*, mapping, direction, full, count):
    """Whether a run would read at least ``count`` source rows: from this process's database, or asked of the side
    (a Sales over the Web API: counted by the server, or the changes since the cursor read)."""
    remote = _remote_source(mapping, direction, full)
    if remote is None:
        return len(rows_to_read(mapping=mapping, direction=direction, full=full)
                   .values_list("pk", flat=True)[:count]) >= count
    side, since = remote
    return side.changed_count(since) >= count


def partition_bounds(*, mapping, direction, full, size):
    """Key ranges ``[(low, high), …]`` of about ``size`` rows to read each, tiling the whole key space (None: open).

    One pass over the keys of the rows to read, in key order, taking every ``size``-th as a boundary (memory flat in N
    in this database; a source over the Web API gives its keys, the rows to read, in pages: sorted here).
    """
    remote = _remote_source(mapping, direction, full)
    if remote is None:
        keys = rows_to_read(mapping=mapping, direction=direction, full=full).order_by("pk").values_list(
            "pk", flat=True).iterator(chunk_size=10000)
    else:
        side, since = remote
        keys = sorted((row[side.key_name] for page in side.changes(since, fields=[]) for row in page),
                      key=side.key_order)  # the order of the side's own range comparisons
    bounds = [key for i, key in enumerate(keys) if i and i % size == 0]
    edges = [None, *bounds, None]
    return list(pairwise(edges))


def _key_text(value):
    return "" if value is None else str(value)


def _key_value(model, text):
    return None if text == "" else model._meta.pk.to_python(text)


def partitions_plan(*, job, mapping, create_new=None, size=None):
    """Create the partitions of ``job`` (a run of ``mapping`` in the job's direction); return how many.

    When the run matches (the destination has uncoupled rows and the mapping creates and matches), partition 0
    takes every uncoupled source row, to be run first and alone (`uncoupled_partition_run`), and the key-range
    partitions the coupled ones: which source row a destination row is coupled to then depends on the order one
    process reads them in, as in a run without partitions, never on which worker got there first.
    """
    size = size or settings.P2C_SYNC_PARTITION_SIZE
    bounds = partition_bounds(mapping=mapping, direction=job.direction, full=job.full, size=size)
    uncoupled = _destinations_uncoupled(mapping=mapping, job=job)
    matching = uncoupled and _run_matches(mapping=mapping, job=job, create_new=create_new)
    first = [SyncPartition(job=job, position=0, low="", high="", create_new=create_new, rows_coupled=False,
                           destinations_uncoupled=True)] if matching else []
    SyncPartition.objects.bulk_create([*first, *(
        SyncPartition(job=job, position=len(first) + i, low=_key_text(low), high=_key_text(high),
                      create_new=create_new, destinations_uncoupled=False if matching else uncoupled,
                      rows_coupled=True if matching else None)
        for i, (low, high) in enumerate(bounds)
    )])
    return len(first) + len(bounds)


def _run_matches(*, mapping, job, create_new):
    """Whether the run looks for matches of its uncoupled rows: it creates (matching is how it avoids creating a
    record the destination has) and the mapping has match fields."""
    try:
        plan = plan_build(mapping=mapping, direction=job.direction, full=job.full, create_new=create_new)
    except ValidationError:
        return False
    return bool(plan.create_new and match_rules(plan))


def uncoupled_partition_run(*, job, token):
    """Run the job's partition of uncoupled rows here, before any worker is asked, unless it is done. The
    coordinator holds the mapping's lock: a partition still marked running was left by a coordinator that died."""
    first = job.partitions.filter(rows_coupled=False).exclude(state=State.DONE).first()
    if first is None:
        return
    now = timezone.now()
    SyncPartition.objects.filter(pk=first.pk).update(
        state=State.RUNNING, claim=token, heartbeat=now, started_at=now, finished_at=None,
        attempts=F("attempts") + 1, rows=0, message="", message_data=None)
    partition_run(partition=SyncPartition.objects.select_related("job").get(pk=first.pk), token=token)


def _destinations_uncoupled(*, mapping, job):
    """Whether the destination has rows without a coupling as the run (or its resumption) starts: asked once for
    all the partitions, since the question reads the whole destination table (`matching`). Rows the partitions
    write are coupled as they are written, so the answer holds for the whole run. None when the mapping cannot
    run: each partition then fails with the reason."""
    try:
        plan = plan_build(mapping=mapping, direction=job.direction, full=job.full)
    except ValidationError:
        return None
    return uncoupled_destinations_exist(plan)


# -- claiming and running -----------------------------------------------------------------------------------------
def partition_claim(*, job_id, token, pending=True):
    """Claim the next partition of job ``job_id`` for holder ``token``: a pending one, else one whose worker died.

    Each claim is a conditional UPDATE (PostgreSQL and SQLite perform it atomically): of two workers, one wins.
    Returns the claimed partition or None.
    """
    now = timezone.now()
    claimed = {"state": State.RUNNING, "claim": token, "heartbeat": now, "started_at": now, "finished_at": None,
               "attempts": F("attempts") + 1, "rows": 0, "message": "", "message_data": None}
    if pending:
        for pk in SyncPartition.objects.filter(job_id=job_id, state=State.PENDING).order_by("position").values_list(
                "pk", flat=True)[:20]:
            if SyncPartition.objects.filter(pk=pk, state=State.PENDING).update(**claimed):
                return SyncPartition.objects.select_related("job").get(pk=pk)
    running = list(SyncPartition.objects.filter(job_id=job_id, state=State.RUNNING).exclude(claim=token)
                   .values_list("pk", "claim", "heartbeat"))
    if not running:
        return None
    beats = {}
    for _, claim, beat in running:
        beats[claim] = max([b for b in (beat, beats.get(claim)) if b], default=None)
    alive = holders_alive(beats)
    for pk, claim, _ in running:
        if claim not in alive and SyncPartition.objects.filter(pk=pk, state=State.RUNNING, claim=claim).update(
                **claimed):
            logger.info("Partition %s of job %s taken over from %s (its worker stopped)", pk, job_id, claim)
            return SyncPartition.objects.select_related("job").get(pk=pk)
    return None


class PartitionSink:
    """Where one partition's run puts its counts and its outcome (the engine's *sink*, engine/request.py), instead
    of the run's job: the job belongs to the coordinator, which closes it once every partition is done. The
    partition keeps them in memory; `partition_run` records them with the partition and adds the counts to the job
    in one UPDATE."""

    COUNTERS = SyncJob.COUNTERS  # read as a job's, by name (`job_summary_said`)

    def __init__(self):
        for name in self.COUNTERS:
            setattr(self, name, 0)
        self.started_at = None
        self.failed_with = None  # (text, data) of the failure's message, once the run failed
        self.report, self.skip_reasons_data, self.max_seen = [], {}, None

    def start(self):
        self.started_at = timezone.now()

    def counts(self):
        return {name: getattr(self, name) for name in self.COUNTERS}

    def add_counts(self, counts):
        for name, n in counts.items():
            setattr(self, name, getattr(self, name) + n)

    def finish(self, message, *, limit=None):
        """Done: the job's message (and its ``limit``) is the coordinator's to write."""

    def fail(self, message):
        self.failed_with = said_stored(message)


class PartitionLease:
    """A worker's claim on a partition (the engine's *lease*, engine/request.py), renewed as each chunk commits:
    its heartbeat and the rows done. Lost when another worker took the partition over (this one was judged
    stopped): `renew` then raises `PartitionLost`, and the run stops writing."""

    def __init__(self, partition, token):
        self.partition, self.token = partition, token

    def renew(self, rows):
        if not SyncPartition.objects.filter(pk=self.partition.pk, claim=self.token).update(
                heartbeat=timezone.now(), rows=F("rows") + rows):
            raise PartitionLost(said(gettext_noop("Partition %(position)s was taken over by another worker."),
                                     position=self.partition.position))


def partition_run(*, partition, token):
    """Run one claimed partition with the engine and record it; return its state."""
    job = partition.job
    mapping = IntegrationTableMapping.objects.get(pk=job.table_mapping_id)
    model = (mapping.erp_model_class() if job.direction == Direction.TO_INTEGRATION else mapping.crm_model_class())
    key_range = (_key_value(model, partition.low), _key_value(model, partition.high))
    sink = PartitionSink()
    try:
        series, count = (None, 0) if partition.rows_coupled is not None else _numbers_needed(
            mapping=mapping, job=job, create_new=partition.create_new, key_range=key_range)
        engine_sync.mapping_synchronize(RunRequest(
            mapping=mapping, direction=job.direction, full=job.full, create_new=partition.create_new,
            jobs={job.direction: job}, lock_token=job.holder, key_range=key_range,
            destinations_uncoupled=partition.destinations_uncoupled, rows_coupled=partition.rows_coupled,
            numbers_reserved=numbers_reserve(series=series, count=count), sink=sink,
            lease=PartitionLease(partition, token)))
        failed = sink.failed_with is not None
        message = sink.failed_with or ("", None)
    except MappingBusy as exc:
        failed, message = True, said_stored(getattr(exc, "said", str(exc)))
    except Exception as exc:  # the partition fails; the others go on, and a rerun takes it up again
        logger.exception("Partition %s of job %s failed", partition.position, job.pk)
        failed, message = True, said_stored(said_exception(exc))
    with transaction.atomic():
        done = SyncPartition.objects.filter(pk=partition.pk, claim=token, state=State.RUNNING).update(
            state=State.FAILED if failed else State.DONE, finished_at=timezone.now(), heartbeat=timezone.now(),
            counts=sink.counts(), skips=sink.skip_reasons_data or {}, message=message[0][:2000],
            message_data=message[1], max_seen=sink.max_seen)
        if done and not failed:  # counted once: only by the worker whose claim it still is
            SyncJob.objects.filter(pk=job.pk).counts_add(sink.counts())
    return (State.FAILED if failed else State.DONE) if done else None


def _numbers_needed(*, mapping, job, create_new, key_range):
    """(number series, how many numbers) a partition's new ERP records may take: its source rows without a coupling,
    from the destination's default series; (None, 0) when it creates nothing numbered that way. The partition takes
    them before it starts (`numbers_reserve`), so partitions running side by side do not queue on the series row."""
    plan = plan_build(mapping=mapping, direction=job.direction, full=job.full, create_new=create_new,
                      key_range=key_range)
    model = plan.destination.model
    if (not plan.create_new or plan.dry_run or not issubclass(model, NumberedRecord)
            or plan.source.reach.database is None):  # a source over HTTP: counting its range would read it twice
        return None, 0
    series = model.series_of_every_new()
    if series is None:  # none set up, or a series chosen per record
        return None, 0
    # Two range reads, set apart here: an anti-join would let a planner with stale statistics (a coupling table
    # it takes for empty) scan the whole table once per source row.
    querysets, _, _ = engine_sync.source_querysets(plan)
    keys = {key for queryset in querysets for key in queryset.values_list("pk", flat=True)}
    id_field = plan.source.id_field
    coupled = (Coupling.objects.filter(key_range_q(key_range, id_field), **plan.coupling_pair)
               .values_list(id_field, flat=True))
    return series, len(keys.difference(coupled.iterator(chunk_size=10000)))


def partitions_work(*, job_id, token, until_finished=False, pending=True):
    """Claim and run partitions of job ``job_id`` as holder ``token`` until none is left to claim; return how many
    ran. ``until_finished``: then wait for the partitions other workers run, taking over any whose worker dies.
    ``pending=False``: only take over partitions whose worker died (a coordinator that does not run partitions)."""
    ran = 0
    refreshed = time.monotonic()
    while True:
        partition = partition_claim(job_id=job_id, token=token, pending=pending)
        if partition is not None:
            partition_run(partition=partition, token=token)
            ran += 1
            continue
        left = SyncPartition.objects.filter(job_id=job_id, state__in=[State.PENDING, State.RUNNING])
        if not until_finished or not left.exists():
            return ran
        if time.monotonic() - refreshed > LOCK_REFRESH_SECONDS:
            mapping_id = SyncJob.objects.filter(pk=job_id).values_list("table_mapping_id", flat=True).first()
            mapping_lock_refresh(IntegrationTableMapping.objects.get(pk=mapping_id), token)
            refreshed = time.monotonic()
        time.sleep(WAIT_POLL_SECONDS)


def partitions_work_here(*, job_id):
    """What a worker does with a partitioned job (the Celery task): claim and run partitions while there are any,
    then close the job if it was the last (its coordinator may have died)."""
    job = SyncJob.objects.filter(pk=job_id).only("status").first()
    if job is None or job.status != SyncJob.Status.RUNNING:
        return {"job": job_id, "partitions": 0}
    with holding() as holder:  # alive while this worker runs partitions (their claims name it)
        ran = partitions_work(job_id=job_id, token=holder.token)
    partitioned_job_finish(job_id=job_id)
    return {"job": job_id, "partitions": ran}


# -- finishing ----------------------------------------------------------------------------------------------------
def _summary(job, skips, partitions):
    """The partitioned job's closing message as what it means (p2c.said): the job's counts and skip reasons (the
    partitions keep no records' names; ``skips``: `skip_reason_key` → count), then how many partitions ran."""
    text = job_summary_said(job, {skip_reason_from_key(reason): (n, []) for reason, n in skips.items()})
    # Translators: a partitioned job's message, then how many key-range partitions the run was split into.
    return counted("%(summary)s (%(count)s partition)", "%(summary)s (%(count)s partitions)", summary=text,
                   count=partitions)


def partitioned_job_finish(*, job_id):
    """Close job ``job_id`` when none of its partitions is pending or running; return the job, or None while some are.

    All done: the job succeeds (error when rows failed) and the mapping's watermark moves to the largest modified
    timestamp read, never past the job's start. Some failed: the job fails naming them; the watermark stays, and
    the next run of the mapping takes them up again. Only the caller whose conditional UPDATE closes the job moves
    the watermark.
    """
    partitions = list(SyncPartition.objects.filter(job_id=job_id).values("state", "skips", "message", "message_data",
                                                                          "max_seen", "position"))
    if not partitions or any(p["state"] in (State.PENDING, State.RUNNING) for p in partitions):
        return None
    job = SyncJob.objects.get(pk=job_id)
    if job.status != SyncJob.Status.RUNNING:
        return job
    failed = [p for p in partitions if p["state"] == State.FAILED]
    skips = {}
    for p in partitions:
        for reason, n in (p["skips"] or {}).items():
            skips[reason] = skips.get(reason, 0) + n
    if failed:
        first = failed[0]
        error = said_from_data(first["message_data"]) if first["message_data"] else first["message"]
        message = counted(
            "%(failed)s of %(count)s partition failed (partition %(position)s: %(error)s); the rest is written. "
            "Synchronise the mapping again: the run goes on with the partitions not done. So far: %(summary)s",
            "%(failed)s of %(count)s partitions failed (partition %(position)s: %(error)s); the rest is written. "
            "Synchronise the mapping again: the run goes on with the partitions not done. So far: %(summary)s",
            failed=len(failed), count=len(partitions), position=first["position"], error=error,
            summary=_summary(job, skips, len(partitions)))
    else:
        message = _summary(job, skips, len(partitions))
    with transaction.atomic():
        running = SyncJob.objects.filter(pk=job_id, status=SyncJob.Status.RUNNING)  # of two closing, one wins
        if not (running.fail(message) if failed else running.finish(message, rows_failed=job.failed)):
            return SyncJob.objects.get(pk=job_id)
        seen = [p["max_seen"] for p in partitions if p["max_seen"]]
        if not failed and job.table_mapping_id:  # what the run moves once it is whole, as an unpartitioned one
            taken = SideCursor.objects.filter(table_mapping_id=job.table_mapping_id, name=_taken_cursor_name(job))
            engine_sync.run_done_advance(mapping=job.table_mapping, direction=job.direction, started=job.started_at,
                                         max_seen=max(seen, default=None),
                                         cursor=taken.values_list("value", flat=True).first())
            taken.delete()
    job.refresh_from_db()
    return job


def _taken_cursor_name(job):
    return f"run_{job.pk}"


def _source_cursor_take(*, job, mapping):
    """A source not in this process's database (a Sales over the Web API) gives a cursor for its changes, which its
    partitions, each reading a key range, do not: one is taken before they read (the changes from then on: a row
    read by a partition may come again in the next run, never not at all) and kept with the job
    (`SideCursor` ``run_<job>``, there for a resumed run), to become the source's cursor once every partition is
    done (`partitioned_job_finish`), so that the next run reads only what changed. A cursor taken for an earlier
    run never finished is dropped."""
    source, _destination = sides_of(mapping, job.direction)
    if source.reach.database is not None or job.dry_run:
        return
    SideCursor.objects.filter(table_mapping_id=mapping.pk, name__startswith="run_").delete()
    SideCursor.objects.create(table_mapping_id=mapping.pk, name=_taken_cursor_name(job),
                              value=source.reach.deletions_cursor())


# -- the coordinator ----------------------------------------------------------------------------------------------
def _resumable_job(mapping, direction, full):
    """The mapping's latest job in ``direction``, when it is a partitioned run not finished: partitions not done, or
    all done but never closed (its coordinator died and the job was closed as stopped: the watermark still waits)."""
    job = SyncJob.objects.filter(table_mapping=mapping, direction=direction,
                                 type=SyncJob.Type.SYNCHRONIZATION).order_by("-pk").first()
    if job is None or job.full != full or job.dry_run or not job.partitions.exists():
        return None
    unfinished = job.status in (SyncJob.Status.RUNNING, SyncJob.Status.FAILED)
    return job if unfinished or job.partitions.exclude(state=State.DONE).exists() else None


def partitioned(*, mapping, direction=None, full=False, workers=None, dry_run=False):
    """Whether a run of ``mapping`` goes over partitions: more than one worker, not a dry run nor an option mapping,
    and enough rows to read (at least two partitions' worth in some direction), or a partitioned run to resume."""
    workers = settings.P2C_SYNC_WORKERS if workers is None else workers
    if workers <= 1 or dry_run or mapping.is_option_mapping:
        return False
    directions = mapping.directions(direction)
    size = settings.P2C_SYNC_PARTITION_SIZE
    return any(_resumable_job(mapping, d, full) or
               enough_rows_to_read(mapping=mapping, direction=d, full=full, count=2 * size)
               for d in directions)


def mapping_synchronize_partitioned(request=None, /, *, workers=None, participate=True, **fields):
    """Run ``request`` (a `RunRequest`, or one made of ``fields``) as `engine.sync.mapping_synchronize` does, over
    ``workers`` workers (default: the deployment's P2C_SYNC_WORKERS); returns the jobs. A run that is not worth
    partitioning (`partitioned`) runs here, in one process, exactly as before.

    Per direction: the job (handed in, the one to resume, or a new one) is split into partitions, ``workers``
    Celery tasks (one fewer when this process ``participate``s) claim and run them, and this process, the
    coordinator, holds the mapping's lock until every partition is done, taking over the partitions of workers
    that die; then it closes the job and the watermark moves. Children run afterwards, as in a single-process run.
    """
    if request is not None and fields:
        raise TypeError("mapping_synchronize_partitioned takes a RunRequest or its fields, not both.")
    request = request or RunRequest(**fields)
    mapping, direction, full, create_new = request.mapping, request.direction, request.full, request.create_new
    workers = settings.P2C_SYNC_WORKERS if workers is None else workers
    if workers < 1:
        raise ValueError(f"The number of workers must be 1 or more, not {workers}.")
    if not partitioned(mapping=mapping, direction=direction, full=full, workers=workers, dry_run=request.dry_run):
        return engine_sync.mapping_synchronize(request)
    directions = mapping.directions(direction)
    results = []
    with mapping_lock(mapping, wait_seconds=request.wait_seconds) as token:
        for one_way in directions:
            job = ((request.jobs or {}).get(one_way) or _resumable_job(mapping, one_way, full)
                   or engine_sync.job_create(mapping=mapping, direction=one_way, full=full))
            job.start(holder=token, started_at=job.started_at)  # a resumed run keeps its start
            job.refresh_from_db()
            if not job.partitions.exists():
                _source_cursor_take(job=job, mapping=mapping)
                partitions_plan(job=job, mapping=mapping, create_new=create_new)
            else:  # resumed: the failed partitions go again, the done ones stay done
                job.partitions.filter(state=State.FAILED).update(state=State.PENDING, claim="")
                job.partitions.exclude(state=State.DONE).exclude(rows_coupled=True).update(
                    destinations_uncoupled=_destinations_uncoupled(mapping=mapping, job=job))
            uncoupled_partition_run(job=job, token=token)
            queue.partitions_enqueue(job=job, count=workers - 1 if participate else workers)
            partitions_work(job_id=job.pk, token=token, until_finished=True, pending=participate)
            results.append(partitioned_job_finish(job_id=job.pk) or SyncJob.objects.get(pk=job.pk))
    for child in mapping.children.filter(is_enabled=True):
        results.extend(mapping_synchronize_partitioned(RunRequest(
            mapping=child, direction=direction, full=full, create_new=create_new,
            wait_seconds=request.wait_seconds), workers=workers, participate=participate))
    return results

