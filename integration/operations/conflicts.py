"""Resolving the conflict inbox's pairs (docs/features.md I5, I7; docs/decisions.md#the-conflict-inbox): one operation,
called by every door.

`conflicts_resolve` takes a resolution for conflicts of the inbox (`SyncConflict`): take the ERP side, take the
Sales side, field by field (a side per field in conflict), or, for a deletion conflict, restore the deleted record
or remove the coupling. It writes through the engine (Sales → ERP, then ERP → Sales, with the person's decisions:
the run's ``decisions``, `SyncPlan.decisions`), so the coupling's synchronised values move with the records and nothing
ping-pongs; what either side changed and nobody disputed is merged on the way. The engine's jobs say who decided.
A conflict the engine synchronised cleanly loses its inbox row; one still in conflict is counted failed with the
engine's reason. Many conflicts go in chunks of `CHUNK` (a constant number of queries and one engine run per
direction per chunk).
"""

from collections import defaultdict

from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from p2c.outcomes import DONE, FAILED, REFUSED, OperationRefused, Outcome, Refusal
from p2c.said import counted, said, said_from_data, said_name
from p2c.utils import chunked

from ..coupling.selection import record_names
from ..engine.conflicts import REMOVE, RESTORE
from ..engine.locks import MappingBusy
from ..engine.request import RunRequest
from ..engine.sync import job_create, mapping_synchronize
from ..labels import conflict_label
from ..models import Coupling, Direction, IntegrationFieldMapping, SyncConflict, SyncJob, SyncJobError
from .common import connection_check, refused_from

TAKE_ERP, TAKE_CRM, FIELDS = "erp", "crm", "fields"
RESOLUTIONS = {
    TAKE_ERP: gettext_lazy("take the ERP side"),
    TAKE_CRM: gettext_lazy("take the Sales side"),
    FIELDS: gettext_lazy("field by field"),
    RESTORE: gettext_lazy("restore the deleted record"),
    REMOVE: gettext_lazy("remove the coupling"),
}
SIDE_WORDS = {"erp": TAKE_ERP, "crm": TAKE_CRM, "sales": TAKE_CRM}
FOR_UPDATES = (TAKE_ERP, TAKE_CRM, FIELDS)
CHUNK = 500  # conflicts per engine run
VERB = gettext_lazy("Resolve conflicts")


def resolution_parse(value):
    """The resolution for ``value`` (erp, crm/sales, fields, restore, remove); a 400 refusal naming the choices."""
    word = SIDE_WORDS.get(value, value) if isinstance(value, str) else None
    if word not in RESOLUTIONS:
        raise OperationRefused(
            gettext("Unknown resolution %(value)s: use erp, crm, fields, restore or remove.") % {"value": repr(value)},
            code=Refusal.RESOLUTION_UNKNOWN,
            status=400,
        )
    return word


def field_choices_parse(fields, mappings):
    """``fields`` ({erp field: erp|crm|sales}) checked against the field mappings of ``mappings``: a 400 refusal
    naming the field or the side at fault."""
    if not isinstance(fields, dict) or not fields:
        raise OperationRefused(
            (
                gettext(
                    'Field by field needs a side for each field in conflict, e.g. {"phone_no": "erp", "email": "crm"}.'
                )
            ),
            code=Refusal.FIELDS_MISSING,
            status=400,
        )
    known = set(IntegrationFieldMapping.objects.filter(table_mapping__in=mappings).values_list("erp_field", flat=True))
    choices = {}
    for name, side in fields.items():
        if name not in known:
            raise OperationRefused(
                gettext("Unknown field %(name)s: not an ERP field of the mapping's field mappings (%(sorted)s).")
                % {"name": repr(name), "sorted": ", ".join(sorted(known))},
                code=Refusal.FIELD_UNKNOWN,
                status=400,
            )
        if SIDE_WORDS.get(side) is None:
            raise OperationRefused(
                gettext("Field %(name)s: unknown side %(side)s; use erp or crm.") % {"name": name, "side": repr(side)},
                code=Refusal.SIDE_UNKNOWN,
                status=400,
            )
        choices[name] = SIDE_WORDS[side]
    return choices


def conflicts_resolve(*, ids, resolution, fields=None, decided_by=""):
    """Resolve the conflicts ``ids`` with ``resolution`` (see `RESOLUTIONS`; ``fields`` for field by field), as
    ``decided_by`` (a user name, logged in the jobs). Returns the Outcome: done per conflict cleared, refused per
    conflict not found, of a disabled mapping or of the wrong kind, failed per conflict the engine could not settle.
    Refused as a whole: an unknown resolution, field or side, a malformed id, the connection disabled."""
    resolution = resolution_parse(resolution)
    try:
        ids = sorted({int(i) for i in ids})
    except (TypeError, ValueError):
        raise OperationRefused(
            gettext("Conflict ids are numbers: %(list)s.") % {"list": repr(list(ids))}, code=Refusal.BAD_ID, status=400
        ) from None
    if resolution != REMOVE:
        connection_check()
    outcome = Outcome(VERB)
    for chunk_ids in chunked(ids, CHUNK):
        conflicts = list(SyncConflict.objects.filter(pk__in=chunk_ids).select_related("coupling", "table_mapping"))
        found = {c.pk for c in conflicts}
        for pk in chunk_ids:
            if pk not in found:
                outcome.record(REFUSED, f"Conflict #{pk}", gettext("not in the inbox (resolved already?)"), pk)
        choices = field_choices_parse(fields, {c.table_mapping_id for c in conflicts}) if resolution == FIELDS else {}
        by_mapping = defaultdict(list)
        for conflict in conflicts:
            reason = _refusal(conflict, resolution, choices)
            if reason:
                outcome.record(REFUSED, conflict_label(conflict), reason, conflict.pk)
            else:
                by_mapping[conflict.table_mapping].append(conflict)
        for mapping, group in by_mapping.items():
            outcome.merge(_resolve_group(mapping, group, resolution, choices, decided_by))
    return outcome


def _refusal(conflict, resolution, choices):
    """Why this conflict cannot take ``resolution`` (None when it can)."""
    if not conflict.table_mapping.is_enabled:
        return gettext("mapping %(table_mapping)s is disabled") % {"table_mapping": conflict.table_mapping.name}
    if conflict.kind == SyncConflict.Kind.UPDATE and resolution not in FOR_UPDATES:
        return gettext("an update conflict: take the ERP side, the Sales side, or choose field by field")
    if conflict.kind == SyncConflict.Kind.DELETION and resolution in FOR_UPDATES:
        if conflict.deleted_side == "erp":
            return gettext("its ERP record was deleted: restore it or remove the coupling")
        return gettext("its Sales record was deleted: restore it or remove the coupling")
    missing = [name for name in conflict.fields if name not in choices] if resolution == FIELDS else []
    if missing:
        return gettext("choose a side for %(missing)s") % {"missing": ', '.join(missing)}
    return None


def _resolve_group(mapping, conflicts, resolution, choices, decided_by):
    """One chunk of one mapping's conflicts: one engine run per direction (or one delete)."""
    outcome = Outcome(VERB)
    # As what it means (p2c.said): the jobs store it, told in each reader's language.
    note = said(gettext_noop("Conflict resolution (%(resolutions)s) decided by %(value)s"),
                resolutions=said_name(RESOLUTIONS[resolution]),
                value=decided_by or said(gettext_noop("an unnamed user")))
    couplings = [c.coupling for c in conflicts]
    if resolution == REMOVE:
        job = job_create(mapping=mapping, direction=mapping.direction, type=SyncJob.Type.UNCOUPLING)
        removed = Coupling.objects.filter(pk__in=[c.pk for c in couplings]).delete()[1].get(Coupling._meta.label, 0)
        job.add_counts({"uncoupled": removed}, save=False)
        job.finish(counted("%(note)s: %(removed)s coupling removed.", "%(note)s: %(removed)s couplings removed.",
                           counter="removed", note=note, removed=removed))
        outcome.jobs.append(job)
        return outcome.add(DONE, len(conflicts))
    Coupling.objects.filter(pk__in=[c.pk for c in couplings], skipped=True).update(skipped=False)
    decisions, runs = {}, []
    if resolution == RESTORE:
        # From the side that still has its record, which the engine recreates on the other.
        for conflict in conflicts:
            decisions[conflict.coupling_id] = {"deletion": RESTORE}
        for side, direction in (("crm", Direction.FROM_INTEGRATION), ("erp", Direction.TO_INTEGRATION)):
            kept = [c for c in conflicts if c.deleted_side != side]
            if kept:
                runs.append((direction, side, [getattr(c.coupling, f"{side}_id") for c in kept]))
    else:
        for conflict in conflicts:
            picked = dict.fromkeys(conflict.fields, resolution) if resolution != FIELDS else choices
            decisions[conflict.coupling_id] = {"fields": picked}
        erp_ids = [c.erp_id for c in couplings]
        # Sales → ERP first: an ERP write is always read back, so what the ERP keeps still reaches Sales after.
        runs = [(d, "erp", erp_ids) for d in (Direction.FROM_INTEGRATION, Direction.TO_INTEGRATION)
                if d in mapping.directions()]
    jobs = []
    try:
        for direction, side, ids in runs:
            jobs += mapping_synchronize(RunRequest(mapping=mapping, direction=direction, only_ids=ids,
                                                   ids_side=side, decisions=decisions))
    except (MappingBusy, ValidationError) as exc:
        reason = refused_from(exc).message
        for conflict in conflicts:
            outcome.record(REFUSED, conflict_label(conflict), reason, conflict.pk)
        return outcome
    for job in jobs:
        before = said_from_data(job.message_data) if job.message_data else job.message
        # Translators: how a conflict was resolved, then the message of the job that resolved it.
        job.message_set(said(gettext_noop("%(note)s: %(message)s"), note=note, message=before))
        job.save(update_fields=["message", "message_data"])
    outcome.jobs += jobs
    return _settle(outcome, conflicts, jobs)


def _settle(outcome, conflicts, jobs):
    """Done: the conflicts the engine cleared; failed: those still in the inbox, with the engine's reason."""
    remaining = set(SyncConflict.objects.filter(pk__in=[c.pk for c in conflicts]).values_list("pk", flat=True))
    outcome.add(DONE, len(conflicts) - len(remaining))
    if not remaining:
        return outcome
    reasons = {}
    for source_id, message in SyncJobError.objects.filter(job__in=jobs).values_list("source_id", "message"):
        reasons.setdefault(source_id, message)
    stuck = [c for c in conflicts if c.pk in remaining]
    names = _erp_names(stuck)
    for conflict in stuck:
        coupling = conflict.coupling
        reason = reasons.get(str(coupling.erp_id)) or reasons.get(str(coupling.crm_id)) or gettext("still in conflict")
        outcome.record(FAILED, names.get(coupling.erp_id, conflict_label(conflict)), reason, conflict.pk)
    return outcome


def _erp_names(conflicts):
    by_model = defaultdict(list)
    for conflict in conflicts:
        by_model[conflict.coupling.erp_model].append(conflict.coupling.erp_id)
    names = {}
    for label, ids in by_model.items():
        names.update(record_names(apps.get_model(label), ids))
    return names
