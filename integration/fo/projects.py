"""Running data integration projects (docs/features.md P1, P6): prerequisites, tasks in order, execution history,
cleanup.

``project_run`` is the operation every door calls (admin "Run project" / "Re-run", the API, ``p2c_run``): it
starts a run and queues or executes it, returning an Outcome. ``project_run_start`` checks the prerequisites and
records a queued run (the doors then execute it in the
background through ``integration.tasks.run_project``, or in the foreground); ``project_run_execute`` runs the
tasks in order through the engine (``mapping_synchronize``) and records, per task, rows read, upserted, skipped
with their reasons and failed (the messages are the task's sync job errors). Executing a run twice is a no-op:
only a queued run is claimed, with one conditional UPDATE.
"""

import logging
import os
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, ngettext

from integration import queue
from integration.engine.filters import filter_validate
from integration.engine.job_log import job_count_said, skip_reason_from_key, skip_reason_key, skip_reason_said
from integration.engine.locks import STALE_AFTER, MappingBusy, holder_gone, holding, stopped_said
from integration.engine.request import RunRequest
from integration.engine.sync import WATERMARK_MARGIN, mapping_synchronize
from integration.engine.transfer import validation_said
from integration.mappings import rules_for
from integration.models import (
    IntegrationProjectRun,
    IntegrationProjectTaskRun,
    IntegrationTableMapping,
    IntegrationTemplateTask,
    SyncJob,
)
from p2c.outcomes import DONE, FAILED, QUEUED, SKIPPED, OperationRefused, Outcome, RecordResult, Refusal
from p2c.said import Joined, counted, said, said_columns, said_exception, said_from_data, said_name

logger = logging.getLogger("p2c.integration")

#: Execution history older than this is removed by ``project_runs_cleanup`` (Data Integrator keeps 45 days).
DEFAULT_HISTORY_DAYS = 45

DONE_STATUSES = (IntegrationProjectTaskRun.Status.SUCCESS, IntegrationProjectTaskRun.Status.WARNING)
ERRORS_NAMED = 50  # failed rows an outcome names with their message (the rest are counted)


class ProjectRefused(ValidationError):
    """The project cannot run now (a prerequisite task has not succeeded, or a run is already under way)."""


def history_days():
    """How many days of execution history to keep: the P2C_PROJECT_HISTORY_DAYS setting, else the environment
    variable of that name, else 45."""
    value = getattr(settings, "P2C_PROJECT_HISTORY_DAYS", None) or os.environ.get("P2C_PROJECT_HISTORY_DAYS")
    return int(value or DEFAULT_HISTORY_DAYS)


# -- selectors ------------------------------------------------------------------------------------------------------
def prerequisites_missing(*, project):
    """Names of prerequisite tasks of ``project`` that have never run successfully, in task order.

    A prerequisite is met by a completed run (with or without row errors) of a task of that name in any
    project, or by a task of this project that comes earlier in the same run order.
    """
    tasks = list(project.tasks.order_by("sequence", "pk"))
    missing = []
    earlier = set()
    for task in tasks:
        for name in task.prerequisites or []:
            if name in earlier or name in missing:
                continue
            if not IntegrationProjectTaskRun.objects.filter(task_name=name, status__in=DONE_STATUSES).exists():
                missing.append(name)
        earlier.add(task.name)
    return missing


def project_run_active(*, project):
    """The queued or running run of ``project``, or None.

    A run *in process* whose process is gone (its holder: engine/locks.py) is closed as Error, saying so, so the
    project can run again; what its tasks committed stays."""
    run = project.runs.filter(status__in=[IntegrationProjectRun.Status.QUEUED,
                                          IntegrationProjectRun.Status.RUNNING]).first()
    if run is None or run.status != IntegrationProjectRun.Status.RUNNING or not _run_stopped(run):
        return run
    message = said_columns(stopped_said(None, run.started_at))
    IntegrationProjectRun.objects.filter(pk=run.pk, status=IntegrationProjectRun.Status.RUNNING).update(
        status=IntegrationProjectRun.Status.ERROR, finished_at=timezone.now(), **message)
    run.task_runs.filter(status=IntegrationProjectTaskRun.Status.RUNNING).update(
        status=IntegrationProjectTaskRun.Status.ERROR, finished_at=timezone.now(), **message)
    return None


def _run_stopped(run):
    if not run.holder:  # started before runs had holders: judged by its age
        return bool(run.started_at and run.started_at < timezone.now() - STALE_AFTER)
    claimed = IntegrationTableMapping.objects.filter(fo_task__project=run.project_id).exclude(locked_by="")
    return holder_gone(run.holder, beats=[run.started_at, *claimed.values_list("locked_at", flat=True)])


def project_runs_close_stopped():
    """Close the runs in process whose process is gone (the periodic check); return how many."""
    running = IntegrationProjectRun.objects.filter(status=IntegrationProjectRun.Status.RUNNING).select_related(
        "project"
    )
    return sum(1 for run in running if project_run_active(project=run.project) is None)


# -- starting -------------------------------------------------------------------------------------------------------
def project_run_start(*, project, full=False, requested_by="", rerun_of=None):
    """Record a queued run of ``project``; raise ProjectRefused naming what is missing or what is running."""
    missing = prerequisites_missing(project=project)
    if missing:
        raise ProjectRefused(
            gettext(
                "Project %(project)s cannot run yet: the task %(names)s has not run successfully. Run the "
                "%(missing)s task first (template %(template_of_task)s)."
            )
            % {
                "project": project.name,
                "names": ", ".join(repr(n) for n in missing),
                "missing": " / ".join(missing),
                "template_of_task": repr(_template_of_task(missing[0])),
            }
        )
    active = project_run_active(project=project)
    if active is not None:
        raise ProjectRefused(
            gettext("Project %(project)s is already running (run #%(active_pk)s, %(get_status_display)s).")
            % {"project": project.name, "active_pk": active.pk, "get_status_display": active.get_status_display()}
        )
    run = IntegrationProjectRun.objects.create(project=project, full=full, requested_by=requested_by, rerun_of=rerun_of)
    IntegrationProjectTaskRun.objects.bulk_create([
        IntegrationProjectTaskRun(run=run, task=task, task_name=task.name, sequence=task.sequence)
        for task in project.tasks.order_by("sequence", "pk")
    ])
    return run


def project_run_rerun(*, run, requested_by=""):
    """Re-run a finished run: a full run of the same project (every row is read again; the unchanged ones are
    counted unchanged, the failed ones retried), linked to the run it repeats."""
    if run.status in (IntegrationProjectRun.Status.QUEUED, IntegrationProjectRun.Status.RUNNING):
        raise ProjectRefused(gettext("Run #%(run_pk)s has not finished yet.") % {"run_pk": run.pk})
    return project_run_start(project=run.project, full=True, requested_by=requested_by, rerun_of=run)


def project_run(*, project=None, full=False, requested_by="", rerun_of=None, background=True, progress=None):
    """The operation "Run project" (``rerun_of``: "Re-run" that run), behind the admin actions, ``POST
    projects/{id}/run/`` and ``project-runs/{id}/rerun/``, and ``p2c_run``. Returns an Outcome whose ``jobs`` is
    ``[run]``.

    Refused as a whole (OperationRefused, 409) when a prerequisite task has not run successfully, when the project
    is already running, or when the run to repeat has not finished. ``background``: queue the run for a worker
    (``integration.tasks.run_project``; the outcome counts it *queued*); otherwise run it here (``progress`` as for
    `project_run_execute`) and count its rows: done (upserted or unchanged), skipped with their reasons, failed with
    their messages (`project_run_outcome`).
    """
    try:
        with transaction.atomic():  # the run and its task lines, queued once they are committed
            if rerun_of is not None:
                run = project_run_rerun(run=rerun_of, requested_by=requested_by)
            else:
                run = project_run_start(project=project, full=full, requested_by=requested_by)
            if background:
                queue.project_run_enqueue(run=run)
    except ProjectRefused as exc:
        raise OperationRefused(" ".join(exc.messages), code=Refusal.PROJECT_REFUSED) from None
    if background:
        return project_run_outcome(run, queued=True)
    return project_run_outcome(project_run_execute(run_id=run.pk, progress=progress))


def project_run_outcome(run, *, queued=False, errors_named=ERRORS_NAMED):
    """What ``run`` did, as an Outcome: rows done (upserted or unchanged), skipped (per reason), failed (the first
    ``errors_named`` with their messages, the rest counted); a task that failed as a whole is one failed record, the
    tasks after it, not run, are skipped. A run just ``queued`` counts one queued."""
    outcome = Outcome(verb=gettext("Run project %(project)s") % {"project": run.project.name}, jobs=[run])
    if queued:
        outcome.add(QUEUED)
        outcome.notes.append(
            gettext("Run #%(run_pk)s runs in the background; its execution history tells the rows.")
            % {"run_pk": run.pk}
        )
        return outcome
    for task_run in run.task_runs.select_related("sync_job").order_by("sequence", "pk"):
        name = task_run.task_name
        if task_run.status == task_run.Status.ERROR:
            outcome.record(FAILED, name, task_run.message_text or gettext("the task failed"))
            continue
        if task_run.status not in DONE_STATUSES:
            outcome.record(SKIPPED, name, gettext("not run: an earlier task failed"))
            continue
        outcome.add(DONE, task_run.upserted + task_run.unchanged)
        for reason, n in task_run_skip_reasons(task_run).items():
            outcome.add(SKIPPED, n)
            # Translators: a project task's name, then how many of its rows were skipped (for one reason).
            rows = ngettext("%(task)s: %(count)s row", "%(task)s: %(count)s rows", n) % {"task": name, "count": n}
            outcome.results.append(RecordResult(SKIPPED, rows, reason))
        errors = task_run_errors(task_run=task_run, limit=errors_named)
        for error in errors:
            outcome.record(FAILED, name, error.message_text, key=error.source_id)  # the message names the row
        outcome.add(FAILED, max(0, task_run.failed - len(errors)))
    return outcome


def _template_of_task(name):
    task = IntegrationTemplateTask.objects.filter(name=name).select_related("template").first()
    return task.template.name if task else name


# -- executing ------------------------------------------------------------------------------------------------------
def project_run_execute(*, run_id, progress=None):
    with holding() as holder:  # alive while this process runs it: a run whose process died is closed
        return _run_execute(run_id, progress, holder.token)


def _run_execute(run_id, progress, token):
    """Run the tasks of queued run ``run_id`` in order. Idempotent: a run that is not queued is left alone.

    Returns the run. A task that fails as a whole (its job fails, its mapping is busy, a prerequisite went
    missing) ends the run with status Error; the tasks after it are not run.
    """
    claimed = IntegrationProjectRun.objects.filter(pk=run_id, status=IntegrationProjectRun.Status.QUEUED).update(
        status=IntegrationProjectRun.Status.RUNNING, started_at=timezone.now(), holder=token
    )
    run = IntegrationProjectRun.objects.select_related("project").get(pk=run_id)
    if not claimed:
        return run
    failed_as_a_whole = None
    missing = prerequisites_missing(project=run.project)
    task_runs = list(run.task_runs.select_related("task__table_mapping").order_by("sequence", "pk"))
    if missing:
        failed_as_a_whole = said(gettext_noop("The task %(missing)s has not run successfully; nothing was run."),
                                 missing=", ".join(missing))
    for task_run in task_runs:
        if failed_as_a_whole:
            break
        try:
            _task_run_execute(task_run, full=run.full, progress=progress)
        except Exception as exc:  # the run records it; nothing is left half-claimed
            logger.exception("Task %s of project run %s failed", task_run.task_name, run.pk)
            task_run.status = IntegrationProjectTaskRun.Status.ERROR
            if not task_run.message:
                task_run.message_set(said(gettext_noop("The task failed: %(exc)s"), exc=said_exception(exc)))
            task_run.finished_at = timezone.now()
            task_run.save()
        if task_run.status == IntegrationProjectTaskRun.Status.ERROR:
            # Translators: a project task that failed as a whole, then why.
            failed_as_a_whole = said(gettext_noop("Task %(task)s: %(message)s"), task=task_run.task_name,
                                     message=_message_said(task_run))
    statuses = {t.status for t in task_runs}
    if failed_as_a_whole:
        run.status = IntegrationProjectRun.Status.ERROR
        run.message_set(failed_as_a_whole)
    else:
        run.status = (IntegrationProjectRun.Status.WARNING if IntegrationProjectTaskRun.Status.WARNING in statuses
                      else IntegrationProjectRun.Status.SUCCESS)
        # Translators: a project task's name, then what it did (tasks separated by "; ").
        run.message_set(Joined(tuple(said(gettext_noop("%(task)s: %(message)s"), task=t.task_name,
                                          message=_message_said(t)) for t in task_runs), "; "))
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "message", "message_data", "finished_at"])
    return run


def _message_said(row):
    """A run's or task run's stored message as what it means, to tell inside another (its text for older rows)."""
    return said_from_data(row.message_data) if row.message_data else row.message


def _task_run_execute(task_run, *, full, progress):
    task = task_run.task
    if task is None:
        task_run.status = task_run.Status.ERROR
        task_run.message_set(said(gettext_noop("The task was deleted.")))
        task_run.save(update_fields=["status", "message", "message_data"])
        return
    mapping = task.table_mapping
    task_run.status, task_run.started_at = task_run.Status.RUNNING, timezone.now()
    task_run.save(update_fields=["status", "started_at"])
    plan_source = mapping.crm_model_class() if mapping.direction == "from_integration" else mapping.erp_model_class()
    watermark = mapping.crm_watermark if mapping.direction == "from_integration" else mapping.erp_watermark
    read = {"n": 0}

    def counting(*, job, done, total):
        read["n"] += done
        if progress:
            progress(task_run=task_run, job=job, done=done, total=total)

    try:
        jobs = mapping_synchronize(RunRequest(mapping=mapping, direction=mapping.direction, full=full,
                                              progress=counting))
    except (MappingBusy, ValidationError) as exc:
        task_run.status = task_run.Status.ERROR
        task_run.message_set(exc.said if isinstance(exc, MappingBusy) else Joined(
            tuple(validation_said(error) for error in _refusals(exc)), " "))
        task_run.finished_at = timezone.now()
        task_run.save()
        return
    job = jobs[0] if jobs else None
    task_run.sync_job = job
    task_run.read = read["n"]
    if job is not None:
        task_run.inserted, task_run.modified = job.inserted, job.modified
        task_run.upserted = job.inserted + job.modified
        task_run.coupled, task_run.unchanged = job.coupled, job.unchanged
        task_run.failed = job.failed
    reasons = left_out_reasons(mapping=mapping, model=plan_source, watermark=None if full else watermark)
    if job is not None and job.skipped:
        reasons.update(getattr(job, "skip_reasons_data", None) or {skip_reason_key(said(gettext_noop(
            "coupling marked skipped, or an update conflict (see the couplings)"))): job.skipped})
    task_run.skip_reasons = reasons  # keyed by what each reason means (job_log.skip_reason_key)
    task_run.skipped = sum(reasons.values())
    if job is None or job.status == SyncJob.Status.FAILED:
        task_run.status = task_run.Status.ERROR
        if job is not None:
            task_run.message, task_run.message_data = job.message, job.message_data
        else:
            task_run.message_set(said(gettext_noop("No job ran.")))
    else:
        task_run.status = task_run.Status.WARNING if job.failed else task_run.Status.SUCCESS
        task_run.message_set(_summary(task_run))
    task_run.finished_at = timezone.now()
    task_run.save()


def left_out_reasons(*, mapping, model, watermark):
    """{reason: count} of source rows the task's filter leaves out, among the rows a run reads (changed since
    ``watermark``, or all), each reason keyed by what it means (job_log.skip_reason_key). One or two aggregate
    queries."""
    spec = mapping.crm_filter if mapping.direction == "from_integration" else mapping.erp_filter
    condition = filter_validate(model, spec or {})
    if not condition:
        return {}
    queryset = model.objects.exclude(condition)
    if watermark is not None:
        queryset = queryset.filter(**{f"{model.MODIFIED_FIELD}__gt": watermark - WATERMARK_MARGIN})
    rules = rules_for(mapping)
    if hasattr(rules, "left_out_reasons"):
        # The rules' reasons are lazy translations: stored as their msgid, told in the reader's language.
        return {skip_reason_key(said_name(reason)): n for reason, n in dict(rules.left_out_reasons(queryset)).items()}
    count = queryset.count()
    return {skip_reason_key(said(gettext_noop("does not match the task filter"))): count} if count else {}


def task_run_skip_reasons(task_run):
    """{reason in the active language: count} of a task run's skipped rows (an older row's reasons as stored)."""
    return {str(skip_reason_from_key(key)): n for key, n in (task_run.skip_reasons or {}).items()}


def _refusals(exc):
    """A ValidationError's errors, one by one."""
    if hasattr(exc, "error_list"):
        return exc.error_list
    return [error for errors in exc.error_dict.values() for error in errors]


def _summary(task_run):
    """A task run's message, as what it means (p2c.said): rows read and upserted, then coupled, skipped (with their
    reasons) and failed ones."""
    # Translators: an F&O project task's result: rows read, rows written (upserted), of which new and changed.
    parts = [said(gettext_noop("%(read)s read, %(upserted)s upserted (%(inserted)s new, %(modified)s changed), "
                               "%(unchanged)s unchanged"),
                  read=task_run.read, upserted=task_run.upserted, inserted=task_run.inserted,
                  modified=task_run.modified, unchanged=task_run.unchanged)]
    if task_run.coupled:
        parts.append(said(gettext_noop("%(coupled)s coupled to existing records"), coupled=task_run.coupled))
    if task_run.skipped:
        reasons = Joined(tuple(skip_reason_said(skip_reason_from_key(key), n, [])
                               for key, n in task_run.skip_reasons.items()), "; ")
        # Translators: how many rows an F&O project task skipped, then why (reasons separated by "; ").
        parts.append(counted("%(count)s skipped (%(reasons)s)", "%(count)s skipped (%(reasons)s)",
                             count=task_run.skipped, reasons=reasons))
    if task_run.failed:
        parts.append(job_count_said("failed", task_run.failed))
    return Joined(tuple(parts))


def task_run_errors(*, task_run, limit=None):
    """The failed rows of a task run: the error messages of its sync job."""
    if task_run.sync_job_id is None:
        return []
    errors = task_run.sync_job.errors.order_by("id")
    return list(errors[:limit] if limit else errors)


# -- history --------------------------------------------------------------------------------------------------------
def project_runs_cleanup(*, older_than=None, now=None):
    """Delete finished project runs (and their task runs) created before ``older_than`` ago (default: the
    P2C_PROJECT_HISTORY_DAYS setting, 45 days). Returns how many runs were deleted. The engine's sync jobs are
    not touched. A prerequisite, once met, stays met: the latest completed run of each task is kept."""
    older_than = older_than if older_than is not None else timedelta(days=history_days())
    cutoff = (now or timezone.now()) - older_than
    keep = set()
    for name in IntegrationProjectTaskRun.objects.filter(status__in=DONE_STATUSES).values_list(
        "task_name", flat=True
    ).distinct():
        latest = (IntegrationProjectTaskRun.objects.filter(task_name=name, status__in=DONE_STATUSES)
                  .order_by("-run__created_at", "-pk").values_list("run_id", flat=True).first())
        keep.add(latest)
    old = IntegrationProjectRun.objects.filter(created_at__lt=cutoff).filter(
        ~Q(status__in=[IntegrationProjectRun.Status.QUEUED, IntegrationProjectRun.Status.RUNNING])
    ).exclude(pk__in=keep)
    count = old.count()
    old.delete()
    return count
