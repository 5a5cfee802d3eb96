"""Full synchronisation review and its run (SPEC I6; BC table/page 5373 "CRM Full Synch. Review").

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

Nothing here imports Celery: the work is handed to `integration.background`, which enqueues the tasks.
"""

import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from p2c.outcomes import QUEUED, SKIPPED, OperationRefused, Outcome

from .engine.filters import filter_validate
from .engine.locks import STALE_AFTER, MappingBusy, holder_alive, holding, stopped_message
from .models import ConnectionSetup, Direction, FullSyncLine, FullSyncRun, IntegrationTableMapping, SyncJob
from .ordering import mappings_in_dependency_order

logger = logging.getLogger("p2c.integration")

Recommendation = FullSyncLine.Recommendation
State = FullSyncLine.State

# BC's GetSynchJobStatus: ' ', In Process, Error, Success.
JOB_STATUS_NONE, JOB_STATUS_IN_PROCESS, JOB_STATUS_ERROR, JOB_STATUS_SUCCESS = " ", "in_process", "error", "success"
JOB_STATUS_LABELS = {
    JOB_STATUS_NONE: " ", JOB_STATUS_IN_PROCESS: "In Process", JOB_STATUS_ERROR: "Error", JOB_STATUS_SUCCESS: "Success",
}
RUNNABLE = (Recommendation.FULL, Recommendation.COUPLE)
# How long a line waits for a mapping another run (a scheduled one, say) holds, before it fails (restartable).
LINE_LOCK_WAIT_SECONDS = 300

UNIT_MAPPINGS = {"UNIT OF MEASURE", "UNIT GROUP", "ITEM UOM", "RESOURCE UOM"}


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


def mapping_recommendation(mapping):
    """BC's initial synchronisation recommendation for ``mapping`` (reference §5), dependencies left aside."""
    erp_model, crm_model = mapping.erp_model_class(), mapping.crm_model_class()
    erp_count = _count(erp_model, mapping.erp_filter)
    if mapping.name == "SALESPEOPLE":
        return Recommendation.FULL
    if mapping.is_option_mapping:
        return Recommendation.NO_RECORDS if erp_count == 0 else Recommendation.COUPLE
    crm_rows = crm_model.objects.filter(filter_validate(crm_model, mapping.crm_filter or {}))
    if mapping.name == "CURRENCY":
        currencies = list(crm_rows.values_list("exchange_rate", flat=True)[:2])
        only_base = len(currencies) == 1 and currencies[0] == 1
        return Recommendation.FULL if only_base else Recommendation.COUPLE
    crm_count = len(crm_rows.values_list("pk", flat=True)[:2])
    if mapping.name in UNIT_MAPPINGS:
        if erp_count == 0 and crm_count <= 1:
            return Recommendation.NO_RECORDS
        if erp_count and crm_count > 1:
            return Recommendation.COUPLE
        return Recommendation.FULL
    if erp_count == 0 and crm_count == 0:
        return Recommendation.NO_RECORDS
    if erp_count and crm_count:
        return Recommendation.COUPLE
    return Recommendation.FULL


def _review_mappings():
    """Enabled top-level mappings in dependency order, with every mapping by pk (for disabled dependencies)."""
    everything = list(IntegrationTableMapping.objects.prefetch_related("dependencies"))
    lines = [m for m in everything if m.is_enabled and m.parent_id is None]
    return mappings_in_dependency_order(lines), {m.pk: m for m in everything}


def _recommendations(mappings, by_pk):
    """Recommendation per mapping name; a line whose dependency will not run (disabled, or itself not satisfied)
    while it has records is *dependency not satisfied* and never starts."""
    names = {m.name for m in mappings}
    result = {}
    for mapping in mappings:  # dependency order: a dependency's verdict is known before its dependants'
        recommendation = mapping_recommendation(mapping)
        for dep in mapping.dependencies.all():
            if dep.name in names:
                blocked = result[dep.name] == Recommendation.DEPENDENCY if dep.name in result else False
            else:
                blocked = mapping_recommendation(by_pk[dep.pk]) != Recommendation.NO_RECORDS
            if blocked:
                recommendation = Recommendation.DEPENDENCY
                break
        result[mapping.name] = recommendation
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
                   message=line.message, line=line)
        for line in lines
    ]


def _job_dict(job):
    if job is None:
        return None
    return {
        "id": job.pk, "status": job_status(job), "status_label": JOB_STATUS_LABELS[job_status(job)],
        "job_status": job.status, "message": job.message, "counts": job.counts(),
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
    stopped = [line for line in running if _claimer_gone(line.line)]
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
    restart = "Restart continues where the run stopped: finished lines are not run again."
    if stopped:
        names = ", ".join(line.name for line in stopped)
        return (f"The worker running {names} stopped (killed or crashed); the last progress was at "
                f"{timezone.localtime(since):%Y-%m-%d %H:%M:%S}. It is queued again within a minute when the "
                f"periodic check runs; otherwise: {restart}")
    return (f"No line has made progress since {timezone.localtime(since):%Y-%m-%d %H:%M:%S}: the worker may have "
            f"stopped. {restart}")


def full_sync_status(*, run=None):
    """What a polling review page shows, as a JSON-able dict.

    ``run``: id, status, started/finished, who, restarts (None when no run yet); ``lines``: per mapping its state,
    recommendation and the status and counts of its jobs; ``progress``: lines done out of lines to do, percent;
    ``finished``: true when nothing is left to wait for (the page stops polling); ``stalled``: for a run in process
    that nothing moves (`full_sync_stalled_since`), ``{"since", "message"}``, else None; ``can_restart``: a failed
    run, or a stalled one (`full_sync_restart_refusal`).
    """
    run = run or full_sync_current_run()
    lines = full_sync_review_lines(run=run)
    todo = [line for line in lines if line.recommendation in RUNNABLE]
    done = [line for line in todo if line.state == State.FINISHED]
    stalled, stopped = _stalled(run, lines)
    return {
        "run": None if run is None else {
            "id": run.pk, "status": run.status, "status_label": run.get_status_display(),
            "started_at": _iso(run.started_at), "finished_at": _iso(run.finished_at),
            "started_by": run.started_by.get_username() if run.started_by_id else "",
            "restarts": run.restarts, "message": run.message,
        },
        "lines": [
            {
                "name": line.name, "mapping_id": line.mapping.pk if line.mapping else None,
                "direction": line.direction, "dependencies": line.dependencies,
                "recommendation": line.recommendation, "recommendation_label": line.recommendation_label,
                "state": line.state, "state_label": line.state_label, "message": line.message,
                "to_job": _job_dict(line.to_job), "from_job": _job_dict(line.from_job),
                "coupling_job": _job_dict(line.coupling_job),
                "to_job_status": line.to_job_status, "from_job_status": line.from_job_status,
            }
            for line in lines
        ],
        "progress": {
            "total": len(todo), "done": len(done),
            "failed": len([line for line in todo if line.state == State.FAILED]),
            "running": len([line for line in todo if line.state in (State.WAITING, State.RUNNING)]),
            "percent": round(100 * len(done) / len(todo)) if todo else 100,
            # records the run's jobs failed (a line can finish with some): the command exits non-zero on them
            "failed_records": sum(job.failed for line in lines for job in (line.coupling_job, line.to_job, line.from_job)
                                  if job is not None),
        },
        "finished": run is None or run.status != FullSyncRun.Status.RUNNING,
        "stalled": None if stalled is None else {"since": _iso(stalled),
                                                 "message": full_sync_stalled_message(stalled, stopped)},
        "can_restart": not full_sync_restart_refusal(run, stalled=stalled),
    }


# -- start, advance, run a line --------------------------------------------------------------------------------------
_UNKNOWN = object()


def full_sync_restart_refusal(run, *, stalled=_UNKNOWN):
    """Why ``run`` may not be restarted, or "" when it may: only a failed run, or one in process that nothing moves
    (its worker died: `full_sync_stalled_since`), continues where it stopped. ``stalled``: that time when the caller
    has it."""
    if run is None:
        return "There is no full synchronisation to restart: start one."
    if run.status == FullSyncRun.Status.FINISHED:
        return (f"Full synchronisation #{run.pk} finished: there is nothing to restart. Start a new run to "
                "synchronise everything again.")
    if run.status == FullSyncRun.Status.RUNNING:
        if stalled is _UNKNOWN:
            stalled = full_sync_stalled_since(run=run)
        if stalled is None:
            return (f"Full synchronisation #{run.pk} is in process and its lines are moving: there is nothing to "
                    "restart. Wait for it to finish.")
    return ""


def full_sync_start(*, restart=False, user=None):
    """Start (or, with ``restart``, continue) the full synchronisation; its work goes to the background.

    The one operation behind the review page's Start and Restart, ``POST /api/integration/full-sync/`` and
    ``manage.py full_sync --start|--restart``. Raises OperationRefused when the connection is not enabled, or when
    ``restart`` finds nothing that may be restarted (`full_sync_restart_refusal`). Returns an Outcome whose
    ``jobs`` is ``[run]``: the lines queued (*queued*) and the lines that will not run because a dependency will not
    (*skipped*, with that reason). A run already in process is returned as it is, with nothing queued (a second
    click starts nothing). With ``restart`` the latest run continues where it stopped: failed lines and lines whose
    worker died go back to the queue, finished lines stay finished.
    """
    from .background import full_sync_advance_later

    if not ConnectionSetup.get_solo().is_enabled:
        raise OperationRefused("The connection is not enabled: run the assisted set-up first.",
                               code="connection_disabled")
    current = full_sync_current_run()
    if restart:
        refusal = full_sync_restart_refusal(current)
        if refusal:
            raise OperationRefused(refusal, code="nothing_to_restart")
        lines = list(current.lines.order_by("position", "pk"))  # what is left to run, before the restart moves it
        return _start_outcome(_restart(current), lines=lines, restarted=True)
    if current is not None and current.status == FullSyncRun.Status.RUNNING:
        return _start_outcome(current, already=True)
    mappings, by_pk = _review_mappings()
    recommendations = _recommendations(mappings, by_pk)
    try:
        with transaction.atomic():
            run = FullSyncRun.objects.create(started_by=user if getattr(user, "pk", None) else None)
            FullSyncLine.objects.bulk_create([
                FullSyncLine(run=run, mapping=m, mapping_name=m.name, position=i,
                             dependencies=[d.name for d in m.dependencies.all()],
                             recommendation=recommendations[m.name])
                for i, m in enumerate(mappings)
            ])
            full_sync_advance_later(run=run)
            lines = list(run.lines.order_by("position", "pk"))
    except IntegrityError:  # another start won the race: that run is the one
        return _start_outcome(FullSyncRun.objects.get(status=FullSyncRun.Status.RUNNING), already=True)
    return _start_outcome(run, lines=lines)


def _start_outcome(run, *, lines=(), restarted=False, already=False):
    """What a start told the user: the ``lines`` it queued (those not finished when it started), the lines that will
    not run and why; the run as its job."""
    outcome = Outcome(verb="Full synchronisation", jobs=[run])
    if already:
        outcome.notes.append(f"Run #{run.pk} is already in process: nothing new was started.")
        return outcome
    for line in lines:
        if line.recommendation == Recommendation.DEPENDENCY:
            outcome.record(SKIPPED, line.mapping_name, "a mapping it depends on will not run", key=line.mapping_id)
        elif line.recommendation in RUNNABLE and line.state != State.FINISHED:
            outcome.add(QUEUED)
    outcome.notes.append(f"Run #{run.pk} {'restarted' if restarted else 'started'}: it runs in the background.")
    return outcome


def _restart(run):
    from .background import full_sync_advance_later, full_sync_line_later

    with transaction.atomic():
        run = FullSyncRun.objects.select_for_update().get(pk=run.pk)
        lines = list(run.lines.select_related("mapping").filter(state__in=[State.FAILED, State.RUNNING, State.WAITING]))
        requeue = []
        for line in lines:
            if line.state == State.RUNNING and not _claimer_gone(line):
                continue  # a worker is on it
            if line.state == State.WAITING:
                requeue.append(line)  # its message may have been lost; a duplicate finds the line claimed
                continue
            _close_jobs(line, "Interrupted; the full synchronisation was restarted.")
            FullSyncLine.objects.filter(pk=line.pk, state=line.state, claim=line.claim).update(
                state=State.NOT_STARTED, claim="", message="")
        run.status, run.finished_at, run.message = FullSyncRun.Status.RUNNING, None, ""
        run.restarts, run.restarted_at = run.restarts + 1, timezone.now()
        try:
            with transaction.atomic():
                run.save(update_fields=["status", "finished_at", "message", "restarts", "restarted_at"])
        except IntegrityError:  # a newer run is in process
            return FullSyncRun.objects.get(status=FullSyncRun.Status.RUNNING)
        for line in requeue:
            full_sync_line_later(line=line)
        full_sync_advance_later(run=run)
    return run


def _claimer_gone(line):
    """True when the worker that claimed ``line`` is gone (its holder: engine/locks.py)."""
    if not line.claim:
        return True
    mapping = IntegrationTableMapping.objects.filter(pk=line.mapping_id).only("locked_by", "locked_at").first()
    # Its heartbeat where only a heartbeat tells (another machine, not PostgreSQL): the mapping's, while it runs.
    beat = max([t for t in (line.started_at, mapping and mapping.locked_by and mapping.locked_at) if t], default=None)
    return not holder_alive(line.claim, beat)


def full_sync_lines_recover():
    """Queue again the running lines whose worker is gone (the periodic check); return how many.

    Their jobs are closed as stopped (what they committed stays: the couplings make the rerun go on from there).
    A line queued again is run by the next free worker as a redelivered task would be.
    """
    from .background import full_sync_line_later

    lines = list(FullSyncLine.objects.filter(run__status=FullSyncRun.Status.RUNNING, state=State.RUNNING))
    recovered = 0
    for line in lines:
        if not _claimer_gone(line):
            continue
        _close_jobs(line, stopped_message(None, line.started_at))
        with transaction.atomic():
            if FullSyncLine.objects.filter(pk=line.pk, state=State.RUNNING, claim=line.claim).update(
                    state=State.WAITING, claim="", message=""):
                full_sync_line_later(line=line)
                recovered += 1
    return recovered


def _close_jobs(line, message):
    ids = [pk for pk in (line.to_job_id, line.from_job_id, line.coupling_job_id) if pk]
    SyncJob.objects.filter(pk__in=ids, status__in=[SyncJob.Status.QUEUED, SyncJob.Status.RUNNING]).update(
        status=SyncJob.Status.FAILED, finished_at=timezone.now(), message=message)


def full_sync_advance(*, run_id):
    """Start every line of the run that can start now; close the run when nothing is left to start or wait for.

    A line can start when it is not started, its recommendation is full synchronisation or couple records, and
    every line it depends on has finished or had no records. Safe to call any number of times, concurrently:
    each line is moved to *waiting* by one conditional UPDATE, and only the caller that moved it enqueues it.
    Returns the ids of the lines it started.
    """
    from .background import full_sync_line_later

    started = []
    with transaction.atomic():
        run = FullSyncRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != FullSyncRun.Status.RUNNING:
            return started
        lines = list(run.lines.all())
        by_name = {line.mapping_name: line for line in lines}
        done = {line.mapping_name for line in lines
                if line.state == State.FINISHED or line.recommendation == Recommendation.NO_RECORDS}
        for line in lines:
            if line.state != State.NOT_STARTED or line.recommendation not in RUNNABLE:
                continue
            if not all(dep in done or dep not in by_name for dep in line.dependencies):
                continue
            if FullSyncLine.objects.filter(pk=line.pk, state=State.NOT_STARTED).update(state=State.WAITING):
                line.state = State.WAITING
                started.append(line.pk)
                full_sync_line_later(line=line)
        busy = [line for line in lines if line.state in (State.WAITING, State.RUNNING)]
        if not busy:
            _close_run(run, lines)
    return started


def _close_run(run, lines):
    failed = [line.mapping_name for line in lines if line.state == State.FAILED]
    blocked = [line.mapping_name for line in lines if line.state == State.NOT_STARTED and (
        line.recommendation in RUNNABLE or line.recommendation == Recommendation.DEPENDENCY)]
    run.finished_at = timezone.now()
    if failed or blocked:
        run.status = FullSyncRun.Status.FAILED
        parts = []
        if failed:
            parts.append(f"Failed: {', '.join(failed)}.")
        if blocked:
            parts.append(f"Not run (a dependency did not finish): {', '.join(blocked)}.")
        run.message = " ".join(parts) + " Fix the cause and restart: finished lines are not run again."
    else:
        run.status = FullSyncRun.Status.FINISHED
        run.message = _errors_summary(lines)
    run.save(update_fields=["status", "finished_at", "message"])


def _errors_summary(lines):
    """"Finished with errors: …" naming the lines whose jobs failed records (BC's job status Error), or ""."""
    job_ids = {pk: line.mapping_name for line in lines
               for pk in (line.coupling_job_id, line.to_job_id, line.from_job_id) if pk}
    failed = {}
    for pk, count in SyncJob.objects.filter(pk__in=job_ids, failed__gt=0).values_list("pk", "failed"):
        failed[job_ids[pk]] = failed.get(job_ids[pk], 0) + count
    if not failed:
        return ""
    names = [line.mapping_name for line in lines if line.mapping_name in failed]
    return ("Finished with errors: " + ", ".join(f"{name} ({failed[name]} failed)" for name in names)
            + ". The other records were synchronised; see the jobs' errors, fix them and synchronise again.")


def full_sync_line_run(*, line_id):
    """Run one line of a run, if this call can claim it, then advance the run. Returns the line.

    The claim is a conditional UPDATE from *waiting* to *running* (or, when the worker that claimed a running line
    is gone, a takeover of that claim), so a duplicate or redelivered task does nothing while another worker runs
    the line; it then returns the line with ``claimed_elsewhere`` set, so the task can look again later (and take
    the line over if that worker has died meanwhile).
    """
    line = FullSyncLine.objects.select_related("mapping", "run").filter(pk=line_id).first()
    if line is None or line.run.status != FullSyncRun.Status.RUNNING:
        return line
    with holding() as holder:  # alive while this worker runs the line (its claim names it)
        return _line_run(line, holder.token)


def _line_run(line, token):
    claimed = FullSyncLine.objects.filter(pk=line.pk, state=State.WAITING).update(
        state=State.RUNNING, claim=token, started_at=timezone.now(), finished_at=None, message="")
    if not claimed and line.state == State.RUNNING and _claimer_gone(line):
        _close_jobs(line, stopped_message(None, line.started_at))
        claimed = FullSyncLine.objects.filter(pk=line.pk, state=State.RUNNING, claim=line.claim).update(
            claim=token, started_at=timezone.now(), message="")
    if not claimed:
        line.claimed_elsewhere = line.state == State.RUNNING  # its worker may still die: the caller may look again
        return line
    line.refresh_from_db()
    state, message = State.FINISHED, ""
    try:
        failed, message = _line_execute(line)
        if failed:
            state = State.FAILED
    except MappingBusy as exc:
        state, message = State.FAILED, str(exc)
    except Exception as exc:
        logger.exception("Full synchronisation line %s failed", line.mapping_name)
        state, message = State.FAILED, f"{type(exc).__name__}: {exc}"
    FullSyncLine.objects.filter(pk=line.pk, claim=token).update(
        state=state, message=message[:2000], finished_at=timezone.now())
    full_sync_advance(run_id=line.run_id)
    line.refresh_from_db()
    return line


def _line_execute(line):
    """Couple (for a couple records line) and fully synchronise the line's mapping.

    Returns ``(failed, message)``. As in BC, a mapping with no field marked for match-based coupling ends its
    coupling job with that error and the line *finishes* (its dependants may start) without synchronising: a
    synchronisation creating counterparts of records that exist on both sides would duplicate them.
    """
    from .coupling import _coupling_direction, mapping_couple_by_match
    from .engine.sync import job_create, mapping_synchronize

    mapping = line.mapping
    if mapping is None:
        return True, "The mapping was deleted."
    if line.recommendation == Recommendation.COUPLE and not mapping.is_option_mapping:
        job = job_create(mapping=mapping, direction=_coupling_direction(mapping), type=SyncJob.Type.COUPLING)
        FullSyncLine.objects.filter(pk=line.pk).update(coupling_job=job)
        job = mapping_couple_by_match(mapping=mapping, create_new=True, sync_after=False, job=job)
        if job.status == SyncJob.Status.FAILED:
            return False, (f"Not synchronised: {job.message} Choose the match fields, then run match-based coupling "
                           "on the mapping with synchronisation after coupling.")
    jobs = {}
    for one_way in mapping.directions():
        jobs[one_way] = job_create(mapping=mapping, direction=one_way, full=True)
    FullSyncLine.objects.filter(pk=line.pk).update(
        to_job=jobs.get(Direction.TO_INTEGRATION), from_job=jobs.get(Direction.FROM_INTEGRATION))
    results = mapping_synchronize(mapping=mapping, full=True, create_new=True, jobs=jobs,
                                  wait_seconds=LINE_LOCK_WAIT_SECONDS)
    failed = [job for job in results if job.status == SyncJob.Status.FAILED]
    if failed:
        return True, "; ".join(f"{job.mapping_name} {job.get_direction_display()}: {job.message}" for job in failed)
    return False, ""


__all__ = [
    "ReviewLine", "full_sync_advance", "full_sync_current_run", "full_sync_line_run", "full_sync_lines_recover",
    "full_sync_restart_refusal",
    "full_sync_review_lines",
    "full_sync_stalled_message", "full_sync_stalled_since", "full_sync_start", "full_sync_status", "job_status",
    "mapping_recommendation",
]
