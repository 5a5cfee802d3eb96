"""Coupling: create in the other side, set up a coupling by hand, match-based coupling (and its criteria), delete
couplings (docs/features.md I4; Business Central's coupling screens).

Each function holds every rule of its operation and returns an `Outcome`, or raises `OperationRefused` when the
whole request cannot run. The admin actions, the API, the `couple` command and the Celery tasks only call them.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import capfirst
from django.utils.translation import gettext

from p2c.outcomes import DONE, FAILED, QUEUED, REFUSED, SKIPPED, OperationRefused, Outcome, RecordResult, Refusal

from .. import queue
from ..coupling.couplings import (
    CouplingConflict,
    coupling_create,
    coupling_side_check,
    couplings_drop_stale,
    mapping_couple_by_match,
)
from ..coupling.selection import (
    couplings_of,
    field_mappings_for_matching,
    ids_in_filter,
    other_side,
    record_labels,
    record_mappings,
    record_names,
    records_by_mapping,
    side_of,
    system_name,
)
from ..engine.locks import MappingBusy
from ..models import Coupling, Direction, IntegrationTableMapping, SyncJob, SyncJobError
from .common import (
    DIRECTION_NAMES,
    FINISHED,
    connection_check,
    direction_check,
    direction_parse,
    ids_typed,
    jobs_settle,
    mapping_check,
    refused_from,
    scheduled_note,
)

BACKGROUND_THRESHOLD = 200  # match-based coupling of more selected records than this runs in the background


def _no_mapping(model):
    return OperationRefused(
        gettext("No enabled table mapping couples %(verbose_name_plural)s.")
        % {"verbose_name_plural": model._meta.verbose_name_plural},
        code=Refusal.NO_MAPPING,
        status=409,
    )


# -- create in the other side ------------------------------------------------------------------------------------
def records_create_in_other_side(*, model, ids):
    """Create and couple a counterpart of each uncoupled record ``ids`` of ``model`` on the other side, in the
    background (BC's *Create in Dynamics 365 Sales* / *Create from CRM*; one job per mapping).

    A coupling whose counterpart was deleted is dropped first, so its record is created anew. Records coupled
    already are skipped ("already coupled"), as are those within no mapping's table filter; products are split
    between the items and resources mappings by those filters. The records of a mapping that does not
    synchronise towards the other side are refused; refused as a whole: the connection disabled, no enabled
    mapping, no mapping going that way (400).
    """
    connection_check()
    side = side_of(model)
    direction = Direction.TO_INTEGRATION if side == "erp" else Direction.FROM_INTEGRATION
    system = system_name(other_side(side))
    mappings = record_mappings(model)
    if not mappings:
        raise _no_mapping(model)
    if not any(direction in m.directions() for m in mappings):
        direction_check(mappings[0], direction)
    ids = ids_typed(model, ids)
    outcome = Outcome(gettext("Create in %(system)s") % {"system": system})
    for mapping in mappings:  # a record coupled to a deleted one is created anew
        couplings_drop_stale(mapping=mapping, side=side, ids=ids)
    coupled = couplings_of(model, ids)
    uncoupled = [i for i in ids if i not in coupled]
    grouped, outside = records_by_mapping(model, uncoupled, mappings)
    not_done = dict.fromkeys(coupled, (SKIPPED, gettext("already coupled")))
    not_done.update(dict.fromkeys(outside, (SKIPPED, gettext("outside every mapping's table filter"))))
    shares = []
    with transaction.atomic():
        for mapping, mapping_ids in grouped.items():
            if direction not in mapping.directions():
                reason = f"mapping {mapping.name} synchronises {DIRECTION_NAMES[mapping.direction]} only"
                not_done.update(dict.fromkeys(mapping_ids, (REFUSED, reason)))
                continue

            jobs = queue.mapping_synchronize_enqueue(
                mapping=mapping,
                direction=direction,
                only_ids=mapping_ids,
                full=True,
                create_new=True,
                skip_coupled=True,
            )
            outcome.jobs += jobs
            outcome.add(QUEUED, len(mapping_ids))
            shares += queue.chunk_shares(jobs, len(mapping_ids))
    _record_not_done(outcome, model, ids, not_done)
    scheduled = outcome.counts[QUEUED]
    outcome.notes.append(scheduled_note(scheduled=scheduled, total=len(ids), failed=outcome.counts[REFUSED],
                                        skipped=outcome.counts[SKIPPED]))
    return jobs_settle(outcome, shares)


def _record_not_done(outcome, model, ids, not_done):
    names = record_names(model, [pk for pk in ids if pk in not_done])
    for pk in ids:
        if pk in not_done:
            kind, reason = not_done[pk]
            outcome.record(kind, names.get(pk, pk), reason, pk)


# -- set up a coupling by hand ----------------------------------------------------------------------------------
def coupling_set_up_check(*, record, counterpart=None):
    """Refuse (409, ``already_coupled``) to set up a coupling of ``record`` while it is coupled (to another record
    than ``counterpart``): the message names its counterpart ("Delete the coupling first"). What the set-up page
    checks before it asks for a counterpart."""
    other = other_side(side_of(type(record)))
    for coupling in couplings_of(type(record), [record.pk]).get(record.pk, []):
        label, pk = getattr(coupling, f"{other}_model"), getattr(coupling, f"{other}_id")
        if counterpart is not None and (label, pk) == (counterpart._meta.label, counterpart.pk):
            continue
        counterpart = record_labels({label: [pk]}).get((label, pk))
        if counterpart is None:
            continue  # the counterpart is gone: coupling_create drops the stale coupling
        refused = OperationRefused(
            (
                gettext(
                    "%(verbose_name)s %(record)s is already coupled to %(counterpart)s. Delete the coupling first to "
                    "couple it to another record."
                )
                % {"verbose_name": record._meta.verbose_name.capitalize(), "record": record, "counterpart": counterpart}
            ),
            code=Refusal.ALREADY_COUPLED,
            status=409,
        )
        refused.coupling = coupling
        raise refused


def coupling_set_up(*, record, counterpart, mapping=None, synchronize=None):
    """Couple ``record`` to ``counterpart`` (a record of the other side) under ``mapping`` (default: the enabled
    mapping pairing their tables), then, with ``synchronize`` (send: use the ERP data, get: use the Sales data),
    queue the synchronisation of the pair (BC page 5336 "CRM Coupling Record").

    Refused: the connection or the mapping disabled (409), either record coupled to another record (409,
    ``already_coupled``, naming it; the exception's ``coupling`` is that coupling), a synchronisation direction
    the mapping lacks (409, ``direction_not_allowed``) or merge (400). Coupling the pair again is counted skipped ("already coupled to it").
    """
    connection_check()
    coupling_set_up_check(record=record, counterpart=counterpart)
    erp_record, crm_record = (record, counterpart) if side_of(type(record)) == "erp" else (counterpart, record)
    if side_of(type(counterpart)) == side_of(type(record)):
        raise OperationRefused(gettext("Couple a record to a record of the other side."), code=Refusal.SAME_SIDE, status=400)
    if mapping is None:
        mapping = IntegrationTableMapping.objects.filter(
            erp_model=erp_record._meta.label, crm_model=crm_record._meta.label, parent=None).first()
        if mapping is None:
            raise _no_mapping(type(record))
    mapping_check(mapping)
    one_way = direction_parse(synchronize)
    if one_way == Direction.BIDIRECTIONAL:
        raise OperationRefused(gettext("After coupling, synchronise with the ERP data (send) or the Sales data (get)."),
                               code=Refusal.DIRECTION_ONE_WAY, status=400)
    direction_check(mapping, one_way)
    outcome = Outcome(gettext("Set up coupling"))
    existed = Coupling.objects.filter(erp_model=erp_record._meta.label, crm_model=crm_record._meta.label,
                                      erp_id=erp_record.pk, crm_id=crm_record.pk).exists()
    try:
        with transaction.atomic():
            coupling_create(erp_record=erp_record, crm_record=crm_record)
    except CouplingConflict as exc:
        refused = OperationRefused(str(exc), code=Refusal.ALREADY_COUPLED, status=409)
        refused.coupling = exc.coupling
        raise refused from exc
    label = f"{capfirst(record._meta.verbose_name)} {record}"
    if existed:
        outcome.record(
            SKIPPED, label, gettext("already coupled to %(counterpart)s") % {"counterpart": counterpart}, record.pk
        )
    else:
        outcome.add(DONE)
        outcome.notes.append(
            gettext("%(label)s is coupled to %(verbose_name)s %(counterpart)s.")
            % {"label": label, "verbose_name": counterpart._meta.verbose_name, "counterpart": counterpart}
        )
    if one_way:

        source = erp_record if one_way == Direction.TO_INTEGRATION else crm_record
        with transaction.atomic():
            outcome.jobs += queue.mapping_synchronize_enqueue(mapping=mapping, direction=one_way, only_ids=[source.pk],
                                                      full=True)
        outcome.notes.append(gettext("Its synchronisation is queued."))
    return outcome


# -- match-based coupling ---------------------------------------------------------------------------------------
def match_criteria_save(*, mapping, criteria, sync_after=None, create_new=None):
    """Keep the match-based coupling criteria of ``mapping`` (BC page 5363): ``criteria`` lists the fields to
    match on as (field mapping or field name — ERP or Sales —, priority, case sensitive); every other field
    mapping is no longer matched on. ``sync_after`` / ``create_new`` (when given) are kept on the mapping too.

    Refused (400), changing nothing: no field chosen, a field the mapping has no usable field mapping for.
    """
    usable = field_mappings_for_matching(mapping)
    by_pk = {fm.pk: fm for fm in usable}
    chosen, unknown = {}, []
    for field, priority, case_sensitive in criteria:
        if hasattr(field, "pk"):
            fm = by_pk.get(field.pk)
        else:
            fm = next((fm for fm in usable if field in (fm.erp_field, fm.crm_field)), None)
        if fm is None:
            unknown.append(str(getattr(field, "erp_field", field)))
            continue
        chosen[fm.pk] = (int(priority or 0), bool(case_sensitive))
    if unknown:
        raise OperationRefused(
            gettext("Mapping %(mapping)s has no field mapping to match on for %(unknown)s.")
            % {"mapping": mapping.name, "unknown": ", ".join(unknown)},
            code=Refusal.MATCH_FIELD_UNKNOWN,
            status=400,
        )
    if not chosen:
        raise OperationRefused(
            (
                gettext(
                    "You must specify which fields on the table mapping '%(mapping)s' should be used for match-based "
                    "coupling."
                )
                % {"mapping": mapping.name}
            ),
            code=Refusal.MATCH_FIELDS_MISSING,
            status=400,
        )
    with transaction.atomic():
        for fm in usable:
            priority, case_sensitive = chosen.get(fm.pk, (0, fm.case_sensitive_matching))
            fm.use_for_match_coupling = fm.pk in chosen
            fm.match_priority, fm.case_sensitive_matching = priority, case_sensitive
            fm.save(update_fields=["use_for_match_coupling", "match_priority", "case_sensitive_matching"])
        fields = []
        if sync_after is not None:
            mapping.sync_after_match_coupling, fields = bool(sync_after), [*fields, "sync_after_match_coupling"]
        if create_new is not None:
            mapping.create_new_if_no_match, fields = bool(create_new), [*fields, "create_new_if_no_match"]
        if fields:
            mapping.save(update_fields=fields)
    return Outcome(gettext("Match criteria saved")).add(DONE, len(chosen))


def couple_by_match(*, mapping, from_side=None, ids=None, create_new=None, sync_after=None, background=None,
                    criteria=None):
    """Match-based coupling of ``mapping``: the uncoupled records of ``from_side`` ("erp"/"crm"; default: the ERP
    records unless the mapping only reads Sales) — ``ids`` of them, or all — are coupled to their unique
    uncoupled match, created on the other side when there is none and ``create_new`` (default: the mapping's
    setting), and synchronised after with ``sync_after`` (default: the mapping's setting).

    With ``criteria`` (as `match_criteria_save` takes them) the criteria, ``create_new`` and ``sync_after`` are
    first kept on the mapping (BC's criteria page), once everything else allows the coupling to run.
    Selected records coupled already, or outside the mapping's filter, are skipped. ``background``: queue the
    work (True), run it here (False), or queue only more than BACKGROUND_THRESHOLD selected records (None).
    Refused: the connection or the mapping disabled (409), a side the mapping cannot synchronise from or no match
    field chosen (409), the mapping busy (409, run here). Records whose synchronisation after coupling failed
    count failed, with the reason.
    """
    connection_check()
    mapping_check(mapping)
    if from_side == "sales":
        from_side = "crm"
    try:
        from_side = coupling_side_check(mapping=mapping, from_side=from_side)
    except ValidationError as exc:
        raise OperationRefused(" ".join(exc.messages), code=Refusal.DIRECTION_NOT_ALLOWED, status=409) from exc
    if criteria is not None:
        match_criteria_save(mapping=mapping, criteria=criteria, sync_after=sync_after, create_new=create_new)
    if not mapping.field_mappings.filter(use_for_match_coupling=True, status="enabled").exists():
        raise OperationRefused(
            (
                gettext(
                    "You must specify which fields on the table mapping '%(mapping)s' should be used for match-based "
                    "coupling."
                )
                % {"mapping": mapping.name}
            ),
            code=Refusal.MATCH_FIELDS_MISSING,
            status=409,
        )
    outcome = Outcome(gettext("Match-based coupling"))
    todo = None
    if ids is not None:
        model = mapping.erp_model_class() if from_side == "erp" else mapping.crm_model_class()
        ids = ids_typed(model, ids)
        within = ids_in_filter(mapping, model, ids)
        coupled = couplings_of(model, ids)
        not_done = {pk: (SKIPPED, gettext("already coupled")) for pk in ids if pk in coupled}
        not_done.update({pk: (SKIPPED, gettext("outside the mapping's table filter")) for pk in ids
                         if pk not in within and pk not in not_done})
        todo = [pk for pk in ids if pk not in not_done]
        _record_not_done(outcome, model, ids, not_done)
        if not todo:
            return outcome
    if background is None:
        background = todo is None or len(todo) > BACKGROUND_THRESHOLD
    options = {"mapping": mapping, "create_new": create_new, "sync_after": sync_after, "only_ids": todo,
               "from_side": from_side}
    if background:

        with transaction.atomic():
            jobs = queue.mapping_couple_by_match_enqueue(**options)
        outcome.jobs += jobs
        shares = [(job, len(todo) if todo is not None and len(jobs) == 1 else 1) for job in jobs]
        outcome.add(QUEUED, sum(n for _, n in shares))
        return _coupling_settle(outcome, shares)
    try:
        job = mapping_couple_by_match(**options)
    except MappingBusy as exc:
        raise refused_from(exc) from exc
    outcome.jobs.append(job)
    outcome.add(QUEUED, 0)
    return _coupling_settle(outcome, [(job, 0)], follow_ups=getattr(job, "follow_up_jobs", []))


def _coupling_settle(outcome, shares, follow_ups=()):
    """The coupling jobs' counts where they have finished: coupled and created records done, records without a
    unique match failed (one reason for them all, as BC logs it); then the records whose synchronisation after
    coupling failed count failed too, with their reasons."""
    fresh = {job.pk: job for job in SyncJob.objects.filter(pk__in=[job.pk for job, _ in shares])}
    outcome.jobs = [fresh.get(job.pk, job) for job in outcome.jobs]
    for job, n in shares:
        job = fresh.get(job.pk, job)
        if job.status not in FINISHED:
            continue
        outcome.counts[QUEUED] -= n
        outcome.counts[DONE] += job.coupled + job.inserted
        outcome.counts[FAILED] += job.failed
        outcome.counts[SKIPPED] += job.skipped
        for error in SyncJobError.objects.filter(job=job).order_by("id")[:20]:
            outcome.results.append(RecordResult(FAILED, error.source_id or job.mapping_name, error.message,
                                                error.source_id))
        if job.status == SyncJob.Status.FAILED and job.message:
            outcome.results.append(RecordResult(FAILED, mapping_label(job), job.message))
            outcome.counts[FAILED] += max(max(n, 1) - job.coupled - job.inserted - job.failed - job.skipped, 0)
        elif job.message:
            outcome.notes.append(f"{job.mapping_name}: {job.message}.")
    if follow_ups:
        # Coupled (done), but not synchronised: the failure counts too, so the message cannot read as a success.
        synced = jobs_settle(Outcome(gettext("Synchronised after coupling")), [(job, 0) for job in follow_ups])
        outcome.counts[FAILED] += synced.counts[FAILED]
        outcome.results += synced.results
        outcome.jobs += synced.jobs
        outcome.notes.append(
            gettext("Synchronised after coupling: %(counts_text)s.") % {"counts_text": synced.counts_text()}
        )
    return outcome


def mapping_label(job):
    return f"{job.mapping_name} job #{job.pk}"


# -- delete couplings --------------------------------------------------------------------------------------------
def couplings_delete(*, model=None, ids=None, couplings=None):
    """Delete the couplings of the records ``ids`` of ``model`` (those not coupled are skipped, "not coupled"),
    or the ``couplings`` given. The records stay, on both sides."""
    outcome = Outcome(gettext("Delete coupling"))
    if couplings is not None:
        return outcome.add(DONE, Coupling.objects.filter(pk__in=[c.pk for c in couplings]).delete()[0])
    ids = ids_typed(model, ids)
    side = side_of(model)
    coupled = couplings_of(model, ids)
    if coupled:
        Coupling.objects.filter(**{f"{side}_model": model._meta.label, f"{side}_id__in": list(coupled)}).delete()
    outcome.add(DONE, len(coupled))
    _record_not_done(outcome, model, ids, {pk: (SKIPPED, gettext("not coupled")) for pk in ids if pk not in coupled})
    return outcome
