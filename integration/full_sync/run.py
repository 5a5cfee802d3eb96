"""The full synchronisation run (docs/features.md I6): start or restart it, advance it, run its lines, recover the lines
whose worker died. The review it follows (recommendations, lines, status) is `integration.full_sync.review`; the tasks
the run hands its lines to are enqueued by `integration.queue`. Everything here is idempotent (see
`integration.full_sync.review`).
"""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from p2c.outcomes import QUEUED, SKIPPED, OperationRefused, Outcome, Refusal
from p2c.said import Joined, counted, said, said_choice, said_columns, said_exception, said_from_data

from .. import queue
from ..coupling.couplings import coupling_direction, mapping_couple_by_match
from ..engine import sync as engine_sync
from ..engine.locks import MappingBusy, holding, stopped_said
from ..engine.request import RunRequest
from ..models import ConnectionSetup, Direction, FullSyncLine, FullSyncRun, SyncJob
from . import partitions
from .review import (
    RUNNABLE,
    Recommendation,
    State,
    _recommendations,
    _review_mappings,
    full_sync_current_run,
    full_sync_restart_refusal,
    line_claimer_gone,
)

logger = logging.getLogger("p2c.integration")

# How long a line waits for a mapping another run (a scheduled one, say) holds, before it fails (restartable).
LINE_LOCK_WAIT_SECONDS = 300


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
    if not ConnectionSetup.get_solo().is_enabled:
        raise OperationRefused(gettext("The connection is not enabled: run the assisted set-up first."),
                               code=Refusal.CONNECTION_DISABLED)
    current = full_sync_current_run()
    if restart:
        refusal = full_sync_restart_refusal(current)
        if refusal:
            raise OperationRefused(refusal, code=Refusal.NOTHING_TO_RESTART)
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
            queue.full_sync_advance_enqueue(run=run)
            lines = list(run.lines.order_by("position", "pk"))
    except IntegrityError:  # another start won the race: that run is the one
        return _start_outcome(FullSyncRun.objects.get(status=FullSyncRun.Status.RUNNING), already=True)
    return _start_outcome(run, lines=lines)


def _start_outcome(run, *, lines=(), restarted=False, already=False):
    """What a start told the user: the ``lines`` it queued (those not finished when it started), the lines that will
    not run and why; the run as its job."""
    outcome = Outcome(verb=gettext("Full synchronisation"), jobs=[run])
    if already:
        outcome.notes.append(
            gettext("Run #%(run_pk)s is already in process: nothing new was started.") % {"run_pk": run.pk}
        )
        return outcome
    for line in lines:
        if line.recommendation == Recommendation.DEPENDENCY:
            outcome.record(
                SKIPPED, line.mapping_name, gettext("a mapping it depends on will not run"), key=line.mapping_id
            )
        elif line.recommendation in RUNNABLE and line.state != State.FINISHED:
            outcome.add(QUEUED)
    outcome.notes.append(
        (gettext("Run #%(run)s restarted: it runs in the background.") if restarted
         else gettext("Run #%(run)s started: it runs in the background.")) % {"run": run.pk}
    )
    return outcome


def _restart(run):
    with transaction.atomic():
        run = FullSyncRun.objects.select_for_update().get(pk=run.pk)
        lines = list(run.lines.select_related("mapping").filter(state__in=[State.FAILED, State.RUNNING, State.WAITING]))
        requeue = []
        for line in lines:
            if line.state == State.RUNNING and not line_claimer_gone(line):
                continue  # a worker is on it
            if line.state == State.WAITING:
                requeue.append(line)  # its message may have been lost; a duplicate finds the line claimed
                continue
            _close_jobs(line, said(gettext_noop("Interrupted; the full synchronisation was restarted.")))
            FullSyncLine.objects.filter(pk=line.pk, state=line.state, claim=line.claim).update(
                state=State.NOT_STARTED, claim="", message="", message_data=None)
        run.status, run.finished_at, run.message, run.message_data = FullSyncRun.Status.RUNNING, None, "", None
        run.restarts, run.restarted_at = run.restarts + 1, timezone.now()
        try:
            with transaction.atomic():
                run.save(update_fields=["status", "finished_at", "message", "message_data", "restarts",
                                        "restarted_at"])
        except IntegrityError:  # a newer run is in process
            return FullSyncRun.objects.get(status=FullSyncRun.Status.RUNNING)
        for line in requeue:
            queue.full_sync_line_enqueue(line=line)
        queue.full_sync_advance_enqueue(run=run)
    return run


def full_sync_lines_recover():
    """Queue again the running lines whose worker is gone (the periodic check); return how many.

    Their jobs are closed as stopped (what they committed stays: the couplings make the rerun go on from there).
    A line queued again is run by the next free worker as a redelivered task would be.
    """
    lines = list(FullSyncLine.objects.filter(run__status=FullSyncRun.Status.RUNNING, state=State.RUNNING))
    recovered = 0
    for line in lines:
        if not line_claimer_gone(line):
            continue
        _close_jobs(line, stopped_said(None, line.started_at))
        with transaction.atomic():
            if FullSyncLine.objects.filter(pk=line.pk, state=State.RUNNING, claim=line.claim).update(
                    state=State.WAITING, claim="", message="", message_data=None):
                queue.full_sync_line_enqueue(line=line)
                recovered += 1
    return recovered


def _close_jobs(line, message):
    """Close the line's jobs still queued or running as failed, with ``message`` (a `Said`)."""
    ids = [pk for pk in (line.to_job_id, line.from_job_id, line.coupling_job_id) if pk]
    SyncJob.objects.filter(pk__in=ids, status__in=[SyncJob.Status.QUEUED, SyncJob.Status.RUNNING]).fail(message)


def full_sync_advance(*, run_id):
    """Start every line of the run that can start now; close the run when nothing is left to start or wait for.

    A line can start when it is not started, its recommendation is full synchronisation or couple records, and
    every line it depends on has finished or had no records. Safe to call any number of times, concurrently:
    each line is moved to *waiting* by one conditional UPDATE, and only the caller that moved it enqueues it.
    Returns the ids of the lines it started.
    """
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
                queue.full_sync_line_enqueue(line=line)
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
            # Translators: the names of the mappings whose lines failed.
            parts.append(said(gettext_noop("Failed: %(failed)s."), failed=", ".join(failed)))
        if blocked:
            parts.append(said(gettext_noop("Not run (a dependency did not finish): %(blocked)s."),
                              blocked=", ".join(blocked)))
        parts.append(said(gettext_noop("Fix the cause and restart: finished lines are not run again.")))
        run.message_set(Joined(tuple(parts), " "))
    else:
        run.status = FullSyncRun.Status.FINISHED
        run.message_set(_errors_summary(lines))
    run.save(update_fields=["status", "finished_at", "message", "message_data"])


def _errors_summary(lines):
    """"Finished with errors: …" naming the lines whose jobs failed records (BC's job status Error), as what it
    means (p2c.said); or ""."""
    job_ids = {pk: line.mapping_name for line in lines
               for pk in (line.coupling_job_id, line.to_job_id, line.from_job_id) if pk}
    failed = {}
    for pk, count in SyncJob.objects.filter(pk__in=job_ids, failed__gt=0).values_list("pk", "failed"):
        failed[job_ids[pk]] = failed.get(job_ids[pk], 0) + count
    if not failed:
        return ""
    names = [line.mapping_name for line in lines if line.mapping_name in failed]
    # Translators: the mappings whose jobs failed records, each with its count: "CUSTOMER (3 failed), ITEM (1 failed)".
    return said(gettext_noop("Finished with errors: %(lines)s. The other records were synchronised; see the jobs' "
                             "errors, fix them and synchronise again."),
                lines=Joined(tuple(counted("%(name)s (%(count)s failed)", "%(name)s (%(count)s failed)",
                                           name=name, count=failed[name]) for name in names)))


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
        state=State.RUNNING, claim=token, started_at=timezone.now(), finished_at=None, message="", message_data=None)
    if not claimed and line.state == State.RUNNING and line_claimer_gone(line):
        _close_jobs(line, stopped_said(None, line.started_at))
        claimed = FullSyncLine.objects.filter(pk=line.pk, state=State.RUNNING, claim=line.claim).update(
            claim=token, started_at=timezone.now(), message="", message_data=None)
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
        state, message = State.FAILED, exc.said
    except Exception as exc:
        logger.exception("Full synchronisation line %s failed", line.mapping_name)
        state, message = State.FAILED, said_exception(exc)
    FullSyncLine.objects.filter(pk=line.pk, claim=token).update(
        state=state, finished_at=timezone.now(), **said_columns(message, limit=2000))
    full_sync_advance(run_id=line.run_id)
    line.refresh_from_db()
    return line


def _line_execute(line):
    """Couple (for a couple records line) and fully synchronise the line's mapping.

    Returns ``(failed, message)``, the message a `Said` (or ""). As in BC, a mapping with no field marked for match-based coupling ends its
    coupling job with that error and the line *finishes* (its dependants may start) without synchronising: a
    synchronisation creating counterparts of records that exist on both sides would duplicate them.
    """
    mapping = line.mapping
    if mapping is None:
        return True, said(gettext_noop("The mapping was deleted."))
    if line.recommendation == Recommendation.COUPLE and not mapping.is_option_mapping:
        job = engine_sync.job_create(mapping=mapping, direction=coupling_direction(mapping), type=SyncJob.Type.COUPLING)
        FullSyncLine.objects.filter(pk=line.pk).update(coupling_job=job)
        job = mapping_couple_by_match(mapping=mapping, create_new=True, sync_after=False, job=job)
        if job.status == SyncJob.Status.FAILED:
            return False, said(gettext_noop(
                "Not synchronised: %(message)s Choose the match fields, then run match-based coupling on the mapping "
                "with synchronisation after coupling."
            ), message=job_said(job))
    jobs = {}
    for one_way in mapping.directions():
        jobs[one_way] = engine_sync.job_create(mapping=mapping, direction=one_way, full=True)
    FullSyncLine.objects.filter(pk=line.pk).update(
        to_job=jobs.get(Direction.TO_INTEGRATION), from_job=jobs.get(Direction.FROM_INTEGRATION))
    # Over the deployment's P2C_SYNC_WORKERS workers when large: the line finishes when every partition is done.
    results = partitions.mapping_synchronize_partitioned(RunRequest(
        mapping=mapping, full=True, create_new=True, jobs=jobs, wait_seconds=LINE_LOCK_WAIT_SECONDS))
    failed = [job for job in results if job.status == SyncJob.Status.FAILED]
    if failed:
        # Translators: a mapping's name, the direction of its job (e.g. "To Integration Table"), why the job failed.
        return True, Joined(tuple(said(gettext_noop("%(mapping)s %(direction)s: %(message)s"), mapping=job.mapping_name,
                                       direction=said_choice(job, "direction"), message=job_said(job))
                                  for job in failed), "; ")
    return False, ""


def job_said(job):
    """A job's message as what it means (its text, for a job written before messages were)."""
    return said_from_data(job.message_data) if job.message_data else job.message


__all__ = ["full_sync_advance", "full_sync_line_run", "full_sync_lines_recover", "full_sync_start"]
