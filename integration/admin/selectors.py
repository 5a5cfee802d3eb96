"""The reads of the integration's admin screens (the coupling column and actions, the coupling state, the conflict
inbox): each answers what a screen shows in a constant number of queries. The screens (coupling.py,
coupling_state.py, conflicts.py) only render; the operations are in integration.operations."""

from collections import defaultdict

from django.db.models import Q

from ..coupling.state import couplings_of, other_side, records_state, side_of
from ..labels import record_labels
from ..models import SyncConflict, SyncJob, SyncJobError

SIDES = ("erp", "crm")
LOG_RECORDS = 500  # the synchronisation log reads the jobs and errors of this many selected records at most
LOG_ROWS = 200  # … and shows this many jobs and errors at most


def couplings_labels(couplings, *, sides=SIDES):
    """{(model label, pk): text} of the records of ``couplings`` on ``sides``: one query per table."""
    wanted = defaultdict(set)
    for coupling in couplings:
        for side in sides:
            wanted[getattr(coupling, f"{side}_model")].add(getattr(coupling, f"{side}_id"))
    return record_labels(wanted)


def page_coupling_states(*, model, ids, mappings):
    """The coupling states of a changelist page's records ``ids`` and the labels of their counterparts:
    ``(states by id, labels)``."""
    states = records_state(model, ids, mappings)
    other = other_side(side_of(model))
    labels = couplings_labels((c for state in states.values() for c in state.couplings), sides=(other,))
    return states, labels


def records_sync_log(*, model, ids):
    """The synchronisation jobs and errors of the records ``ids`` of ``model`` and of their counterparts, newest
    first: ``(jobs, errors)``."""
    coupled = couplings_of(model, ids)
    side = side_of(model)
    job_ids = {j for cs in coupled.values() for c in cs for j in (c.last_erp_job_id, c.last_crm_job_id) if j}
    keys = [str(i) for i in ids]
    label = model._meta.label
    records = Q(source_model=label, source_id__in=keys) | Q(destination_model=label, destination_id__in=keys)
    # The counterparts' errors too, each id with its own table (ids of different tables collide).
    counterparts = defaultdict(list)
    for c in (c for cs in coupled.values() for c in cs):
        other = other_side(side)
        counterparts[getattr(c, f"{other}_model")].append(str(getattr(c, f"{other}_id")))
    for other_label, other_keys in counterparts.items():
        records |= (Q(source_model=other_label, source_id__in=other_keys)
                    | Q(destination_model=other_label, destination_id__in=other_keys))
    errors = list(SyncJobError.objects.filter(records).select_related("job").order_by("-created_at")[:LOG_ROWS])
    job_ids |= {e.job_id for e in errors}
    jobs = list(SyncJob.objects.filter(pk__in=job_ids).order_by("-created_at")[:LOG_ROWS])
    return jobs, errors


def conflict_for_compare(object_id):
    """The conflict the compare page shows (with its coupling, mapping and job), or None when it is gone."""
    return SyncConflict.objects.select_related("coupling", "table_mapping", "job").filter(
        pk=object_id if str(object_id).isdigit() else None).first()
