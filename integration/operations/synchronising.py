"""Synchronising: selected records now (BC's *Synchronize Now*), whole mappings (the scheduled run, *Synchronize
Modified Records*, *Run Full Synch.* of a mapping), retrying the failed records and restoring the skipped ones
(docs/features.md I4, I5, I6; Business Central's Synchronize Now with its direction prompt).

Each function holds every rule of its operation and returns an `Outcome`, or raises `OperationRefused` when the
whole request cannot run. The admin actions, the API, the `sync` command and the Celery tasks only call them.
"""

from collections import defaultdict

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext, gettext_lazy

from p2c.outcomes import DONE, FAILED, QUEUED, REFUSED, SKIPPED, OperationRefused, Outcome, Refusal
from p2c.utils import chunked

from .. import queue
from ..coupling.couplings import couplings_restore_skipped, failed_inserts_restore, skipped_records_restore
from ..coupling.selection import couplings_of, other_side, record_mappings, record_names, side_of, system_name
from ..engine.changes import sides_changed
from ..engine.locks import MappingBusy
from ..engine.request import RunRequest
from ..full_sync import partitions
from ..mapping_order import mappings_in_dependency_order
from ..models import Direction, IntegrationTableMapping
from .common import (
    GET,
    MERGE,
    SEND,
    connection_check,
    direction_check,
    direction_parse,
    ids_typed,
    jobs_settle,
    mapping_check,
    refused_from,
    scheduled_note,
)

CHUNK = 1000
SYNC_NOW = gettext_lazy("Synchronise now")
SIDE_OF_DIRECTION = {Direction.TO_INTEGRATION: "erp", Direction.FROM_INTEGRATION: "crm"}


# -- synchronise now (selected records) -----------------------------------------------------------------------
PRESELECTED = {Direction.FROM_INTEGRATION: GET, Direction.TO_INTEGRATION: SEND, Direction.BIDIRECTIONAL: MERGE}


def preselected_direction(changed):
    """BC's default for one record of a bidirectional mapping (``changed``: its `SidesChanged`): Get when only
    Sales changed, Send when only the ERP changed, Merge when neither or both did."""
    return PRESELECTED[changed.direction]


def synchronize_now_choices(*, model, ids):
    """What *Synchronise now* offers for the records ``ids`` of ``model``: ([choices], preselected) where the
    choices are among send/get/merge: Send, Get and Merge for one coupled record of a bidirectional mapping (the
    side that changed preselects), Send and Get for several; none ([], None) when every mapping concerned is
    one-way (each goes its own direction)."""
    ids = list(ids)[:2]
    mappings = {(m.erp_model, m.crm_model): m for m in record_mappings(model)}
    couplings = [c for cs in couplings_of(model, ids).values() for c in cs
                 if (c.erp_model, c.crm_model) in mappings and not c.skipped]
    bidirectional = [c for c in couplings if mappings[(c.erp_model, c.crm_model)].direction == Direction.BIDIRECTIONAL]
    if not bidirectional:
        return [], None
    if len(ids) > 1:
        return [SEND, GET], SEND
    coupling = bidirectional[0]
    changed = sides_changed(mapping=mappings[(coupling.erp_model, coupling.crm_model)], couplings=[coupling])
    return [SEND, GET, MERGE], preselected_direction(changed[coupling.pk])


def synchronize_now(*, model, ids, direction=None):
    """Synchronise the coupled records ``ids`` of ``model`` now, in the background (BC's *Synchronize Now*).

    ``direction``: send (ERP → Sales), get (Sales → ERP) or merge (both; one record only; update conflicts are
    resolved by the mapping's policy). A one-way mapping goes its own direction (another one-way direction is
    refused). On a bidirectional mapping one record without a direction gets the preselected one
    (`preselected_direction`); several records need send or get, and those whose target side holds newer data
    (changed since the last synchronisation) are skipped rather than overwritten.

    Records not coupled are skipped, whatever *Synch. Only Coupled Records* says (BC: synchronising an uncoupled
    record opens the coupling dialog; several are skipped): creating counterparts is *Create in Sales/ERP*.
    Skipped couplings are skipped too, until restored. Refused as a whole: the connection disabled, no enabled
    mapping for ``model``, a direction none of its mappings has, merge for several records.
    """
    connection_check()
    chosen = direction_parse(direction)
    ids = ids_typed(model, ids)
    side = side_of(model)
    mappings = {(m.erp_model, m.crm_model): m for m in record_mappings(model)}
    if not mappings:
        raise OperationRefused(
            gettext("No enabled table mapping synchronises %(verbose_name_plural)s.")
            % {"verbose_name_plural": model._meta.verbose_name_plural},
            code=Refusal.NO_MAPPING,
            status=409,
        )
    if chosen == Direction.BIDIRECTIONAL and len(ids) > 1:
        raise OperationRefused(
            gettext("Merge synchronises one record at a time: choose send or get for several records."),
            code=Refusal.MERGE_ONE_RECORD,
            status=400,
        )
    if chosen in (Direction.TO_INTEGRATION, Direction.FROM_INTEGRATION) and not any(
            chosen in m.directions() for m in mappings.values()):
        direction_check(next(iter(mappings.values())), chosen)
    several = len(ids) > 1
    outcome = Outcome(SYNC_NOW)
    not_done = {}  # pk -> (kind, reason)
    uncoupled = {}  # pk -> not_coupled or coupling_skipped
    queued = set()
    work = defaultdict(list)  # (mapping, one-way direction) -> source ids
    for chunk in chunked(ids, CHUNK):
        existing = set(model.objects.filter(pk__in=chunk).values_list("pk", flat=True))
        found = couplings_of(model, chunk)
        by_mapping = defaultdict(list)
        for pk in chunk:
            if pk not in existing:
                not_done[pk] = (REFUSED, gettext("no such record"))
                continue
            couplings = [c for c in found.get(pk, []) if (c.erp_model, c.crm_model) in mappings]
            if not couplings:
                uncoupled[pk] = Refusal.NOT_COUPLED
                not_done[pk] = (
                    SKIPPED,
                    gettext("not coupled: set up a coupling, or use Create in %(system_name)s")
                    % {"system_name": system_name(other_side(side))},
                )
                continue
            live = [c for c in couplings if not c.skipped]
            if not live:
                uncoupled[pk] = Refusal.COUPLING_SKIPPED
                not_done[pk] = (SKIPPED, gettext("its coupling is skipped: restore it first"))
                continue
            for c in live:
                by_mapping[mappings[(c.erp_model, c.crm_model)]].append(c)
        for mapping, couplings in by_mapping.items():
            if mapping.direction != Direction.BIDIRECTIONAL:
                if chosen in (None, Direction.BIDIRECTIONAL) or chosen == mapping.direction:
                    one_ways = [mapping.direction]
                else:
                    for c in couplings:
                        not_done.setdefault(getattr(c, f"{side}_id"), (
                            REFUSED, gettext("mapping %(mapping)s synchronises %(direction)s only") % {
                                "mapping": mapping.name, "direction": mapping.get_direction_display()}))
                    continue
                changed = sides_changed(mapping=mapping, couplings=couplings) if several else {}
            else:
                if chosen is None and several:
                    raise OperationRefused(
                        (gettext("Choose send or get to synchronise several records of a bidirectional mapping.")),
                        code=Refusal.DIRECTION_REQUIRED,
                        status=409,
                    )
                changed = sides_changed(mapping=mapping, couplings=couplings)
                if chosen is None:
                    c = couplings[0]
                    pick = direction_parse(preselected_direction(changed[c.pk]))
                else:
                    pick = chosen
                one_ways = mapping.directions() if pick == Direction.BIDIRECTIONAL else [pick]
            for c in couplings:
                record_pk = getattr(c, f"{side}_id")
                if several and len(one_ways) == 1:
                    target = other_side(SIDE_OF_DIRECTION[one_ways[0]])
                    if getattr(changed[c.pk], target):
                        not_done.setdefault(
                            record_pk,
                            (
                                SKIPPED,
                                gettext("the %(system_name)s record holds newer data")
                                % {"system_name": system_name(target)},
                            ),
                        )
                        continue
                for one_way in one_ways:
                    work[(mapping, one_way)].append(getattr(c, f"{SIDE_OF_DIRECTION[one_way]}_id"))
                queued.add(record_pk)
    if len(ids) == 1 and ids[0] in uncoupled:
        _refuse_uncoupled(model, ids[0], uncoupled[ids[0]])
    return _queue_and_tell(outcome, model, ids, work, queued, not_done)


def _refuse_uncoupled(model, pk, code):
    """One record that is not coupled, or whose coupling is skipped, has nothing to synchronise: refused as a whole
    (BC opens the coupling dialog for it); several such records are skipped, the others synchronised."""
    record = record_names(model, [pk]).get(pk, pk)
    if code == Refusal.NOT_COUPLED:
        message = gettext("%(record)s is not coupled: set up a coupling, or use Create in %(system_name)s.") % {
            "record": record, "system_name": system_name(other_side(side_of(model)))}
    else:
        message = gettext("The coupling of %(record)s is skipped: restore it first.") % {"record": record}
    raise OperationRefused(message, code=code, status=409)


def _queue_and_tell(outcome, model, ids, work, queued, not_done):

    shares, counted = [], set()
    with transaction.atomic():
        for (mapping, one_way), source_ids in work.items():
            jobs = queue.mapping_synchronize_enqueue(mapping=mapping, direction=one_way, only_ids=source_ids, full=True)
            outcome.jobs += jobs
            # A merged record is queued once, though both directions' jobs examine it.
            shares += (
                queue.chunk_shares(jobs, len(source_ids)) if mapping not in counted else [(job, 0) for job in jobs]
            )
            counted.add(mapping)
    outcome.add(QUEUED, len(queued))
    names = record_names(model, [pk for pk in ids if pk in not_done and pk not in queued])
    for pk in ids:
        if pk in not_done and pk not in queued:
            kind, reason = not_done[pk]
            outcome.record(kind, names.get(pk, pk), reason, pk)
    failed = outcome.counts[FAILED] + outcome.counts[REFUSED]
    outcome.notes.append(scheduled_note(scheduled=len(queued), total=len(ids), failed=failed,
                                        skipped=outcome.counts[SKIPPED]))
    return jobs_settle(outcome, shares)  # jobs that ran already (eager mode) tell what they did


# -- synchronise a mapping ---------------------------------------------------------------------------------------
def synchronize_mapping(*, mapping, direction=None, full=False, dry_run=False, background=True, wait_seconds=0,
                        progress=None, workers=None):
    """Synchronise ``mapping`` (its modified records, or every record with ``full``) in ``direction`` (None or
    merge: every direction it has): queued on the workers (``background``), or run here (a dry run always is).

    Refused: the connection or the mapping disabled (409), a direction the mapping lacks (409), the mapping busy
    or not runnable as configured (409, when run here). The outcome counts the queued jobs, or the records the
    jobs that ran examined (done, skipped, failed with their reasons).
    """
    connection_check()
    mapping_check(mapping)
    one_way = direction_parse(direction)
    direction_check(mapping, one_way)
    outcome = Outcome(gettext("Synchronise %(mapping)s") % {"mapping": mapping.name})
    if background and not dry_run:

        with transaction.atomic():
            jobs = queue.mapping_synchronize_enqueue(mapping=mapping, direction=one_way, full=full)
        outcome.jobs += jobs
        outcome.add(QUEUED, len(jobs))
        return jobs_settle(outcome, [(job, 1) for job in jobs])
    try:  # a large run over ``workers`` workers (default: the deployment's P2C_SYNC_WORKERS), by key range
        jobs = partitions.mapping_synchronize_partitioned(RunRequest(
            mapping=mapping, direction=one_way, full=full, dry_run=dry_run, progress=progress,
            wait_seconds=wait_seconds), workers=workers)
    except (MappingBusy, ValidationError) as exc:
        raise refused_from(exc) from exc
    outcome.jobs += jobs
    return jobs_settle(outcome, [(job, 0) for job in jobs])


def synchronize_mappings(*, mappings=None, direction=None, full=False, dry_run=False, background=True,
                         wait_seconds=0, progress=None, workers=None):
    """Synchronise several mappings (``None``: every enabled one, in dependency order) with
    `synchronize_mapping`. One mapping named alone is refused as a whole; of several, each refused one is
    counted refused with its reason (with every mapping, one lacking ``direction`` is skipped)."""
    connection_check()
    every = mappings is None
    if every:
        mappings = mappings_in_dependency_order(IntegrationTableMapping.objects.filter(is_enabled=True, parent=None))
    mappings = list(mappings)
    options = {"direction": direction, "full": full, "dry_run": dry_run, "background": background,
               "wait_seconds": wait_seconds, "progress": progress, "workers": workers}
    if len(mappings) == 1 and not every:
        return synchronize_mapping(mapping=mappings[0], **options)
    outcome = Outcome(gettext("Synchronise"))
    for mapping in mappings:
        try:
            outcome.merge(synchronize_mapping(mapping=mapping, **options))
        except OperationRefused as exc:
            kind = SKIPPED if every and exc.code == Refusal.DIRECTION_NOT_ALLOWED else REFUSED
            outcome.record(kind, mapping.name, exc.message, mapping.pk)
    return outcome


# -- retry failed records, restore skipped ones -------------------------------------------------------------------
def _typed(label, value):
    try:
        return apps.get_model(label)._meta.pk.to_python(value)
    except (LookupError, ValueError, ValidationError):
        return value


def failed_records_retry(*, errors=(), failed_inserts=()):
    """Synchronise again, in the background, the source records behind the job ``errors`` and the
    ``failed_inserts`` (each the way its job ran: its mapping and direction). Refused as a whole when the
    connection is disabled; the records of a disabled mapping, or of a direction it no longer has, are refused."""
    connection_check()
    mappings = {(m.erp_model, m.crm_model): m for m in IntegrationTableMapping.objects.filter(parent=None)}
    grouped = defaultdict(dict)  # (mapping, direction) -> {typed id: label}
    outcome = Outcome(gettext("Retry failed records"))
    for error in errors:
        job = error.job
        if not error.source_id:
            continue
        if not job.table_mapping_id:
            outcome.record(REFUSED, f"{error.source_model} {error.source_id}", gettext("its mapping was deleted"),
                           error.source_id)
            continue
        grouped[(job.table_mapping, job.direction)][_typed(error.source_model, error.source_id)] = error.source_model
    for entry in failed_inserts:
        mapping = mappings.get((entry.erp_model, entry.crm_model))
        if mapping is None:
            outcome.record(
                REFUSED,
                f"{entry.source_model} {entry.source_id}",
                gettext("no mapping couples these tables"),
                entry.source_id,
            )
            continue
        grouped[(mapping, entry.direction)][_typed(entry.source_model, entry.source_id)] = entry.source_model

    with transaction.atomic():
        for (mapping, direction), records in grouped.items():
            try:
                mapping_check(mapping)
                direction_check(mapping, direction)
            except OperationRefused as exc:
                for pk, label in records.items():
                    outcome.record(REFUSED, f"{label} {pk}", exc.message, pk)
                continue
            jobs = queue.mapping_synchronize_enqueue(
                mapping=mapping, direction=direction, only_ids=sorted(records), full=True
            )
            outcome.jobs += jobs
            outcome.add(QUEUED, len(records))
    return outcome


def skipped_restore(*, couplings=None, failed_inserts=None, mapping=None):
    """Restore skipped records so they synchronise again: the given ``couplings`` and ``failed_inserts`` (those
    not skipped are counted skipped, "not skipped"), or every skipped record of ``mapping``."""
    outcome = Outcome(gettext("Restore skipped records"))
    if mapping is not None:
        return outcome.add(DONE, skipped_records_restore(mapping=mapping))
    for rows, restore in ((couplings, couplings_restore_skipped), (failed_inserts, failed_inserts_restore)):
        rows = list(rows or [])
        skipped = [row for row in rows if row.skipped]
        if skipped:
            outcome.add(DONE, restore(**{"couplings" if restore is couplings_restore_skipped else "entries": skipped}))
        for row in rows:
            if not row.skipped:
                outcome.record(SKIPPED, str(row), gettext("not skipped"), row.pk)
    return outcome


__all__ = ["failed_records_retry", "preselected_direction", "sides_changed",
           "skipped_restore", "synchronize_mapping", "synchronize_mappings", "synchronize_now",
           "synchronize_now_choices"]
