"""Synchronise a table mapping: read changed source rows in chunks, write the destination, keep the couplings.

Per chunk, in one transaction and a constant number of queries whatever the rows hold: the couplings of the
rows, their destination rows, the related couplings and keys the field mappings need (`ChunkTransfer`), then
bulk writes of new and changed destination rows, of couplings, and of the job's errors. A row that fails is
logged with its message and left out; the rest of the chunk is written.

A row is *unchanged* when its modified-on is not newer than its coupling's last synchronised value. After
writing a destination row the engine stores that row's new modified-on in the coupling, so the next run in the
other direction finds it unchanged: no ping-pong. Sales rows last written by the integration user are not read,
unless a field mapping carries a Sales field to the ERP only (`integration_user_rows_skipped`).

Conflicts, as Business Central (SPEC I5): a coupled row whose destination changed since the last synchronisation
while the source did not is no conflict: the destination *holds newer data*, the row is skipped in this direction
(counted skipped, with that reason in the job's message; the coupling is neither failed nor parked) and its change
flows the other way in the other pass. Only a row changed on both sides is an update conflict, resolved by the
mapping's update-conflict resolution; when it goes ahead, the destination stays "changed" for the other pass
(`BOTH_MODIFIED_MARGIN`), so a merge of both sides completes over the two passes.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.text import capfirst

from integration.rules.base import RowError
from p2c.records import insert_rows, update_rows, writing_as
from p2c.utils import chunked, planner_statistics_refresh

from .conflicts import ChunkConflicts
from .locks import mapping_lock, mapping_lock_refresh
from .matching import match_rules, matches_find
from .options import option_mapping_synchronize
from .plan import plan_build
from .transfer import ChunkTransfer

logger = logging.getLogger("p2c.integration")

FAILURE, SUCCESS = "failure", "success"
# Rows committed just before a watermark was taken may carry a slightly older timestamp: read them again
# (they come out "unchanged"), as Business Central does with its 999 ms.
WATERMARK_MARGIN = timedelta(seconds=1)
REPORT_LIMIT = 1000
RETRY_BATCH = 5000  # ids per query, well under SQLite's parameter limit
ANALYZE_AFTER = 1000  # new couplings after which the planner's statistics are refreshed (a full run, a first load)
ALL = object()  # "examine every row", for runs over records named explicitly
# Both sides changed and this pass wrote (or kept) the destination: its last synchronised modified-on is stored
# this much before its modified-on, so the other pass still finds it changed (BC: 999 ms to Sales, 10 ms to BC).
BOTH_MODIFIED_MARGIN = timedelta(milliseconds=10)
SKIP_EXAMPLES = 5  # records named per skip reason in a job's message


def mapping_synchronize(*, mapping, direction=None, full=False, dry_run=False, create_new=None, only_ids=None,
                        ids_side=None, progress=None, wait_seconds=0, jobs=None, lock_token=None):
    """Synchronise ``mapping`` in ``direction`` (None or "bidirectional": every direction it has).

    Returns the SyncJob of each direction run. Raises MappingBusy when another run holds the mapping.
    ``only_ids`` limits the run to these records (a "synchronise now" of selected records): ids of the side
    ``ids_side`` ("erp" or "crm"; by default the source side of a one-way run). In both directions (BC's *Merge*)
    the pass from the other side runs on their coupled counterparts, after the first pass, and update conflicts
    follow the mapping's resolution. ``jobs`` may hand in already created (queued) jobs, keyed by direction.
    ``lock_token``: the token of a lock on ``mapping`` the caller holds already (the run goes on under it).
    """
    directions = mapping.directions() if direction in (None, "bidirectional") else [direction]
    if only_ids is not None and ids_side is None:
        if len(directions) > 1:
            raise ValueError("Synchronising selected records in both directions needs ids_side (erp or crm).")
        ids_side = _source_key(directions[0])
    results = []
    with mapping_lock(mapping, wait_seconds=wait_seconds, token=lock_token) as token:
        for one_way in directions:
            ids = only_ids
            if only_ids is not None and _source_key(one_way) != ids_side:
                ids = counterpart_ids(mapping=mapping, side=ids_side, ids=only_ids)
            plan = plan_build(mapping=mapping, direction=one_way, full=full, dry_run=dry_run, create_new=create_new,
                              only_ids=ids)
            job = (jobs or {}).get(one_way) or job_create(mapping=mapping, direction=one_way, full=full, dry_run=dry_run)
            job.holder = token  # a job whose holder dies is closed as failed (engine/locks.py)
            if mapping.is_option_mapping:
                results.append(option_mapping_synchronize(plan=plan, job=job))
            else:
                results.append(DirectionRun(plan, job, progress=progress, lock_token=token).run())
    if not dry_run and only_ids is None:
        for child in mapping.children.filter(is_enabled=True):
            results.extend(mapping_synchronize(mapping=child, direction=direction, full=full, dry_run=dry_run,
                                               create_new=create_new, progress=progress, wait_seconds=wait_seconds))
    return results


def _source_key(direction):
    return "erp" if direction == "to_integration" else "crm"


def counterpart_ids(*, mapping, side, ids):
    """The ids coupled (in ``mapping``'s pair of tables) to ``side``'s records ``ids``: one query per 5,000."""
    from integration.models import Coupling

    other = "crm" if side == "erp" else "erp"
    pair = {"erp_model": mapping.erp_model, "crm_model": mapping.crm_model}
    found = []
    for chunk in chunked(list(ids), RETRY_BATCH):
        found += Coupling.objects.filter(**pair, **{f"{side}_id__in": chunk}).values_list(f"{other}_id", flat=True)
    return found


def job_create(*, mapping, direction, full=False, dry_run=False, type="synchronization"):
    from integration.models import SyncJob

    return SyncJob.objects.create(table_mapping=mapping, mapping_name=mapping.name, direction=direction, full=full,
                                  dry_run=dry_run, type=type)


def source_querysets(plan):
    """The source rows a run reads (querysets read one after the other), the ids to examine in any case, and the
    failed inserts (`FailedInserts`) of the mapping's source side.

    The mapping's filter, less the skipped couplings, and then: everything (full run, or never run), or the rows
    to retry (coupled rows whose last write failed or whose counterpart was deleted, uncoupled rows whose
    insertion failed), by id, followed by the rows changed since the watermark, read through the index on the
    modified timestamp alone. The forced ids are examined even if their timestamps say unchanged (retries,
    deleted counterparts; ``ALL`` for records named explicitly).
    """
    from integration.models import Coupling

    source, destination = plan.source, plan.destination
    queryset = source.model.objects.filter(source.filter_q())
    queryset = plan.rules.source_queryset(queryset, plan=plan)
    if source.key == "crm" and plan.skip_rows_modified_by:
        queryset = queryset.exclude(**{f"{source.model.MODIFIED_BY_FIELD}_id": plan.skip_rows_modified_by})
    failed_inserts = FailedInserts.load(plan)
    if plan.only_ids is not None:
        return [queryset.filter(pk__in=plan.only_ids)], ALL, failed_inserts
    couplings = Coupling.objects.filter(**plan.coupling_pair)
    queryset = queryset.exclude(pk__in=couplings.filter(skipped=True).values(source.id_field))
    watermark = getattr(plan.mapping, source.watermark_field)
    if plan.full or watermark is None:
        return [queryset], set(), failed_inserts
    retry = set(couplings.filter(skipped=False, **{destination.result_field: FAILURE})
                .values_list(source.id_field, flat=True))
    counterpart = destination.model.objects.filter(pk=OuterRef(destination.id_field))
    retry |= set(couplings.exclude(Exists(counterpart)).values_list(source.id_field, flat=True))
    retry |= failed_inserts.to_retry()
    changed = Q(**{f"{source.modified_field}__gt": watermark - WATERMARK_MARGIN})
    # Rows re-read inside the margin that are already in sync are left out in SQL, by the coupling index.
    in_sync = couplings.filter(
        **{source.id_field: OuterRef("pk"), f"{source.last_synced_field}__gte": OuterRef(source.modified_field)}
    ).exclude(**{destination.result_field: FAILURE})
    changed &= ~Exists(in_sync)
    # The retries first (as BC does), then the changed rows less those just retried (`DirectionRun` leaves out
    # the rows of a later queryset that an earlier one read).
    querysets = [queryset.filter(pk__in=ids) for ids in chunked(sorted(retry), RETRY_BATCH)]
    querysets.append(queryset.filter(changed))
    return querysets, retry, failed_inserts


class FailedInserts:
    """The source rows of a mapping direction whose insertion failed (`FailedInsert`), read once per run.

    They have no coupling to carry a last result, so these rows do: retried in the next run, skipped after the
    same message twice in a row, and then left out (counted skipped) until the row changes or is restored.
    """

    def __init__(self, plan, entries):
        self.plan = plan
        self.entries = entries  # source pk -> FailedInsert

    @classmethod
    def load(cls, plan):
        from integration.models import FailedInsert

        to_python = plan.source.model._meta.pk.to_python
        rows = FailedInsert.objects.filter(**plan.coupling_pair, direction=plan.direction)
        return cls(plan, {to_python(entry.source_id): entry for entry in rows})

    def to_retry(self):
        return {pk for pk, entry in self.entries.items() if not entry.skipped}

    def waits(self, row):
        """Skipped, and not changed since the run that failed it (less the watermark margin, for late commits)."""
        entry = self.entries.get(row.pk)
        return (entry is not None and entry.skipped
                and getattr(row, self.plan.source.modified_field) < entry.failed_at - WATERMARK_MARGIN)

    def record(self, job, failures, succeeded):
        """Store this chunk's insert failures (row, message) and forget the rows that now went through."""
        from integration.models import FailedInsert

        gone = [pk for pk in succeeded if pk in self.entries]
        if gone:
            FailedInsert.objects.filter(pk__in=[self.entries.pop(pk).pk for pk in gone]).delete()
        if not failures:
            return
        entries = []
        for row, message in failures:
            previous = self.entries.get(row.pk)
            entry = FailedInsert(
                **self.plan.coupling_pair, direction=self.plan.direction, source_id=str(row.pk), message=message,
                job=job, failed_at=job.started_at or timezone.now(),
                skipped=previous is not None and previous.message == message,
            )
            self.entries[row.pk] = entry
            entries.append(entry)
        FailedInsert.objects.bulk_create(
            entries, update_conflicts=True, unique_fields=["erp_model", "crm_model", "direction", "source_id"],
            update_fields=["message", "job", "skipped", "failed_at"],
        )


def iterate_chunks(queryset, size):
    """Yield lists of rows in primary-key order, one keyset page at a time (memory stays flat in N)."""
    last = None
    ordered = queryset.order_by("pk")
    while True:
        page = ordered if last is None else ordered.filter(pk__gt=last)
        rows = list(page[:size])
        if not rows:
            return
        yield rows
        last = rows[-1].pk


@dataclass
class ChunkResult:
    counts: dict = field(default_factory=dict)
    report: list = field(default_factory=list)
    skips: dict = field(default_factory=dict)  # reason → [count, labels of the first few records]

    def add(self, name, n=1):
        self.counts[name] = self.counts.get(name, 0) + n

    def skip(self, reason, label=None, n=1):
        self.add("skipped", n)
        entry = self.skips.setdefault(reason, [0, []])
        entry[0] += n
        if label is not None and len(entry[1]) < SKIP_EXAMPLES:
            entry[1].append(label)


class DirectionRun:
    """One job: a mapping in one direction."""

    def __init__(self, plan, job, *, progress=None, lock_token=None):
        self.plan = plan
        self.job = job
        self.progress = progress
        self.lock_token = lock_token
        self.chunk_size = settings.P2C_SYNC_CHUNK_SIZE

    def run(self):
        job, plan = self.job, self.plan
        started = timezone.now()
        job.status, job.started_at, job.message = job.Status.RUNNING, started, ""
        job.save(update_fields=["status", "started_at", "message", "holder"])
        max_seen = None
        report = []
        self.skips = {}
        try:
            if self.lock_token:
                mapping_lock_refresh(plan.mapping, self.lock_token)  # still ours (a previous direction may have run long)
            querysets, forced, failed_inserts = source_querysets(plan)
            total = sum(qs.count() for qs in querysets) if self.progress else None
            for rows in self._chunks(querysets, forced):
                result = ChunkRun(plan, job, rows, forced=forced, failed_inserts=failed_inserts).run()
                for name, n in result.counts.items():
                    setattr(job, name, getattr(job, name) + n)
                if len(report) < REPORT_LIMIT:
                    report.extend(result.report[: REPORT_LIMIT - len(report)])
                for reason, (n, labels) in result.skips.items():
                    entry = self.skips.setdefault(reason, [0, []])
                    entry[0] += n
                    entry[1].extend(labels[: SKIP_EXAMPLES - len(entry[1])])
                modified = [getattr(r, plan.source.modified_field) for r in rows]
                max_seen = max([m for m in [max_seen, *modified] if m is not None], default=None)
                job.save(update_fields=list(job.COUNTERS))
                if self.lock_token:
                    mapping_lock_refresh(plan.mapping, self.lock_token)
                if self.progress:
                    self.progress(job=job, done=len(rows), total=total)
            if not plan.dry_run and plan.only_ids is None and max_seen is not None:
                self._advance_watermark(min(max_seen, started))
            if not plan.dry_run and job.inserted + job.coupled >= ANALYZE_AFTER:
                from integration.models import Coupling

                planner_statistics_refresh(Coupling, plan.destination.model)
            job.status = job.Status.ERROR if job.failed else job.Status.SUCCESS
            job.message = self._summary()
        except Exception as exc:  # the job fails as a whole; its rows' own errors are already logged
            logger.exception("Synchronisation job %s failed", job.pk)
            job.status, job.message = job.Status.FAILED, f"The job failed: {exc}"
        job.report = report if plan.dry_run else []
        job.finished_at = timezone.now()
        job.save()
        job.skip_reasons = {reason: n for reason, (n, _) in self.skips.items()}  # for the caller, not stored
        return job

    def _chunks(self, querysets, forced):
        """The chunks of every queryset in turn; a row that an earlier queryset read (a retry that also changed)
        is left out of the later ones, so no row is synchronised twice in one run."""
        read = set()
        for queryset in querysets:
            for rows in iterate_chunks(queryset, self.chunk_size):
                if read:
                    rows = [row for row in rows if row.pk not in read]
                if forced is not ALL:
                    read.update(row.pk for row in rows if row.pk in forced)
                if rows:
                    yield rows

    def _advance_watermark(self, value):
        from integration.models import IntegrationTableMapping

        name = self.plan.source.watermark_field
        current = IntegrationTableMapping.objects.filter(pk=self.plan.mapping.pk).values_list(name, flat=True).first()
        if current is None or value > current:
            IntegrationTableMapping.objects.filter(pk=self.plan.mapping.pk).update(**{name: value})
            setattr(self.plan.mapping, name, value)

    def _summary(self):
        counts = ", ".join(f"{getattr(self.job, n)} {n}" for n in self.job.COUNTERS if getattr(self.job, n))
        prefix = "Dry run, nothing written: " if self.plan.dry_run else ""
        reasons = []
        for reason, (n, labels) in self.skips.items():
            more = f", and {n - len(labels)} more" if n > len(labels) else ""
            reasons.append(f"{n} {reason}" + (f" ({', '.join(labels)}{more})" if labels else ""))
        skipped = f". Skipped: {'; '.join(reasons)}" if reasons else ""
        return prefix + (counts or "nothing to synchronise") + skipped


class ChunkRun:
    """Decide and write one chunk of source rows."""

    def __init__(self, plan, job, rows, *, forced=frozenset(), failed_inserts=None):
        self.plan, self.job, self.rows, self.forced = plan, job, rows, forced
        self.failed_inserts = failed_inserts or FailedInserts.load(plan)
        self.result = ChunkResult()
        self.inserts = []  # (source row, new destination object)
        self.updates = []  # (source row, coupling, destination object, changes)
        self.touches = []  # (source row, coupling, destination object): values equal, refresh timestamps
        self.couple = []  # (source row, destination object) matched: new coupling
        self.uncouple = []  # couplings to delete
        self.failures = []  # (source row, coupling or None, destination pk or "", message)
        self.keep_changed = set()  # source pks whose destination stays "changed" for the other pass
        self.conflicts = ChunkConflicts(plan)  # field by field: who changed what, the conflict inbox's rows

    def run(self):
        from integration.models import Coupling

        plan = self.plan
        source, destination = plan.source, plan.destination
        with transaction.atomic():
            ids = [row.pk for row in self.rows]
            self.couplings = {
                getattr(c, source.id_field): c
                for c in Coupling.objects.filter(**plan.coupling_pair, **{f"{source.id_field}__in": ids})
            }
            # Coupled rows whose source has not changed since the last synchronisation need nothing more:
            # count them and load destinations and related data for the others only.
            self.rows = [row for row in self.rows if not self._unchanged(row) and not self._waiting(row)]
            dest_ids = [getattr(self.couplings[row.pk], destination.id_field)
                        for row in self.rows if row.pk in self.couplings]
            destinations = destination.model.objects
            if not plan.dry_run:
                destinations = destinations.select_for_update()
            self.destinations = destinations.in_bulk(dest_ids) if dest_ids else {}
            self.transfer = ChunkTransfer(plan, self.rows)
            self._decide_all()
            if not plan.dry_run:
                self._write()
        return self.result

    # -- decisions -----------------------------------------------------------------------------------------------
    def _unchanged(self, row):
        """A coupled row not modified since its last successful synchronisation (counted here)."""
        coupling = self.couplings.get(row.pk)
        if coupling is None or coupling.skipped or self.plan.full or self.forced is ALL or row.pk in self.forced:
            return False
        last_source = getattr(coupling, self.plan.source.last_synced_field)
        if last_source is None or getattr(coupling, self.plan.destination.result_field) == FAILURE:
            return False
        if getattr(row, self.plan.source.modified_field) > last_source:
            return False
        self.result.add("unchanged")
        return True

    def _waiting(self, row):
        """An uncoupled row whose insertion failed the same way twice and that has not changed since (skipped)."""
        if row.pk in self.couplings or self.forced is ALL or not self.failed_inserts.waits(row):
            return False
        self.result.skip("its insertion failed twice the same way; waiting for a change",
                         self.plan.record_label(row))
        return True

    def _decide_all(self):
        plan = self.plan
        uncoupled = []
        for row in self.rows:
            coupling = self.couplings.get(row.pk)
            try:
                if coupling is None:
                    uncoupled.append(row)
                else:
                    self._decide_coupled(row, coupling)
            except RowError as exc:
                self._fail(row, coupling, str(exc))
        if not uncoupled:
            return
        if not plan.create_new:
            self.result.skip("not coupled (the mapping synchronises coupled records only)", n=len(uncoupled))
            return
        matched = matches_find(plan, uncoupled) if match_rules(plan) else {}
        for row in uncoupled:
            try:
                if row.pk in matched:
                    self._decide_matched(row, matched[row.pk])
                else:
                    self._decide_insert(row)
            except RowError as exc:
                self._fail(row, None, str(exc))

    def _decide_insert(self, row):
        values = self.transfer.values_for(row, None)
        obj = self.plan.destination.model(**values)
        self.inserts.append((row, obj))
        self._report(row, "insert", {k: (None, v) for k, v in values.items()})

    def _decide_matched(self, row, destination):
        values = self.transfer.values_for(row, destination)
        changes = self._changes(destination, values)
        self.couple.append((row, destination, changes))
        self._report(row, "couple", changes)

    def _decide_coupled(self, row, coupling):
        plan = self.plan
        destination = self.destinations.get(getattr(coupling, plan.destination.id_field))
        if coupling.skipped:
            self.result.skip("the coupling is marked skipped (restore it to synchronise again)",
                             plan.record_label(row))
            return
        if destination is None:
            self._deletion_conflict(row, coupling)
            return
        both_modified = False
        if self._destination_changed(coupling, destination):
            if not self._source_changed(row, coupling):
                # Newer data on the destination is no conflict: it goes the other way in the other pass.
                self.result.skip(f"the {plan.destination.system_name} record holds newer data",
                                 plan.record_label(row))
                return
            both_modified = True
        values = self.transfer.values_for(row, destination)
        changes, conflicting = self._changes(destination, values), None
        if both_modified:
            changes, conflicting = self.conflicts.merge(row=row, coupling=coupling, destination=destination,
                                                        changes=changes)
            if changes is None:
                self.result.skip(f"the {plan.destination.system_name} record holds newer data", plan.record_label(row))
                return
        if changes and both_modified and self._resolve_conflict(changes, coupling, conflicting) == "skip":
            self.result.skip(f"update conflict: the mapping keeps the {plan.destination.system_name} data",
                             plan.record_label(row))
            return
        if both_modified and (not changes or plan.destination.key == "erp" or not plan.skip_rows_modified_by):
            # What changed on the destination still goes the other way (a written Sales row only when the
            # other pass reads the integration user's rows).
            self.keep_changed.add(row.pk)
        if changes:
            self.updates.append((row, coupling, destination, changes))
            self._report(row, "modify", changes)
        else:
            self.touches.append((row, coupling, destination))
            self.result.add("unchanged")

    def _destination_changed(self, coupling, destination):
        """Changed since the last synchronisation, on a bidirectional mapping (a one-way mapping's source owns
        the destination: what changed there is overwritten)."""
        if self.plan.mapping.direction != "bidirectional":
            return False
        dest_side = self.plan.destination
        last_dest = getattr(coupling, dest_side.last_synced_field)
        return last_dest is not None and getattr(destination, dest_side.modified_field) > last_dest

    def _source_changed(self, row, coupling):
        last_source = getattr(coupling, self.plan.source.last_synced_field)
        return last_source is None or getattr(row, self.plan.source.modified_field) > last_source

    def _resolve_conflict(self, changes, coupling, conflicting=None):
        """Both sides changed and a bidirectional field differs (``conflicting``: the fields changed on both
        sides, when the coupling kept its synchronised values): follow the mapping's update-conflict resolution."""
        plan = self.plan
        if conflicting is None:
            conflicting = [r for r in plan.field_rules if r.is_bidirectional and r.dest_attname in changes]
        if not conflicting:
            return "proceed"
        resolution = plan.mapping.update_conflict_resolution
        source_is_erp = plan.source.key == "erp"
        if resolution == "send_update":
            return "proceed" if source_is_erp else "skip"
        if resolution == "get_update":
            return "skip" if source_is_erp else "proceed"
        self.conflicts.update_found(coupling, conflicting)
        rule = conflicting[0]
        erp_field, crm_field = rule.mapping.erp_field, rule.mapping.crm_field
        erp_model = plan.mapping.erp_model_class()._meta.verbose_name
        crm_model = plan.mapping.crm_model_class()._meta.verbose_name
        raise RowError(
            f"Cannot update a record in the {plan.destination.model._meta.verbose_name} table. The mapping between "
            f"{erp_field} field on the {erp_model} table and the {crm_field} field on the {crm_model} table is "
            "bi-directional, and one or both values have changed since the last synchronization."
        )

    def _deletion_conflict(self, row, coupling):
        resolution = self.conflicts.deletion_resolution(coupling) or self.plan.mapping.deletion_conflict_resolution
        if resolution == "remove_coupling":
            self.uncouple.append(coupling)
            self.result.add("uncoupled")
        elif resolution == "restore_records":
            self.uncouple.append(coupling)
            self._decide_insert(row)
        else:
            self.conflicts.deletion_found(coupling)
            raise RowError(
                f"The {self.plan.record_label(row)} record cannot be updated because it is coupled to a deleted record."
            )

    @staticmethod
    def _changes(destination, values):
        return {
            name: (getattr(destination, name), value)
            for name, value in values.items()
            if getattr(destination, name) != value
        }

    def _report(self, row, action, changes):
        if not self.plan.dry_run:
            return
        self.result.add({"insert": "inserted", "modify": "modified", "couple": "coupled"}[action])
        self.result.report.append({
            "source": self.plan.record_label(row),
            "source_id": str(row.pk),
            "action": action,
            "changes": {name: [_plain(old), _plain(new)] for name, (old, new) in changes.items()},
        })

    def _fail(self, row, coupling, message):
        dest_id = getattr(coupling, self.plan.destination.id_field) if coupling else ""
        self.failures.append((row, coupling, dest_id, message))
        if self.plan.dry_run:
            self.result.add("failed")
            self.result.report.append(
                {"source": self.plan.record_label(row), "source_id": str(row.pk), "action": "fail", "message": message}
            )

    # -- writes ---------------------------------------------------------------------------------------------------
    def _write(self):
        from integration.models import Coupling

        plan = self.plan
        with writing_as(plan.integration_user_id if plan.writes_to_crm else None):
            if self.uncouple:
                Coupling.objects.filter(pk__in=[c.pk for c in self.uncouple]).delete()
            inserted = self._bulk_or_each(self.inserts, self._create_all, self._create_one)
            updated = self._bulk_or_each(
                [(row, dest) for row, _, dest, _ in self.updates], self._update_all, self._update_one
            )
            for _row, dest, changes in self.couple:
                for name, (_, new) in changes.items():
                    setattr(dest, name, new)
            matched = self._bulk_or_each(
                [(row, dest) for row, dest, changes in self.couple if changes], self._update_all, self._update_one
            )
        matched_unchanged = [(row, dest) for row, dest, changes in self.couple if not changes]
        new_couplings = [
            self._new_coupling(row, dest) for row, dest in [*inserted, *matched, *matched_unchanged]
        ]
        self._save_new_couplings(new_couplings)
        updated_ids = {row.pk for row, _ in updated}
        refreshed = [
            self._refresh(coupling, row, dest)
            for row, coupling, dest, _ in self.updates if row.pk in updated_ids
        ] + [self._refresh(coupling, row, dest) for row, coupling, dest in self.touches]
        self._record_failures(refreshed)
        self.conflicts.write(job=self.job, refreshed=refreshed)
        self.failed_inserts.record(
            self.job, [(row, message) for row, coupling, _, message in self.failures if coupling is None],
            succeeded=[row.pk for row, _ in [*inserted, *matched, *matched_unchanged]]
            + [row.pk for row in self.rows if row.pk in self.couplings],
        )
        self.result.add("inserted", len(inserted))
        self.result.add("modified", len(updated) + len([1 for _, _, c in self.couple if c]))
        self.result.add("coupled", len(matched) + len(matched_unchanged))
        plan.rules.after_write([*inserted, *updated, *matched], plan=plan)

    def _bulk_or_each(self, pairs, write_all, write_one):
        """Write all pairs in one statement; if that fails, write them one by one and fail only the bad ones."""
        if not pairs:
            return []
        try:
            with transaction.atomic():
                write_all([dest for _, dest in pairs])
            return pairs
        except (IntegrityError, DatabaseError, ValueError, Exception) as exc:
            logger.info("Bulk write failed (%s); writing rows one by one", exc)
        written = []
        for row, dest in pairs:
            try:
                with transaction.atomic():
                    write_one(dest)
                written.append((row, dest))
            except Exception as exc:
                coupling = self.couplings.get(row.pk)
                text = (isinstance(exc, IntegrityError) and self._duplicate_text(dest)) or _error_text(exc)
                self._fail(row, coupling, f"{self.plan.record_label(row)}: {text}")
        return written

    def _duplicate_text(self, obj):
        """Which unique value of ``obj`` another record already holds, in words (asked on the failure path only)."""
        model = type(obj)
        unique = [(f.name,) for f in model._meta.concrete_fields if f.unique and not f.primary_key]
        unique += [tuple(c.fields) for c in model._meta.total_unique_constraints]
        for names in unique:
            fields = [model._meta.get_field(name) for name in names]
            values = {f.attname: getattr(obj, f.attname) for f in fields}
            if any(v in (None, "") for v in values.values()):
                continue
            other = model._base_manager.filter(**values).exclude(pk=obj.pk).first()
            if other is not None:
                what = " and ".join(f"{capfirst(f.verbose_name)} {getattr(obj, f.attname)}" for f in fields)
                return f"{what} is already used by {self.plan.record_label(other)}."
        return None

    def _create_all(self, objs):
        # bulk_insert: bulk_create's hooks, numbers and signal without compiling every value into SQL.
        manager = self.plan.destination.model.objects
        (manager.bulk_insert if hasattr(manager, "bulk_insert") else manager.bulk_create)(objs)

    @staticmethod
    def _create_one(obj):
        obj.save(force_insert=True)

    def _update_fields(self):
        fields = set()
        for _, _, _dest, changes in self.updates:
            fields.update(changes)
        for _, _, changes in self.couple:
            fields.update(changes)
        return fields

    def _update_all(self, objs):
        for _, _, dest, changes in self.updates:
            for name, (_, new) in changes.items():
                setattr(dest, name, new)
        fields = [self.plan.destination.model._meta.get_field(_field_name(self.plan, a)).name
                  for a in self._update_fields()]
        self.plan.destination.model.objects.bulk_update(objs, fields)

    def _update_one(self, obj):
        obj.save()

    def _new_coupling(self, row, dest):
        from integration.models import Coupling

        source, destination = self.plan.source, self.plan.destination
        coupling = Coupling(**self.plan.coupling_pair)
        setattr(coupling, source.id_field, row.pk)
        setattr(coupling, destination.id_field, dest.pk)
        return self._refresh(coupling, row, dest)

    def _refresh(self, coupling, row, dest):
        source, destination = self.plan.source, self.plan.destination
        setattr(coupling, source.last_synced_field, getattr(row, source.modified_field))
        dest_modified = getattr(dest, destination.modified_field)
        if row.pk in self.keep_changed and dest_modified is not None:
            dest_modified -= BOTH_MODIFIED_MARGIN
        setattr(coupling, destination.last_synced_field, dest_modified)
        setattr(coupling, destination.result_field, SUCCESS)
        setattr(coupling, destination.job_field, self.job.pk)
        coupling.synced_values = self.conflicts.snapshot(coupling, row, dest)
        return coupling

    def _save_new_couplings(self, couplings):
        from integration.models import Coupling

        if not couplings:
            return
        try:
            with transaction.atomic():
                insert_rows(Coupling.objects.all(), couplings)
        except IntegrityError:
            for coupling in couplings:
                try:
                    with transaction.atomic():
                        coupling.save(force_insert=True)
                except IntegrityError:
                    self.result.add("failed")
                    logger.warning("Coupling %s already exists on one side; left as it was", coupling)

    def _record_failures(self, refreshed):
        from integration.models import Coupling, SyncJobError

        destination = self.plan.destination
        previous = self._previous_messages()
        failed_couplings = []
        errors = []
        for row, coupling, dest_id, message in self.failures:
            errors.append(SyncJobError(
                job=self.job, source_model=self.plan.source.label, source_id=str(row.pk),
                destination_model=destination.label, destination_id=str(dest_id or ""), message=message,
            ))
            if coupling is None or coupling.pk is None:
                continue
            repeated = (
                getattr(coupling, destination.result_field) == FAILURE
                and previous.get((getattr(coupling, destination.job_field), str(row.pk))) == message
            )
            setattr(coupling, destination.result_field, FAILURE)
            setattr(coupling, destination.job_field, self.job.pk)
            coupling.skipped = coupling.skipped or repeated
            failed_couplings.append(coupling)
        fields = [destination.last_synced_field, self.plan.source.last_synced_field, destination.result_field,
                  destination.job_field, "skipped", "synced_values"]
        to_save = [c for c in [*refreshed, *failed_couplings] if c.pk is not None]
        if to_save:
            update_rows(Coupling.objects.all(), to_save, fields)
        if errors:
            SyncJobError.objects.bulk_create(errors)
        self.result.add("failed", len(self.failures))

    def _previous_messages(self):
        """The error messages of the last failed job of each failing coupled row, in one query."""
        from integration.models import SyncJobError

        job_field = self.plan.destination.job_field
        keys = [
            (getattr(c, job_field), str(row.pk))
            for row, c, _, _ in self.failures
            if c is not None and getattr(c, job_field)
        ]
        if not keys:
            return {}
        rows = SyncJobError.objects.filter(
            job_id__in={k[0] for k in keys}, source_id__in={k[1] for k in keys}
        ).values_list("job_id", "source_id", "message")
        return {(job_id, source_id): message for job_id, source_id, message in rows}


def _field_name(plan, attname):
    for f in plan.destination.model._meta.concrete_fields:
        if f.attname == attname:
            return f.name
    return attname


def _error_text(exc):
    messages = getattr(exc, "message_dict", None)
    if messages:
        return "; ".join(f"{name}: {' '.join(texts)}" for name, texts in messages.items())
    return " ".join(getattr(exc, "messages", None) or [str(exc)])


def _plain(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
