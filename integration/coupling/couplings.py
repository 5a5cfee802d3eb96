"""Couplings: set up by hand, by matching, removed, restored (docs/features.md I4; BC table 5331 and its pages).

Every function here is what the admin actions, the API and the commands call.
"""

from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext, gettext_noop

from p2c.databases import same_database
from p2c.said import counted, said, said_stored

from ..engine.job_log import ChunkResult
from ..engine.matching import match_rules, matches_find
from ..engine.plan import plan_build
from ..engine.reading import FailedInserts, narrowing
from ..engine.request import RunRequest
from ..engine.sync import ChunkRun, job_create, mapping_synchronize
from ..engine.work import ChunkWork
from ..labels import record_label
from ..models import Coupling, Direction, FailedInsert, IntegrationTableMapping, SyncJob


class CouplingConflict(Exception):
    """The record, or its counterpart, is already coupled to another record."""

    def __init__(self, message, *, coupling):
        super().__init__(message)
        self.coupling = coupling


def mappings_for_model(model):
    """The enabled table mappings in which ``model`` takes part (either side)."""
    label = model._meta.label
    return [m for m in IntegrationTableMapping.objects.filter(is_enabled=True, parent=None)
            if label in (m.erp_model, m.crm_model)]


def mapping_for_pair(*, erp_model, crm_model):
    return IntegrationTableMapping.objects.filter(
        erp_model=erp_model._meta.label, crm_model=crm_model._meta.label
    ).first()


def coupling_for(obj):
    """The coupling of an ERP or Sales record, or None."""
    label = obj._meta.label
    side = "crm_id" if label.startswith("crm.") else "erp_id"
    model_field = "crm_model" if side == "crm_id" else "erp_model"
    return Coupling.objects.filter(**{model_field: label, side: obj.pk}).first()


def coupling_create(*, erp_record, crm_record):
    """Couple two records. Refuses when either is already coupled to another record, naming that record."""
    erp_label, crm_label = erp_record._meta.label, crm_record._meta.label
    pair = {"erp_model": erp_label, "crm_model": crm_label}
    existing = Coupling.objects.filter(**pair, erp_id=erp_record.pk).first()
    if existing and existing.crm_id == crm_record.pk:
        return existing
    if existing:
        other = _record_or_none(crm_record._meta.model, existing.crm_id)
        if other is not None:
            raise CouplingConflict(
                (
                    gettext(
                        "Cannot couple %(record_label)s to this %(verbose_name)s record, because %(record_label)s is already "
                        "coupled to %(record_label2)s."
                    )
                    % {
                        "record_label": record_label(erp_record),
                        "verbose_name": crm_record._meta.verbose_name,
                        "record_label2": record_label(other),
                    }
                ),
                coupling=existing,
            )
        existing.delete()  # the counterpart is gone: the stale coupling goes silently, as in BC
    taken = Coupling.objects.filter(**pair, crm_id=crm_record.pk).first()
    if taken:
        other = _record_or_none(erp_record._meta.model, taken.erp_id)
        if other is not None:
            raise CouplingConflict(
                (
                    gettext(
                        "Cannot couple %(record_label)s to %(record_label2)s, because %(record_label)s is already coupled to "
                        "%(record_label3)s."
                    )
                    % {
                        "record_label": record_label(crm_record),
                        "record_label2": record_label(erp_record),
                        "record_label3": record_label(other),
                    }
                ),
                coupling=taken,
            )
        taken.delete()
    try:
        with transaction.atomic():
            return Coupling.objects.create(**pair, erp_id=erp_record.pk, crm_id=crm_record.pk)
    except IntegrityError as exc:  # a concurrent coupling won the race
        raise CouplingConflict(
            gettext("%(record_label)s or %(record_label2)s was coupled meanwhile.")
            % {"record_label": record_label(erp_record), "record_label2": record_label(crm_record)},
            coupling=None,
        ) from exc


def coupling_delete(*, records):
    """Remove the couplings of the given ERP or Sales records. Returns how many were removed."""
    removed = 0
    by_label = {}
    for record in records:
        by_label.setdefault(record._meta.label, []).append(record.pk)
    for label, ids in by_label.items():
        side = "crm" if label.startswith("crm.") else "erp"
        removed += Coupling.objects.filter(**{f"{side}_model": label, f"{side}_id__in": ids}).delete()[0]
    return removed


def couplings_restore_skipped(*, couplings=None, mapping=None):
    """Clear the skipped flag so the records synchronise again. Returns how many were restored."""
    return _restore_skipped(Coupling, couplings, mapping)


def failed_inserts_restore(*, entries=None, mapping=None):
    """Let skipped failed inserts be tried again by the next run. Returns how many were restored."""
    return _restore_skipped(FailedInsert, entries, mapping)


def _restore_skipped(model, rows, mapping):
    queryset = model.objects.filter(skipped=True)
    if rows is not None:
        queryset = queryset.filter(pk__in=[row.pk for row in rows])
    if mapping is not None:
        queryset = queryset.filter(erp_model=mapping.erp_model, crm_model=mapping.crm_model)
    return queryset.update(skipped=False)


def skipped_records_restore(*, mapping):
    """Restore every skipped record of ``mapping``: skipped couplings and skipped failed inserts."""
    return couplings_restore_skipped(mapping=mapping) + failed_inserts_restore(mapping=mapping)


def couplings_drop_stale(*, mapping, side, ids):
    """Delete the couplings of ``mapping`` of the ``side`` ("erp"/"crm") records ``ids`` whose counterpart no
    longer exists (BC does so before creating a record anew). Returns how many were deleted. Two queries."""
    other = "crm" if side == "erp" else "erp"
    other_model = mapping.crm_model_class() if other == "crm" else mapping.erp_model_class()
    couplings = Coupling.objects.filter(erp_model=mapping.erp_model, crm_model=mapping.crm_model,
                                        **{f"{side}_id__in": list(ids)})
    if same_database(Coupling, other_model):
        return couplings.exclude(Exists(other_model.objects.filter(pk=OuterRef(f"{other}_id")))).delete()[0]
    # The other side in another database: its keys asked there (p2c.databases)
    pairs = list(couplings.values_list("pk", f"{other}_id"))
    existing = set(other_model._base_manager.filter(pk__in=[other_id for _, other_id in pairs])
                   .values_list("pk", flat=True))
    stale = [pk for pk, other_id in pairs if other_id not in existing]
    return Coupling.objects.filter(pk__in=stale).delete()[0] if stale else 0


def records_split_coupled(*, mapping, direction, ids):
    """Split the source-side ``ids`` of a one-way ``direction`` of ``mapping`` into (uncoupled, coupled) id lists
    (as given), for a "Create in Sales/ERP" (BC's ``CreateNewRecordsInCRM``): a record coupled already is skipped.

    A coupling whose counterpart was deleted is removed first, as BC does, so its record counts as uncoupled.
    """
    side = "erp" if direction == Direction.TO_INTEGRATION else "crm"
    couplings_drop_stale(mapping=mapping, side=side, ids=ids)
    coupled = {str(pk) for pk in Coupling.objects.filter(
        erp_model=mapping.erp_model, crm_model=mapping.crm_model, **{f"{side}_id__in": list(ids)}
    ).values_list(f"{side}_id", flat=True)}
    return [i for i in ids if str(i) not in coupled], [i for i in ids if str(i) in coupled]


def coupling_source_side(mapping):
    """The side match-based coupling starts from by default: the ERP records (BC), unless the mapping only
    reads Sales (a Sales → ERP mapping couples its Sales records)."""
    return "crm" if mapping.direction == Direction.FROM_INTEGRATION else "erp"


def coupling_sides(mapping):
    """The sides match-based coupling may start from: both for a bidirectional mapping, else the source side."""
    if mapping.direction == Direction.BIDIRECTIONAL:
        return ["erp", "crm"]
    return [coupling_source_side(mapping)]


def coupling_side_check(*, mapping, from_side=None):
    """Return the side match-based coupling of ``mapping`` starts from (``from_side`` or the default); refuse,
    with a ValidationError naming the mapping, a side it cannot synchronise from."""
    from_side = from_side or coupling_source_side(mapping)
    if from_side not in coupling_sides(mapping):
        system = {"erp": "ERP", "crm": "Sales"}
        raise ValidationError(
            gettext(
                "Mapping %(mapping)s synchronises %(get_direction_display)s only: match-based coupling starts from "
                "its %(system)s records, not from the %(get)s records."
            )
            % {
                "mapping": mapping.name,
                "get_direction_display": mapping.get_direction_display(),
                "system": system[coupling_source_side(mapping)],
                "get": system.get(from_side, from_side),
            }
        )
    return from_side


def mapping_couple_by_match(*, mapping, create_new=None, sync_after=None, only_ids=None, job=None, from_side=None):
    """Match-based coupling of the mapping's uncoupled records on one side (BC's "Match-Based Coupling").

    ``from_side``: ``"erp"`` or ``"crm"``, whose uncoupled records look for a counterpart on the other side
    (default: `coupling_source_side`, the ERP records unless the mapping only reads Sales); a side the mapping
    cannot synchronise from is refused with a ValidationError. ``only_ids``: that side's records to couple
    (default: all uncoupled within the mapping's filter).

    Uses the field mappings marked *use for match-based coupling* (priority, case sensitivity). Each record with
    exactly one uncoupled match is coupled to it. The others are created on the other side when ``create_new``
    (default: the mapping's setting; never for mappings whose rules forbid it, such as salespeople), within this
    job; else counted as failed with one error. With ``sync_after`` the newly coupled records are synchronised in
    the mapping's direction (for bidirectional mappings, the update-conflict resolution decides: get update →
    from Sales, send update → to Sales, none → both). Safe to run twice: coupled records are left alone.
    Runs in the engine's chunk loop (`MatchCoupling`, the work of `sync.DirectionRun`), which reads the source
    through its side (a Sales over the Web API too) and commits chunk by chunk: a run that loses the mapping's lock
    stops and fails, keeping what it committed.
    Returns the coupling job (and the synchronisation jobs in ``job.follow_up_jobs``).
    """
    from_side = coupling_side_check(mapping=mapping, from_side=from_side)
    create_new = mapping.create_new_if_no_match if create_new is None else create_new
    sync_after = mapping.sync_after_match_coupling if sync_after is None else sync_after
    direction = coupling_direction(mapping, from_side)
    plan = plan_build(mapping=mapping, direction=direction, create_new=create_new, only_ids=only_ids)
    job = job or job_create(mapping=mapping, direction=plan.direction, type=SyncJob.Type.COUPLING)
    job.follow_up_jobs = []
    if not match_rules(plan):
        job.fail(said(gettext_noop(
            "You must specify which fields on the table mapping '%(mapping)s' should be used for match-based coupling."
        ), mapping=mapping.name))
        return job
    # The engine's chunk loop runs it, under the mapping's lock, which is held through the follow-up
    # synchronisation too: no other run slips in between and makes it fail busy after the coupling job succeeded.
    work = partial(MatchCoupling, create_new=create_new and plan.rules.match_creates_new, sync_after=sync_after)
    [job] = mapping_synchronize(RunRequest(mapping=mapping, direction=direction, create_new=create_new,
                                           only_ids=only_ids, wait_seconds=30, jobs={direction: job}, work=work))
    return job


class MatchCoupling(ChunkWork):
    """Match-based coupling as the work of the engine's chunk loop (`sync.DirectionRun`): the source's uncoupled
    rows read through its side, and per chunk, in a constant number of queries, each row with exactly one uncoupled
    match coupled to it; the others created on the other side within the job (`ChunkRun`, ``create_new``), or
    counted failed with one error for them all when the run closes. ``sync_after``: once the job closed, the newly
    coupled records are synchronised, under the same lock."""

    def __init__(self, run, *, create_new, sync_after):
        super().__init__(run)
        self.create_new, self.sync_after = create_new, sync_after
        self.claimed = set()  # destination keys coupled in this run: none coupled twice
        self.coupled = []  # (source key, destination key)
        self.unmatched = 0
        self.failed_inserts = None

    def reads(self):
        """The source's rows in the mapping's filter (and the rules' `coupling_queryset`) that have no coupling of
        the pair: ``only_ids`` among them when given."""
        plan = self.plan
        couplings = Coupling.objects.filter(**plan.coupling_pair)
        return plan.source.reach.record_reads(narrow=narrowing(plan, "coupling_queryset"), only_keys=plan.only_ids,
                                              skipped=(couplings, plan.source.id_field)), frozenset()

    def chunk(self, rows, written):
        plan = self.plan
        source, destination = plan.source, plan.destination
        matched = matches_find(plan, rows, claimed=self.claimed)
        pairs = [(row.pk, matched[row.pk].pk) for row in rows if row.pk in matched]
        with transaction.atomic():
            Coupling.objects.bulk_create([Coupling(**plan.coupling_pair, **{source.id_field: source_key,
                                                                             destination.id_field: destination_key})
                                          for source_key, destination_key in pairs], ignore_conflicts=True)
        self.coupled.extend(pairs)
        result = ChunkResult()
        result.add("coupled", len(pairs))
        leftovers = [row for row in rows if row.pk not in matched]
        if leftovers and self.create_new:
            if self.failed_inserts is None:
                self.failed_inserts = FailedInserts.load(plan)
            for name, n in ChunkRun(plan, self.job, leftovers, failed_inserts=self.failed_inserts).run().counts.items():
                result.add(name, n)
        else:
            self.unmatched += len(leftovers)
        written(rows, result)  # its counts added to the job: a killed job still tells what it committed

    def closing(self, log):
        plan, job, unmatched = self.plan, self.job, self.unmatched
        if unmatched:
            job.add_counts({"failed": unmatched}, save=False)  # saved as the job closes
            text, data = said_stored(counted(
                "Failed to couple %(count)s record, because no unique uncoupled matching entity was found in "
                "%(system_name)s with the specified matching criteria.",
                "Failed to couple %(count)s records, because no unique uncoupled matching entity was found in "
                "%(system_name)s with the specified matching criteria.",
                count=unmatched, system_name=plan.destination.system_name))
            job.errors.create(source_model=plan.source.label, source_id="", destination_model=plan.destination.label,
                              message=text, message_data=data)
        return said(gettext_noop("%(coupled)s coupled, %(inserted)s created, %(unmatched)s without a unique match"),
                    coupled=job.coupled, inserted=job.inserted, unmatched=unmatched)

    def closed(self):
        """The synchronisation after the coupling (``sync_after``) of the records it coupled, in the mapping's
        direction (for bidirectional mappings, the update-conflict resolution decides: get update → from Sales, send
        update → to Sales, none → both), under the run's lock."""
        if not (self.sync_after and self.coupled):
            return
        mapping, direction = self.plan.mapping, self.plan.direction
        sync_direction = _sync_after_direction(mapping)
        one_ways = mapping.directions() if sync_direction == Direction.BIDIRECTIONAL else [sync_direction]
        for one_way in one_ways:
            ids = [src if one_way == direction else dst for src, dst in self.coupled]
            self.job.follow_up_jobs += mapping_synchronize(RunRequest(
                mapping=mapping, direction=one_way, only_ids=ids, full=True, create_new=False,
                lock_token=self.run.lock_token))


def coupling_direction(mapping, from_side=None):
    """The one-way direction of a coupling that starts from ``from_side`` (default: `coupling_source_side`)."""
    from_side = from_side or coupling_source_side(mapping)
    return Direction.TO_INTEGRATION if from_side == "erp" else Direction.FROM_INTEGRATION


def _sync_after_direction(mapping):
    if mapping.direction != Direction.BIDIRECTIONAL:
        return mapping.direction
    return {
        "get_update": Direction.FROM_INTEGRATION,
        "send_update": Direction.TO_INTEGRATION,
    }.get(mapping.update_conflict_resolution, Direction.BIDIRECTIONAL)


def _record_or_none(model, pk):
    return model.objects.filter(pk=pk).first()


__all__ = [
    "CouplingConflict", "MatchCoupling", "ValidationError", "coupling_create", "coupling_delete", "coupling_for",
    "coupling_side_check", "coupling_sides", "coupling_source_side", "couplings_drop_stale",
    "couplings_restore_skipped", "failed_inserts_restore", "mapping_couple_by_match", "mapping_for_pair",
    "mappings_for_model", "records_split_coupled", "skipped_records_restore",
]
