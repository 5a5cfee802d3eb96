"""Synchronise a table mapping: read changed source rows in chunks, write the destination, keep the couplings.

Per chunk, in one transaction and a constant number of queries whatever the rows hold: the couplings of the
rows, their destination rows, the related couplings and keys the field mappings need (`ChunkTransfer`), then
bulk writes of new and changed destination rows, of couplings, and of the job's errors. A row that fails is
logged with its message and left out; the rest of the chunk is written.

A row is *unchanged* when its modified-on is not newer than its coupling's last synchronised value. After
writing a destination row the engine stores that row's new modified-on in the coupling, so the next run in the
other direction finds it unchanged: no ping-pong. Sales rows last written by the integration user are not read,
unless a field mapping carries a Sales field to the ERP only (`integration_user_rows_skipped`).

Conflicts, as Business Central (docs/features.md I5): a coupled row whose destination changed since the last
synchronisation while the source did not is no conflict: the destination *holds newer data*, the row is skipped in this
direction (counted skipped, with that reason in the job's message; the coupling is neither failed nor parked) and its
change flows the other way in the other pass. Only a row changed on both sides is an update conflict, resolved by the
mapping's update-conflict resolution; when it goes ahead, the destination stays "changed" for the other pass
(`BOTH_MODIFIED_MARGIN`), so a merge of both sides completes over the two passes.

The run is split by what it does: reading.py (the source rows), deciding.py (what each row needs), writing.py (the
bulk writes), job_log.py (the job's counters and message), write_behind.py (on PostgreSQL, chunks of new rows written by a thread
of their own while the next is decided); this module runs them: `mapping_synchronize` over a
mapping's directions (what it is asked: a `RunRequest`, request.py), `DirectionRun` over the chunks of one direction,
`ChunkRun` over one chunk. `DirectionRun` is the chunk loop of every kind of run, each with its work (work.py): a
synchronisation (`Synchronisation`), match-based coupling (coupling/couplings.py), an option mapping (options.py).
A dry run decides each chunk and reports the decision (`ChunkRun.report_only`); nothing of it reaches the writes.
"""

import logging
from contextlib import contextmanager
from operator import attrgetter

from django.conf import settings
from django.utils.translation import gettext_noop

from integration.models import Coupling, Direction, IntegrationTableMapping
from p2c.databases import database_for
from p2c.deletions import deletion_log_of
from p2c.said import said, said_exception
from p2c.utils import collector_paused, planner_statistics_refresh

from .conflicts import ChunkConflicts
from .cursors import CHANGES, DELETIONS, cursor_set
from .deciding import ChunkDecisions
from .intents import (
    SideUnavailable,
    database_failed,
    intents_complete,
    side_failure,
    side_unavailable,
)
from .job_log import REPORT_LIMIT, SKIP_EXAMPLES, ChunkResult, JobLog, job_create
from .locks import MappingLockLost, mapping_lock, mapping_lock_refresh
from .matching import uncoupled_destinations_exist
from .options import OptionCoupling
from .plan import plan_build, sides_of
from .reading import (
    ALL,
    RETRY_BATCH,
    WATERMARK_MARGIN,
    FailedInserts,
    counterpart_ids,
    iterate_chunks,
    source_attnames,
    source_querysets,
)
from .request import RunRequest
from .sides.dataverse_http import SalesApiError
from .store import CouplingStore
from .transfer import ChunkTransfer
from .work import ChunkWork
from .write_behind import ChunkWriter, write_behind_possible
from .writing import BOTH_MODIFIED_MARGIN, ChunkWrites

__all__ = [
    "ALL", "ANALYZE_AFTER", "ANALYZE_GROWTH", "BOTH_MODIFIED_MARGIN", "REPORT_LIMIT", "RETRY_BATCH", "SKIP_EXAMPLES",
    "WATERMARK_MARGIN",
    "ChunkResult", "ChunkRun", "ChunkWork", "DirectionRun", "FailedInserts", "RunRequest", "Synchronisation",
    "counterpart_ids", "iterate_chunks", "job_create", "mapping_synchronize", "run_done_advance", "source_querysets",
    "watermark_advance",
]

logger = logging.getLogger("p2c.integration")

ANALYZE_AFTER = 1000  # rows a run writes before the planner statistics are refreshed as the tables grow (a first load)
# ... then each time they double: the planner scales a table's row count by its pages, so what it lacks during a load
# is a sample of what the rows hold (one pair, unique ids), which growth does not change; by a tenth, a 20,000-row
# load spent 8% of its time in 26 ANALYZEs.
ANALYZE_GROWTH = 1.0


def watermark_advance(*, mapping_id, name, value):
    """Move the mapping's watermark ``name`` to ``value`` unless it is already there or later; return whether it
    moved (a run never moves it back: another run may have gone further)."""
    mappings = IntegrationTableMapping.objects.filter(pk=mapping_id)
    current = mappings.values_list(name, flat=True).first()
    if current is not None and value <= current:
        return False
    mappings.update(**{name: value})
    return True


def watermark_after(*, max_seen, started):
    """The watermark a whole run leaves: the next run reads the rows modified after it, less `WATERMARK_MARGIN`.

    The margin is for late commits: a row whose transaction began before the run read, with a modified-on a little
    older than the latest one read, committed only after. Such a row's modified-on is within the margin of the
    run's start, so the next run has to read again from ``min(max_seen, started - margin)``, no earlier: when the
    latest change read is older than that (a settled table), the rows read last time are not read again, run after
    run, until something changes (docs/decisions.md#settled-runs-cost-what-changed: 48,892 rows re-read by every settled
    run after one bulk rename)."""
    return min(max_seen + WATERMARK_MARGIN, started)


def run_done_advance(*, mapping, direction, started, max_seen, cursor=None, deletions_cursor=None):
    """What a whole run in ``direction`` moves once it is done (not a dry run, nor a run of some records or of one key
    range: those read part of the source): the source's watermark to the latest change it read (``max_seen``, None
    when it read none), at most the run's start; and, where the destination keeps a log of its deletions
    (p2c.deletions), the time up to which they were checked, to the run's start. ``mapping`` keeps what moved. A
    partitioned run's coordinator calls it once every partition is done (full_sync/partitions.py).

    A side not in this process's database keeps the cursors it gave instead (cursors.py): ``cursor``, where its
    changes were read up to (its watermark then says when, for the health page's counts), and
    ``deletions_cursor``, where its deletions were checked up to."""
    source, destination = sides_of(mapping, direction)
    if source.reach.database is not None:
        moves = [(source.watermark_field, max_seen and watermark_after(max_seen=max_seen, started=started))]
    else:
        if cursor is not None:
            cursor_set(mapping, source, CHANGES, cursor)
        moves = [(source.watermark_field, started)]
    if destination.reach.database is None:
        if deletions_cursor is not None:
            cursor_set(mapping, destination, DELETIONS, deletions_cursor)
    elif deletion_log_of(destination.model):  # every deletion before the run's start is found
        moves.append((destination.deletions_checked_field, started))
    for name, value in moves:
        if value is not None and watermark_advance(mapping_id=mapping.pk, name=name, value=value):
            setattr(mapping, name, value)


def mapping_synchronize(request=None, /, **fields):
    """Run ``request`` (a `RunRequest`; or one made of ``fields``, its fields, as tests and scripts give them).

    Returns the SyncJob of each direction run (a partition's sink instead, when the request hands one in). Raises
    MappingBusy when another run holds the mapping.
    """
    if request is not None and fields:
        raise TypeError("mapping_synchronize takes a RunRequest or its fields, not both.")
    request = request or RunRequest(**fields)
    mapping = request.mapping
    directions = mapping.directions() if request.direction in (None, Direction.BIDIRECTIONAL) else [request.direction]
    ids_side = request.ids_side
    if request.only_ids is not None and ids_side is None:
        if len(directions) > 1:
            raise ValueError("Synchronising selected records in both directions needs ids_side (erp or crm).")
        ids_side = _source_key(directions[0])
    results = []
    with mapping_lock(mapping, wait_seconds=request.wait_seconds, token=request.lock_token) as token:
        for one_way in directions:
            results.append(_direction_run(request, one_way, ids_side, token))
    if request.whole:
        for child in mapping.children.filter(is_enabled=True):
            results.extend(mapping_synchronize(request.for_child(child)))
    return results


def _direction_run(request, direction, ids_side, token):
    """One direction of ``request``, under the mapping's lock ``token``: its job (or the request's sink)."""
    mapping, ids = request.mapping, request.only_ids
    if ids is not None and _source_key(direction) != ids_side:
        ids = counterpart_ids(mapping=mapping, side=ids_side, ids=ids)
    plan = plan_build(mapping=mapping, direction=direction, full=request.full, dry_run=request.dry_run,
                      create_new=request.create_new, only_ids=ids, key_range=request.key_range,
                      rows_coupled=request.rows_coupled, decisions=request.decisions,
                      numbers_reserved=request.numbers_reserved)
    if request.destinations_uncoupled is not None:
        plan.per_run_known(uncoupled_destinations_exist, request.destinations_uncoupled)
    job = (request.jobs or {}).get(direction) or job_create(
        mapping=mapping, direction=direction, full=request.full and request.only_ids is None,
        dry_run=request.dry_run, records_given=None if request.only_ids is None else len(request.only_ids),
        holder=token)
    job.holder = token  # a job whose holder dies is closed as failed (engine/locks.py)
    work = request.work or (OptionCoupling if mapping.is_option_mapping else Synchronisation)
    return DirectionRun(plan, job, request=request, lock_token=token, work=work).run()


def _source_key(direction):
    return "erp" if direction == Direction.TO_INTEGRATION else "crm"


class DirectionRun:
    """One job: a mapping in one direction, read in chunks, each handed to the run's *work*. The one chunk loop of
    every kind of run: a synchronisation (`Synchronisation`, the default), match-based coupling
    (coupling/couplings.py) and an option mapping's codes (options.py) differ only in their work (`ChunkWork`).

    The loop keeps the run's life: it starts the job, reads the source through its side in chunks, adds each
    chunk's counts as it commits, checks the mapping's lock (``lock_token``) and renews the request's lease after
    each chunk (stopping when either is lost: what was committed stays), refreshes the planner's statistics as the
    tables grow, and closes the job with `finish` or `fail`. Its counts and outcome go to its sink: the job, or the
    one the request hands in (a partition's)."""

    def __init__(self, plan, job, *, request, lock_token=None, work=None):
        self.plan = plan
        self.job = job
        self.request = request
        self.sink = self.request.sink or job
        self.progress = self.request.progress
        self.lock_token = lock_token
        self.chunk_size = settings.P2C_SYNC_CHUNK_SIZE
        self.work = (work or Synchronisation)(self)

    def run(self):
        job, plan, sink, request, work = self.job, self.plan, self.sink, self.request, self.work
        sink.start()
        started = sink.started_at
        max_seen = None
        log = JobLog(sink, dry_run=request.dry_run)
        modified_field = plan.source.modified_field
        try:
            if self.lock_token:
                mapping_lock_refresh(plan.mapping, self.lock_token)  # still ours (a previous direction may have run long)
            if work.writes_records:
                sales = plan.source if plan.source.key == "crm" else plan.destination
                if not sales.reach.in_database(database_for(Coupling)):
                    # Sales writes a stopped run intended: adopted or forgotten before anything is read (intents.py)
                    intents_complete(**plan.coupling_pair, integration_user_id=plan.integration_user_id,
                                     erp_range=plan.key_range if plan.source.key == "erp" else None)
                if plan.only_ids is None:  # a source just loaded in bulk, never analysed: its pages would be sorted,
                    # and SQLite would read every coupling of the pair for each chunk (p2c.utils)
                    plan.source.reach.statistics_refresh(Coupling)
            reads, forced = work.reads()
            total = sum(map(plan.source.reach.read_count, reads)) if self.progress else None
            # Rows written by this run when each table's statistics were last refreshed: each its own, as one
            # table may pass the refresh rule a chunk before the other (a destination in this process's database)
            analysed_at = dict.fromkeys([Coupling, *([plan.destination.model]
                                                     if plan.destination.reach.database is not None else [])], 0)
            if not work.writes_records:  # nothing of the tables grows
                analysed_at = {}

            def written(rows, result):
                nonlocal max_seen
                log.add(result)
                done = log.written()
                since = {model: done - at for model, at in analysed_at.items() if done > at}
                # As the tables grow, or each chunk's coupling lookup would read them whole
                if done >= ANALYZE_AFTER and since:
                    for model in planner_statistics_refresh(*since, written=since, growth=ANALYZE_GROWTH):
                        analysed_at[model] = done
                if work.moves_watermark:
                    modified = [getattr(r, modified_field) for r in rows]
                    max_seen = max([m for m in [max_seen, *modified] if m is not None], default=None)
                if self.lock_token:
                    mapping_lock_refresh(plan.mapping, self.lock_token)
                if request.lease is not None:
                    request.lease.renew(len(rows))
                if self.progress:
                    self.progress(job=sink, done=len(rows), total=total)

            self._chunks_run(reads, forced, written)
            if request.whole and work.moves_watermark:
                deletions_cursor = plan.cursors.get(DELETIONS)
                if deletions_cursor is not None and (log.counts["inserted"] or log.counts["modified"]):
                    # taken before this run's writes: moved past them, or the next run reads them back
                    deletions_cursor = plan.destination.reach.deletions_cursor_past_writes(deletions_cursor)
                run_done_advance(mapping=plan.mapping, direction=plan.direction, started=started, max_seen=max_seen,
                                 cursor=plan.source.reach.cursor_after(reads, max_seen=max_seen, started=started),
                                 deletions_cursor=deletions_cursor)
            failure = None
        except Exception as exc:  # the job fails as a whole; its rows' own errors are already logged
            if side_failure(exc) and not isinstance(exc, SideUnavailable):
                exc = side_unavailable(exc, database_failed(plan.source.database, plan.destination.database))
            expected = isinstance(exc, SideUnavailable | SalesApiError | MappingLockLost)
            if expected:  # one line, not a traceback
                logger.warning("Synchronisation job %s failed: %s", job.pk, exc)
            else:
                logger.exception("Synchronisation job %s failed", job.pk)
            # An unexpected exception's class and words as data, under a sentence told in the reader's language.
            error = getattr(exc, "said", None) or (str(exc) if expected else said_exception(exc))
            failure = said(gettext_noop("The job failed: %(error)s"), error=error)
        sink.report = log.report if request.dry_run else []
        if failure is None:
            sink.finish(work.closing(log), limit=work.message_limit)
        else:
            sink.fail(failure)
        sink.skip_reasons = log.skip_reasons()  # for the caller, not stored
        sink.skip_reasons_data = log.skip_reasons_data()  # the same as what they mean, for a partition to store
        # A partition's coordinator advances the watermark once every partition is done (not stored either);
        # capped at the run's start as the watermark of a whole run is.
        sink.max_seen = None if max_seen is None else min(max_seen, started)
        if failure is None:
            work.closed()
        return sink

    def _chunks_run(self, reads, forced, written):
        """Hand every chunk to the work; ``written(rows, result)`` once each is committed (by the work)."""
        chunks = self._chunks(reads, forced)
        with self.work.writing():
            while True:
                # reading a chunk and the work on it; the chunk's objects are dropped when _chunk_run returns, so
                # the collection after it walks what they left in cycles, not all of them
                with collector_paused():
                    if not self._chunk_run(chunks, written):
                        break

    def _chunk_run(self, chunks, written):
        """Read the next chunk and hand it to the work; False when there is none."""
        rows = next(chunks, None)
        if rows is None:
            return False
        self.work.chunk(rows, written)
        return True

    def _chunks(self, reads, forced):
        """The chunks of every read in turn; a row that an earlier read took (a retry that also changed) is left
        out of the later ones, so no row is synchronised twice in one run."""
        read, pk_of = set(), self.plan.source.pk_of
        for queryset in reads:
            for rows in iterate_chunks(queryset, self.chunk_size, self.plan.per_run(source_attnames),
                                       side=self.plan.source.reach):
                if read:
                    rows = [row for row in rows if pk_of(row) not in read]
                if forced is not ALL and forced:
                    read.update(forced.intersection(map(pk_of, rows)))
                if rows:
                    handed = [rows]  # not kept here meanwhile (reading.iterate_chunks)
                    del rows
                    yield handed.pop()


class Synchronisation(ChunkWork):
    """A direction run's work: each chunk decided and written (`ChunkRun`); chunks of new rows only written behind,
    while the next is read and decided, where the run allows it (write_behind.py)."""

    moves_watermark = True

    def reads(self):
        reads, self.forced, self.failed_inserts = source_querysets(self.plan)
        return reads, self.forced

    @contextmanager
    def writing(self):
        self.writer = ChunkWriter() if not self.run.request.dry_run and write_behind_possible(self.plan) else None
        try:
            yield
        finally:
            if self.writer is not None:
                self.writer.close()

    def chunk(self, rows, written):
        """Decide and write the chunk (or hand it to the writer)."""
        plan, job, forced, failed_inserts, writer = self.plan, self.job, self.forced, self.failed_inserts, self.writer
        chunk = ChunkRun(plan, job, rows, forced=forced, failed_inserts=failed_inserts)
        if self.run.request.dry_run:  # decided and reported, nothing written
            written(rows, chunk.report_only())
            return
        if writer is not None:
            if chunk.decide_ahead():
                writer.submit(chunk, lambda result, rows=rows: written(rows, result))
                return
            writer.wait()  # the chunk before is written before this one reads what it locks
            if chunk.decided is not None:  # a match found: decided again, its destination rows locked
                chunk = ChunkRun(plan, job, rows, forced=forced, failed_inserts=failed_inserts)
        written(rows, chunk.run())


class ChunkRun(ChunkDecisions, ChunkWrites):
    """Decide and write one chunk of source rows."""

    def __init__(self, plan, job, rows, *, forced=frozenset(), failed_inserts=None):
        self.plan, self.job, self.rows, self.forced = plan, job, rows, forced
        self.failed_inserts = failed_inserts or FailedInserts.load(plan)
        self.result = ChunkResult()
        self.inserts = []  # (source row, new destination object)
        self.insert_values = []  # the values of each new destination object, in the same order (a dry run's report)
        self.updates = []  # (source row, coupling, destination object, changes)
        self.touches = []  # (source row, coupling, destination object): values equal, refresh timestamps
        self.couple = []  # (source row, destination object) matched: new coupling
        self.uncouple = []  # couplings to delete
        self.failures = []  # (source row, coupling or None, destination pk or "", message)
        self.keep_changed = set()  # source pks whose destination stays "changed" for the other pass
        self.couplings = None  # source pk → coupling, once read
        self.claimed = {}  # source pk → the coupling made for a matched row before writing it (`_claim_matched`)
        self.decided = None  # the decision (`ChunkDecision`) decide_ahead made
        self.conflicts = ChunkConflicts(plan)  # field by field: who changed what, the conflict inbox's rows
        self.store = plan.per_run(CouplingStore)  # the couplings' and intents' writes

    def decide_ahead(self):
        """Read the chunk's couplings; when none of its rows is coupled, decide it outside a transaction (no
        destination row to lock). Whether it is decided and holds new rows only, to be written by
        `write_decided` (a match found leaves a destination row to update: the chunk is to be run again); those
        rows then have their keys (`keys_take`)."""
        self._couplings_read()
        if self.couplings:
            return False
        self.decided = self.decide(lock=False)
        if self.updates or self.touches or self.couple or self.uncouple:
            return False
        # The new rows' keys, taken now on the run's connection (which would wait for the writer meanwhile): a round
        # trip less in the writer's transaction, whose pace the run goes at
        self.plan.destination.reach.keys_take([dest for _, dest in self.inserts])
        return True

    def write_decided(self):
        """The writes of a chunk `decide_ahead` decided, in transactions of their own (`CouplingStore.chunk_write`)."""
        self.store.chunk_write(self)
        return self.result

    def run(self):
        """Decide the chunk, its destination rows locked, and write it (`CouplingStore.chunk_write`: one transaction
        in one database, or across two the intents, the destination's write and the confirmation)."""
        self.store.chunk_write(self, decide=True)
        return self.result

    def report_only(self):
        """Decide the chunk and report the decision (a dry run): nothing written, no destination row locked."""
        with self.plan.destination.reach.transaction():
            decision = self.decide(lock=False)
        self.report(decision)
        return self.result

    def _couplings_read(self):
        self.couplings = self.store.of_sources(list(map(self.plan.source.pk_of, self.rows)))

    def decide(self, *, lock):
        """Read and decide the chunk (its destination rows locked for the write when ``lock``): its decision, a
        value the write takes (`ChunkDecision`); nothing written."""
        self._read_and_decide(lock=lock)
        return self.decision()

    def _read_and_decide(self, *, lock):
        """The chunk's couplings and destination rows (locked for the write), then what each row needs."""
        plan = self.plan
        destination = plan.destination
        if self.couplings is None:
            self._couplings_read()
        # Coupled rows whose source has not changed since the last synchronisation need nothing more:
        # count them and load destinations and related data for the others only. (A chunk of a first load has no
        # coupling and no failed insertion: no row of it is either, and it is not asked row by row.)
        pk_of, couplings = plan.source.pk_of, self.couplings
        if plan.rows_coupled is False:  # this partition's share of the chunk (full_sync/partitions.py)
            self.rows = [row for row in self.rows if pk_of(row) not in couplings]
        elif plan.rows_coupled:  # less those the partition of uncoupled rows has just coupled, in this job
            job_of, job_pk = attrgetter(plan.destination.job_field), self.job.pk
            self.rows = [row for row in self.rows if (c := couplings.get(pk_of(row))) is not None and job_of(c) != job_pk]
        if couplings or self.failed_inserts.entries:
            self.rows = [row for row in self.rows if not self._unchanged(row) and not self._waiting(row)]
        dest_ids = [getattr(couplings[pk], destination.id_field) for pk in map(pk_of, self.rows)
                    if pk in couplings] if couplings else []
        self.destinations = destination.reach.records(dest_ids, lock=lock)
        self.transfer = ChunkTransfer(plan, self.rows)
        self._decide_all()
