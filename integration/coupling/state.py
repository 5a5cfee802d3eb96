"""What the Sales and ERP lists tell of each record's coupling: the reads behind the *Coupling* column and filter.

Plain selectors, no admin. A record is, first match wins:

- **queued**: a queued or running job was given it, or its counterpart (`SyncJobRecord`,
  integration.coupling.job_records);
- **conflict**: its coupling is in the conflict inbox (`SyncConflict`: changed on both sides, or deleted on one),
  which is where the user acts on it, not a failure;
- **skipped**: its coupling, or its failed insert, failed the same way twice and waits to be restored;
- **failed**: the last write of its coupling failed (either direction), or its creation on the other side failed
  (`FailedInsert`), or a job given it failed as a whole and nothing newer happened to it since;
- **coupled**: it has a coupling; else **not coupled**.

`records_state` answers for a page of records in a constant number of queries (couplings, job records, failed
inserts, their errors, and the counterparts' labels one query per table); `records_in_state` filters a queryset
on the same rules in SQL, so the filter shows what the column says.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from django.db import connection
from django.db.models import CharField, Exists, OuterRef, Q, UUIDField, Value
from django.db.models.functions import Cast, Concat, Substr
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext, gettext_lazy

from p2c.databases import same_database
from p2c.said import said_text
from p2c.utils import any_of, chunked

from ..models import (
    Coupling,
    Direction,
    FailedInsert,
    IntegrationTableMapping,
    SyncConflict,
    SyncJob,
    SyncJobError,
    SyncJobRecord,
)
from .job_records import ACTIVE

FAILURE = "failure"
NOT_COUPLED, QUEUED, COUPLED, FAILED, SKIPPED = "uncoupled", "queued", "coupled", "failed", "skipped"
CONFLICT = "conflict"
STATES = ((COUPLED, gettext_lazy("Coupled")), (QUEUED, gettext_lazy("Queued")), (CONFLICT, gettext_lazy("Conflict")),
          (FAILED, gettext_lazy("Failed")), (SKIPPED, gettext_lazy("Skipped")),
          (NOT_COUPLED, gettext_lazy("Not coupled")))


def side_of(model):
    """``"crm"`` for a Sales model, ``"erp"`` for an ERP model."""
    return "crm" if model._meta.app_label == "crm" else "erp"


def other_side(side):
    return "erp" if side == "crm" else "crm"


def record_mappings(model, *, enabled_only=True):
    """The enabled mappings (or all, for an operation to refuse a disabled one) whose records ``model`` couples:
    top-level, not option mappings, not F&O tasks."""
    label = model._meta.label
    mappings = IntegrationTableMapping.objects.filter(parent=None, crm_option_field="", fo_task__isnull=True)
    if enabled_only:
        mappings = mappings.filter(is_enabled=True)
    return list(mappings.filter(Q(erp_model=label) | Q(crm_model=label)).order_by("sort_order", "name"))


def couplings_of(model, ids):
    """{record pk: [couplings]} of the records ``ids`` of ``model``, in one query."""
    side = side_of(model)
    found = defaultdict(list)
    if not ids:
        return found
    for coupling in Coupling.objects.filter(**{f"{side}_model": model._meta.label, f"{side}_id__in": list(ids)}):
        found[getattr(coupling, f"{side}_id")].append(coupling)
    return found


def admin_change_url(label, pk):
    app_label, model_name = label.lower().split(".")
    try:
        return reverse(f"admin:{app_label}_{model_name}_change", args=[pk])
    except NoReverseMatch:
        return None


# Microsoft's Dataverse hosts: a record opens in the organisation's model-driven app (main.aspx) rather than in
# another p2c's admin.
DYNAMICS_HOSTS = (".dynamics.com", ".microsoftdynamics.us", ".dynamics.cn", ".microsoftdynamics.de")


def sales_home_url(connection):
    """Where a person opens Sales reached over the Web API (``connection``: `sales_connection_effective`'s)."""
    base = connection["SALES_API_URL"].rstrip("/").removesuffix("/api/data/v9.2")
    if (urlsplit(base).hostname or "").endswith(DYNAMICS_HOSTS):
        return base + "/main.aspx"
    return base + "/admin/crm/"


def counterpart_url_maker():
    """``url(label, pk)``: where a person opens a coupled record: this admin's change page, or, when Sales is reached
    over the Dataverse Web API, the Sales record where Sales lives (a Dynamics 365 organisation's form, another p2c's
    admin). Reads the connection once: made once per page."""
    from crm.dataverse.entities import ENTITIES

    from ..models import sales_connection_effective

    connection = sales_connection_effective()
    if connection is None:
        return admin_change_url
    home = sales_home_url(connection)
    logical = {entity.model._meta.label_lower: entity.logical_name for entity in ENTITIES}

    def url(label, pk):
        label = label.lower()
        if not label.startswith("crm."):
            return admin_change_url(label, pk)
        if home.endswith("/main.aspx"):
            if label not in logical:
                return home
            return home + "?" + urlencode({"etn": logical[label], "pagetype": "entityrecord", "id": pk})
        return f"{home}{label.split('.')[1]}/{pk}/change/"
    return url


# -- the state of records ---------------------------------------------------------------------------------------------
@dataclass
class RecordState:
    """What the list tells of one record: its ``state``, its couplings, and for queued/failed/skipped the job
    (``job_id``), the error (``error_id``, a `SyncJobError`, when there is one) and its ``message``."""

    state: str = NOT_COUPLED
    couplings: list = field(default_factory=list)
    job_id: int | None = None
    error_id: int | None = None
    message: str = ""
    conflict_id: int | None = None  # its coupling's entry in the conflict inbox
    failed_inserts: list = field(default_factory=list)
    source_id: str = ""  # the source record of the failed write, whose error tells why


def records_state(model, ids, mappings):
    """{pk: RecordState} of the records ``ids`` of ``model`` (coupled by ``mappings``), in four queries at most."""
    side, label = side_of(model), model._meta.label
    keys = {str(pk): pk for pk in ids}
    couplings = couplings_of(model, ids)
    states = {pk: RecordState(couplings=couplings.get(pk, [])) for pk in ids}
    if not keys:
        return states
    jobs = defaultdict(list)  # pk -> [(job id, status, message)] of the jobs given the record, newest first
    for record_id, job_id, status, message, data in (
        SyncJobRecord.objects.filter(model=label, record_id__in=list(keys), job__status__in=(*ACTIVE, SyncJob.Status.FAILED))
        .order_by("-job_id").values_list("record_id", "job_id", "job__status", "job__message", "job__message_data")
    ):
        jobs[keys[record_id]].append((job_id, status, said_text(data, message)))
    inserts = defaultdict(list)
    pairs = _failed_insert_pairs(side, label, mappings)
    if pairs:
        for entry in FailedInsert.objects.filter(pairs, source_id__in=list(keys)):
            inserts[keys[entry.source_id]].append(entry)
    conflicts = dict(SyncConflict.objects.filter(
        coupling_id__in=[c.pk for found in couplings.values() for c in found]).values_list("coupling_id", "pk"))
    wanted = {}  # (job id, source id) -> pk: the error rows that say why
    for pk, state in states.items():
        state.failed_inserts = inserts.get(pk, [])
        state.conflict_id = next((conflicts[c.pk] for c in state.couplings if c.pk in conflicts), None)
        _decide(state, jobs.get(pk, []))
        if state.state in (FAILED, SKIPPED) and state.job_id and state.source_id:
            wanted[(state.job_id, state.source_id)] = pk
    if wanted:
        for error_id, job_id, source_id, message, data in SyncJobError.objects.filter(
            job_id__in={k[0] for k in wanted}, source_id__in={k[1] for k in wanted}
        ).values_list("pk", "job_id", "source_id", "message", "message_data"):
            pk = wanted.get((job_id, source_id))
            if pk is not None and states[pk].error_id is None:
                states[pk].error_id, states[pk].message = error_id, states[pk].message or said_text(data, message)
    return states


def _decide(state, jobs):
    """Set ``state`` from the record's couplings, failed inserts and jobs (see the module docstring)."""
    active = [job for job in jobs if job[1] in ACTIVE]
    failures = []  # (job id, source id of the failed write, message)
    for c in state.couplings:
        if c.last_erp_result == FAILURE:  # a write into the ERP: its source is the Sales record
            failures.append((c.last_erp_job_id, str(c.crm_id), ""))
        if c.last_crm_result == FAILURE:
            failures.append((c.last_crm_job_id, str(c.erp_id), ""))
    failures += [(e.job_id, e.source_id, e.message_text) for e in state.failed_inserts]
    newest = max([j for c in state.couplings for j in (c.last_erp_job_id, c.last_crm_job_id) if j]
                 + [e.job_id for e in state.failed_inserts if e.job_id], default=0)
    if active:
        state.state, state.job_id = QUEUED, active[0][0]
    elif state.conflict_id is not None:
        state.state = CONFLICT
    elif any(c.skipped for c in state.couplings) or any(e.skipped for e in state.failed_inserts):
        state.state = SKIPPED
        state.job_id, state.source_id, state.message = max(failures, key=lambda f: f[0] or 0, default=(None, "", ""))
    elif jobs and jobs[0][0] > newest:  # a job given it failed as a whole, and nothing happened to it since
        state.state, state.job_id, state.message = FAILED, jobs[0][0], jobs[0][2] or gettext("The job failed.")
    elif failures:
        state.state = FAILED
        state.job_id, state.source_id, state.message = max(failures, key=lambda f: f[0] or 0)
    elif state.couplings:
        state.state = COUPLED


def _failed_insert_pairs(side, label, mappings):
    """Q of the failed inserts whose source is a record of ``label`` (on ``side``), over ``mappings``."""
    direction = Direction.TO_INTEGRATION if side == "erp" else Direction.FROM_INTEGRATION
    q = Q()
    for m in mappings:
        if getattr(m, f"{side}_model") == label:
            q |= Q(erp_model=m.erp_model, crm_model=m.crm_model, direction=direction)
    return q if q else None


def records_in_state(queryset, state, mappings):
    """``queryset`` narrowed to the records in ``state`` (one of STATES), on the rules of `records_state`."""
    model = queryset.model
    if not same_database(Coupling, model):
        return _records_in_state_by_keys(queryset, state, mappings)
    side, label = side_of(model), model._meta.label
    pk_text = _pk_text(model, OuterRef("pk"))
    couplings = Coupling.objects.filter(**{f"{side}_model": label, f"{side}_id": OuterRef("pk")})
    given = SyncJobRecord.objects.filter(model=label, record_id=pk_text)
    queued = Exists(given.filter(job__status__in=ACTIVE))
    pairs = _failed_insert_pairs(side, label, mappings)
    inserts = FailedInsert.objects.filter(pairs, source_id=pk_text) if pairs else None
    skipped = Exists(couplings.filter(skipped=True))
    newer = Coupling.objects.filter(**{f"{side}_model": label, f"{side}_id": OuterRef(OuterRef("pk"))}).filter(
        Q(last_erp_job_id__gt=OuterRef("job_id")) | Q(last_crm_job_id__gt=OuterRef("job_id")))
    failed_whole = given.filter(job__status=SyncJob.Status.FAILED).exclude(Exists(newer))
    if inserts is not None:
        skipped |= Exists(inserts.filter(skipped=True))
        failed_whole = failed_whole.exclude(Exists(FailedInsert.objects.filter(
            pairs, source_id=OuterRef("record_id"), job_id__gt=OuterRef("job_id"))))
    failed = Exists(couplings.filter(Q(last_erp_result=FAILURE) | Q(last_crm_result=FAILURE))) | Exists(failed_whole)
    if inserts is not None:
        failed |= Exists(inserts)
    coupled = Exists(couplings)
    conflict = Exists(SyncConflict.objects.filter(**{f"coupling__{side}_model": label,
                                                     f"coupling__{side}_id": OuterRef("pk")}))
    ladder = [(QUEUED, queued), (CONFLICT, conflict), (SKIPPED, skipped), (FAILED, failed), (COUPLED, coupled)]
    before = Q()
    for name, condition in ladder:
        if name == state:
            return queryset.filter(before & Q(condition))
        before &= ~Q(condition)
    if state == NOT_COUPLED:
        return queryset.filter(before)
    return queryset


def _records_in_state_by_keys(queryset, state, mappings):
    """`records_in_state` where the records are in another database than the integration's tables (Sales in its
    own: p2c.databases): every record the integration knows of (coupled, given to a job, failed to insert) is
    judged by `records_state` in pages, and ``queryset`` narrowed by their keys."""
    model = queryset.model
    side, label = side_of(model), model._meta.label
    to_python = model._meta.pk.to_python
    known = set(Coupling.objects.filter(**{f"{side}_model": label}).values_list(f"{side}_id", flat=True))
    known.update(to_python(pk) for pk in SyncJobRecord.objects.filter(
        model=label, job__status__in=(*ACTIVE, SyncJob.Status.FAILED)).values_list("record_id", flat=True))
    pairs = _failed_insert_pairs(side, label, mappings)
    if pairs:
        known.update(to_python(pk) for pk in FailedInsert.objects.filter(pairs).values_list("source_id", flat=True))
    in_state, others = [], []
    for page in chunked(sorted(known, key=str), STATE_PAGE):
        for pk, record in records_state(model, page, mappings).items():
            (in_state if record.state == state else others).append(pk)
    if state == NOT_COUPLED:  # what the integration knows of in another state, left out
        return queryset.exclude(any_of("pk", others)) if others else queryset
    return queryset.filter(any_of("pk", in_state))


STATE_PAGE = 5000  # records judged per round by `_records_in_state_by_keys`


def _pk_text(model, ref):
    """An expression giving ``ref`` (a primary key) as the text the job records and failed inserts store
    (``str(pk)``): a UUID with its dashes, which SQLite keeps as 32 hex digits."""
    pk = model._meta.pk
    if isinstance(pk, UUIDField) and connection.vendor == "sqlite":
        dash = Value("-")
        return Concat(Substr(ref, 1, 8), dash, Substr(ref, 9, 4), dash, Substr(ref, 13, 4), dash,
                      Substr(ref, 17, 4), dash, Substr(ref, 21, 12), output_field=CharField())
    return Cast(ref, output_field=CharField())
