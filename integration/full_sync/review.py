"""Full synchronisation review (docs/features.md I6; BC table/page 5373 "CRM Full Synch. Review"): the recommendations,
the lines and their status, and whether a run may be restarted. The run itself is `integration.full_sync.run`.

The review lists every enabled top-level mapping in dependency order with its *initial synchronisation
recommendation* (BC's ``GetInitialSynchRecommendation``). Starting it creates a `FullSyncRun` that snapshots one
`FullSyncLine` per mapping; then `full_sync_advance` starts, as one background task each, the lines whose
dependencies have all finished (or had no records). Each line task claims its line with a conditional UPDATE, runs
it (a *full synchronisation* line: ``mapping_synchronize(full=True, create_new=True)``; a *couple records* line:
match-based coupling, then the same full synchronisation), records its jobs, and advances the run again, so
dependants start as soon as they can and independent lines run in parallel on as many workers as there are.

Everything here is idempotent: advancing twice starts nothing twice (a line moves from not started to waiting in
one conditional UPDATE), a redelivered line task finds its line claimed and does nothing, unless the claimer died
(its holder is gone: engine/locks.py), in which case it takes the line over; the periodic check
(`full_sync_lines_recover`) queues such lines again within a minute. A failed or interrupted run is
restarted with ``full_sync_start(restart=True)``: finished lines are not run again, the rest continue, and the
couplings the engine keeps make sure nothing is created twice.

Nothing here imports Celery: the run hands its work to `integration.queue`, which enqueues the tasks.
"""

import logging
import os
from dataclasses import dataclass, field
from functools import cached_property

from django.utils import formats, timezone
from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext_lazy

from p2c.outcomes import OperationRefused, Refusal

from ..engine.filters import filter_validate
from ..engine.job_log import job_count_text
from ..engine.locks import STALE_AFTER, holder_gone
from ..mapping_order import mappings_in_dependency_order
from ..mappings import definition_of
from ..models import FullSyncLine, FullSyncRun, IntegrationTableMapping, SyncJob
from .partitions_progress import partitions_progress_of, partitions_progress_text

logger = logging.getLogger("p2c.integration")

Recommendation = FullSyncLine.Recommendation
State = FullSyncLine.State

# BC's GetSynchJobStatus: ' ', In Process, Error, Success.
JOB_STATUS_NONE, JOB_STATUS_IN_PROCESS, JOB_STATUS_ERROR, JOB_STATUS_SUCCESS = " ", "in_process", "error", "success"
JOB_STATUS_LABELS = {
    JOB_STATUS_NONE: " ", JOB_STATUS_IN_PROCESS: gettext_lazy("In Process"), JOB_STATUS_ERROR: gettext_lazy("Error"),
    JOB_STATUS_SUCCESS: pgettext_lazy("job status", "Success"),
}
RUNNABLE = (Recommendation.FULL, Recommendation.COUPLE)


def job_status(job):
    """BC's GetSynchJobStatus: ' ' (no job), "in_process" (not finished), "error" (failed rows), "success"."""
    if job is None:
        return JOB_STATUS_NONE
    if job.finished_at is None:
        return JOB_STATUS_IN_PROCESS
    if job.failed or job.status in (SyncJob.Status.FAILED, SyncJob.Status.ERROR):
        return JOB_STATUS_ERROR
    return JOB_STATUS_SUCCESS


@dataclass
class ReviewLine:
    """One line of the review page: a mapping, its recommendation, and where the current run is with it."""

    mapping: IntegrationTableMapping
    recommendation: str
    dependencies: list = field(default_factory=list)  # names of the mappings it waits for
    state: str = State.NOT_STARTED  # "", "waiting", "running", "finished", "failed"
    to_job: SyncJob | None = None  # ERP → Sales
    from_job: SyncJob | None = None  # Sales → ERP
    coupling_job: SyncJob | None = None
    message: str = ""
    line: FullSyncLine | None = None  # the run's row, when there is a run

    @property
    def name(self):
        return self.mapping.name if self.mapping else self.line.mapping_name

    @property
    def message_text(self):
        """The message column: the line's own message (why it failed), else why its jobs skipped or failed records
        (their messages, in the reader's language): a line with records skipped says why."""
        if self.message:
            return self.message
        return " · ".join(job.message_text for job in (self.coupling_job, self.to_job, self.from_job)
                          if job is not None and (job.skipped or job.failed) and job.message_text)

    @property
    def recommendation_label(self):
        return Recommendation(self.recommendation).label

    @property
    def state_label(self):
        return State(self.state).label

    @property
    def to_job_status(self):
        return job_status(self.to_job)

    @property
    def from_job_status(self):
        return job_status(self.from_job)

    @property
    def to_job_status_label(self):
        return JOB_STATUS_LABELS[self.to_job_status]

    @property
    def from_job_status_label(self):
        return JOB_STATUS_LABELS[self.from_job_status]

    @property
    def direction(self):
        return self.mapping.direction if self.mapping else ""


# -- recommendations ----------------------------------------------------------------------------------------------
def _count(model, spec, *, limit=2):
    """How many rows pass the mapping's filter, counted up to ``limit`` (all the rules need to know)."""
    return len(model.objects.filter(filter_validate(model, spec or {})).values_list("pk", flat=True)[:limit])


def _sales_rows(mapping, fields, *, limit=2, transport=None):
    """Up to ``limit`` Sales rows passing the mapping's filter (``fields`` of each), asked of the Sales side: this
    database's, or a Sales over the Web API (whose rows this database does not hold, read through ``transport``:
    `_review_transport`'s), read until ``limit`` pass."""
    if transport is None:
        model = mapping.crm_model_class()
        return list(model.objects.filter(filter_validate(model, mapping.crm_filter or {})).values(*fields)[:limit])
    from ..engine.plan import CRM
    from ..engine.sides.dataverse import DataverseSide, _ReadRefused
    from ..engine.sides.dataverse_http import SalesApiError, answer_message

    side = DataverseSide(mapping.crm_model_class(), transport, key=CRM, filter_spec=mapping.crm_filter or {})
    rows = []
    try:
        for page in side.changes(None, fields=fields):
            rows.extend(page)
            if len(rows) >= limit:
                break
    except _ReadRefused as refused:  # a 4xx: Sales answered, but not with the rows
        raise SalesApiError(answer_message(refused.response)) from None
    return rows[:limit]


# A person waits for the review page (and for Start): a Sales that does not answer is told in seconds, not after a
# run's minutes of retries.
REVIEW_DEADLINE_SECONDS = 15


class SalesNotAnswering(OperationRefused):
    """The recommendations need Sales's rows, and Sales over the Web API did not give them."""

    def __init__(self, url, reason):
        super().__init__(
            gettext("Sales at %(url)s did not answer, so the full synchronisation cannot be reviewed or started: "
                    "%(reason)s") % {"url": url, "reason": reason},
            code=Refusal.SALES_UNAVAILABLE, status=503)


def _review_transport():
    """(a `Transport` to the Sales Web API with a deadline a person can wait for, its URL), or (None, '') when
    Sales is this database."""
    from dataclasses import replace

    from ..engine.sides.dataverse_http import SalesApiError, Transport, configured

    try:
        config = configured()
    except SalesApiError as exc:  # the configuration itself is wrong: told as Sales not answering at that URL
        raise SalesNotAnswering(os.environ.get("SALES_API_URL", ""), str(exc)) from None
    if config is None:
        return None, ""
    return Transport(replace(config, deadline=min(config.deadline, REVIEW_DEADLINE_SECONDS))), config.url


def mapping_recommendation(mapping, *, transport=None):
    """BC's initial synchronisation recommendation for ``mapping``, dependencies left aside: its declared mapping's
    (``MappingDefinition.review_recommendation``, by key, so a renamed mapping keeps it); ``transport``: to Sales over
    the Web API (`_review_transport`), None when Sales is this database."""
    return definition_of(mapping).review_recommendation(mapping, _SidesFound(mapping, transport))


class _SidesFound:
    """What a recommendation reads of a mapping's two sides, each read when first asked: how many ERP rows pass the
    filter (up to 2) and up to 2 Sales rows."""

    def __init__(self, mapping, transport):
        self.mapping, self.transport = mapping, transport

    @cached_property
    def erp_count(self):
        return _count(self.mapping.erp_model_class(), self.mapping.erp_filter)

    def crm_rows(self, fields):
        return _sales_rows(self.mapping, list(fields), transport=self.transport)


def _review_mappings():
    """Enabled top-level mappings in dependency order, with every mapping by pk (for disabled dependencies)."""
    everything = list(IntegrationTableMapping.objects.prefetch_related("dependencies"))
    lines = [m for m in everything if m.is_enabled and m.parent_id is None]
    return mappings_in_dependency_order(lines), {m.pk: m for m in everything}


def _recommendations(mappings, by_pk):
    """Recommendation per mapping name; a line whose dependency will not run (disabled, or itself not satisfied)
    while it has records is *dependency not satisfied* and never starts. Raises `SalesNotAnswering` (an
    OperationRefused naming Sales's URL) when Sales over the Web API does not answer."""
    from ..engine.sides.dataverse_http import SalesApiError

    names = {m.name for m in mappings}
    result = {}
    transport, url = _review_transport()
    try:
        for mapping in mappings:  # dependency order: a dependency's verdict is known before its dependants'
            recommendation = mapping_recommendation(mapping, transport=transport)
            for dep in mapping.dependencies.all():
                if dep.name in names:
                    blocked = result[dep.name] == Recommendation.DEPENDENCY if dep.name in result else False
                else:
                    blocked = mapping_recommendation(by_pk[dep.pk], transport=transport) != Recommendation.NO_RECORDS
                if blocked:
                    recommendation = Recommendation.DEPENDENCY
                    break
            result[mapping.name] = recommendation
    except SalesApiError as exc:
        raise SalesNotAnswering(url, str(exc)) from None
    finally:
        if transport is not None:
            transport.close()
    return result


# -- selectors -----------------------------------------------------------------------------------------------------
def full_sync_current_run():
    """The latest run (in process or not), or None."""
    return FullSyncRun.objects.order_by("-started_at", "-id").first()


def full_sync_review_lines(*, run=None):
    """The review lines, in dependency order (child and disabled mappings are not lines).

    With a run (default: the latest one) the lines are that run's: recommendation as snapshotted when it started,
    state, and its jobs per direction. Without any run, recommendations are computed now and nothing has a job.
    """
    run = run or full_sync_current_run()
    if run is None:
        mappings, by_pk = _review_mappings()
        recommendations = _recommendations(mappings, by_pk)
        return [
            ReviewLine(mapping=m, recommendation=recommendations[m.name],
                       dependencies=[d.name for d in m.dependencies.all()])
            for m in mappings
        ]
    lines = run.lines.select_related("mapping", "to_job", "from_job", "coupling_job").order_by("position", "pk")
    return [
        ReviewLine(mapping=line.mapping, recommendation=line.recommendation, dependencies=line.dependencies,
                   state=line.state, to_job=line.to_job, from_job=line.from_job, coupling_job=line.coupling_job,
                   message=line.message_text, line=line)
        for line in lines
    ]


def _job_dict(job, partitions=None):
    """``partitions``: `partitions_progress_of` the jobs shown (a partitioned job's partitions done / total)."""
    if job is None:
        return None
    progress = (partitions or {}).get(job.pk)
    return {
        "partitions": progress, "partitions_text": partitions_progress_text(progress),
        "id": job.pk, "status": job_status(job), "status_label": str(JOB_STATUS_LABELS[job_status(job)]),
        "job_status": job.status, "message": job.message_text, "counts": job.counts(),
        "counts_text": {name: job_count_text(name, n) for name, n in job.counts().items()},
        "started_at": _iso(job.started_at), "finished_at": _iso(job.finished_at),
    }


def _iso(value):
    return value.isoformat() if value else None


def _stalled(run, lines):
    """``(since, stopped lines)`` of a run in process that nothing moves, else ``(None, [])``.

    A running line whose worker is gone (its holder: engine/locks.py) stalls the run at once. Otherwise nothing
    moves when no line is running and neither the run, nor a line, nor one of their jobs has started or finished
    within STALE_AFTER: the message of a waiting line was lost with its worker (the filesystem:// broker does not
    deliver it again), or no worker is running.
    """
    if run is None or run.status != FullSyncRun.Status.RUNNING:
        return None, []
    running = [line for line in lines if line.state == State.RUNNING and line.line is not None]
    stopped = [line for line in running if line_claimer_gone(line.line)]
    if running and not stopped:
        return None, []
    times = [run.started_at, run.restarted_at]  # a restart counts as progress: it queued the lines again
    for line in lines:
        if line.line is not None:
            times += [line.line.started_at, line.line.finished_at]
        for job in (line.coupling_job, line.to_job, line.from_job):
            if job is not None:
                times += [job.started_at, job.finished_at]
    since = max(t for t in times if t)
    if stopped or since < timezone.now() - STALE_AFTER:
        return since, stopped
    return None, []


def full_sync_stalled_since(*, run, lines=None):
    """When ``run`` is in process but nothing is moving (`_stalled`): the time of its last progress; else None.

    ``lines``: the run's review lines when the caller has them (no further query).
    """
    lines = full_sync_review_lines(run=run) if lines is None and run is not None else lines
    return _stalled(run, lines or [])[0]


def full_sync_stalled_message(since, stopped=()):
    """What the review page says about a run that has not moved since ``since`` (``stopped``: the lines whose
    worker is gone)."""
    at = formats.date_format(timezone.localtime(since), "DATETIME_FORMAT")
    if stopped:
        names = ", ".join(line.name for line in stopped)
        return gettext(
            "The worker running %(names)s stopped (killed or crashed); the last progress was at %(at)s. It is queued "
            "again within a minute when the periodic check runs; otherwise: Restart continues where the run stopped: "
            "finished lines are not run again."
        ) % {"names": names, "at": at}
    return gettext(
        "No line has made progress since %(at)s: the worker may have stopped. Restart continues where the run "
        "stopped: finished lines are not run again."
    ) % {"at": at}


def progress_text(progress):
    """The review's progress line: mappings done out of those to do, with the failed and in-process ones."""
    text = ngettext("%(done)s of %(total)s mapping done", "%(done)s of %(total)s mappings done", progress["total"])
    parts = [text % {"done": progress["done"], "total": progress["total"]}]
    if progress["failed"]:
        parts.append(
            ngettext("%(count)s failed", "%(count)s failed", progress["failed"]) % {"count": progress["failed"]}
        )
    if progress["running"]:
        parts.append(ngettext("%(count)s in process", "%(count)s in process", progress["running"])
                     % {"count": progress["running"]})
    # Translators: the parts of the progress line, joined as a list, then the full stop.
    return gettext("%(parts)s.") % {"parts": ", ".join(parts)}


def full_sync_status(*, run=None, lines=None):
    """What a polling review page shows, as a JSON-able dict (labels are text in the active language).

    ``run``: id, status, started/finished, who, restarts (None when no run yet); ``lines``: per mapping its state,
    recommendation and the status and counts of its jobs; ``progress``: lines done out of lines to do, percent;
    ``finished``: true when nothing is left to wait for (the page stops polling); ``stalled``: for a run in process
    that nothing moves (`full_sync_stalled_since`), ``{"since", "message"}``, else None; ``can_restart``: a failed
    run, or a stalled one (`full_sync_restart_refusal`). ``lines``: `full_sync_review_lines` of ``run`` when the caller
    has them already (without a run they cost Sales reads). Raises `SalesNotAnswering` as those do.
    """
    run = run or full_sync_current_run()
    lines = full_sync_review_lines(run=run) if lines is None else lines
    todo = [line for line in lines if line.recommendation in RUNNABLE]
    done = [line for line in todo if line.state == State.FINISHED]
    stalled, stopped = _stalled(run, lines)
    partitions = partitions_progress_of([line.to_job for line in lines] + [line.from_job for line in lines])
    progress = {
        "total": len(todo), "done": len(done),
        "failed": len([line for line in todo if line.state == State.FAILED]),
        "running": len([line for line in todo if line.state in (State.WAITING, State.RUNNING)]),
        "percent": round(100 * len(done) / len(todo)) if todo else 100,
        # records the run's jobs failed (a line can finish with some): the command exits non-zero on them
        "failed_records": sum(job.failed for line in lines for job in (line.coupling_job, line.to_job, line.from_job)
                              if job is not None),
    }
    return {
        "run": None if run is None else {
            "id": run.pk, "status": run.status, "status_label": str(run.get_status_display()),
            "started_at": _iso(run.started_at), "finished_at": _iso(run.finished_at),
            "started_by": run.started_by.get_username() if run.started_by_id else "",
            "restarts": run.restarts, "message": run.message_text,
        },
        "lines": [
            {
                "name": line.name, "mapping_id": line.mapping.pk if line.mapping else None,
                "direction": line.direction, "dependencies": line.dependencies,
                "recommendation": line.recommendation, "recommendation_label": str(line.recommendation_label),
                "state": line.state, "state_label": str(line.state_label), "message": line.message_text,
                "to_job": _job_dict(line.to_job, partitions), "from_job": _job_dict(line.from_job, partitions),
                "coupling_job": _job_dict(line.coupling_job, partitions),
                "to_job_status": line.to_job_status, "from_job_status": line.from_job_status,
            }
            for line in lines
        ],
        "progress": progress,
        "progress_text": progress_text(progress),
        "finished": run is None or run.status != FullSyncRun.Status.RUNNING,
        "stalled": None if stalled is None else {"since": _iso(stalled),
                                                 "message": full_sync_stalled_message(stalled, stopped)},
        "can_restart": not full_sync_restart_refusal(run, stalled=stalled),
    }


# -- restart refusal, claims -------------------------------------------------------------------------------
_UNKNOWN = object()


def full_sync_restart_refusal(run, *, stalled=_UNKNOWN):
    """Why ``run`` may not be restarted, or "" when it may: only a failed run, or one in process that nothing moves
    (its worker died: `full_sync_stalled_since`), continues where it stopped. ``stalled``: that time when the caller
    has it."""
    if run is None:
        return gettext("There is no full synchronisation to restart: start one.")
    if run.status == FullSyncRun.Status.FINISHED:
        return gettext("Full synchronisation #%(run)s finished: there is nothing to restart. Start a new run to "
                       "synchronise everything again.") % {"run": run.pk}
    if run.status == FullSyncRun.Status.RUNNING:
        if stalled is _UNKNOWN:
            stalled = full_sync_stalled_since(run=run)
        if stalled is None:
            return gettext("Full synchronisation #%(run)s is in process and its lines are moving: there is nothing "
                           "to restart. Wait for it to finish.") % {"run": run.pk}
    return ""


def line_claimer_gone(line):
    """True when the worker that claimed ``line`` is gone (its holder: engine/locks.py)."""
    if not line.claim:
        return True
    mapping = IntegrationTableMapping.objects.filter(pk=line.mapping_id).only("locked_by", "locked_at").first()
    # Its heartbeat where only a heartbeat tells (another machine, not PostgreSQL): the mapping's, while it runs.
    return holder_gone(line.claim, beats=[line.started_at, mapping and mapping.locked_by and mapping.locked_at])

__all__ = [
    "ReviewLine", "SalesNotAnswering", "full_sync_current_run", "full_sync_restart_refusal", "full_sync_review_lines",
    "full_sync_stalled_message", "full_sync_stalled_since", "full_sync_status", "job_status", "line_claimer_gone",
    "mapping_recommendation",
]
