"""Celery tasks: thin doors onto the integration's operations. Tasks take ids, are acknowledged late and are
idempotent (a redelivered task finds its work done or claimed and does nothing). Nothing else imports Celery, and
only `integration.queue` imports this module (and enqueues these tasks).

The operations are imported as modules (``queued_runs.synchronize_queued``): they ask `integration.queue` to
enqueue follow-up work, and the queue imports this module, so names are looked up when a task runs."""

import logging
from datetime import timedelta

from celery import shared_task
from celery.signals import worker_ready, worker_shutdown
from django.utils.translation import gettext, gettext_lazy

from p2c.outcomes import OperationRefused

from . import sales_orders, task_names
from .background import realtime, sync_log
from .engine.locks import MappingBusy
from .fo import projects
from .full_sync import partitions
from .full_sync import run as full_sync_run
from .health import heartbeats
from .models import IntegrationTableMapping
from .operations import queued_runs, stopped_runs, synchronising

logger = logging.getLogger("p2c.integration")


@worker_ready.connect
def _worker_heartbeats_start(sender, **kwargs):
    """Each worker says it is alive every 10 seconds (integration/health/heartbeats.py), busy or idle."""
    heartbeats.worker_heartbeats_start(sender)


@worker_shutdown.connect
def _worker_stopped(sender, **kwargs):
    """A worker shutting down says so: /health/ names it gone at once."""
    heartbeats.worker_stopped(sender)


# -- Finance and Operations data integration projects (docs/features.md P1, P6) ----------------------------------------
@shared_task(acks_late=True, name=task_names.RUN_PROJECT)
def run_project(run_id):
    """Execute the queued project run ``run_id`` (see integration.fo.projects.project_run_execute)."""
    run = projects.project_run_execute(run_id=run_id)
    return {"run": run.pk, "status": run.status}


@shared_task(acks_late=True, name=task_names.CLEANUP_PROJECT_RUNS)
def cleanup_project_runs(days=None):
    """Delete project execution history older than ``days`` (default: the P2C_PROJECT_HISTORY_DAYS setting)."""
    return projects.project_runs_cleanup(older_than=None if days is None else timedelta(days=days))


@shared_task(acks_late=True, name=task_names.SYNC_LOG_CLEANUP)
def sync_log_cleanup_task(older_than_days=None):
    """Delete synchronisation log entries older than ``older_than_days`` (default: the connection setup's
    retention; see integration.background.sync_log). Scheduled daily by
    integration.background.schedules.log_cleanup_schedule_create."""
    outcome = sync_log.sync_log_cleanup(older_than_days=older_than_days)
    logger.info("%s", outcome.summary())
    return outcome.as_data()


# -- Synchronisation, coupling and full synchronisation (docs/features.md I4, I6, I8, X4) ------------------------------
# Every task below is a thin door onto integration.operations / full_sync_run. Jobs handed in by
# id were created "queued" by integration.queue; a task runs only the jobs still queued, so a redelivered
# message finds them done (or running under the mapping's lock) and does nothing twice. That is what makes
# reject_on_worker_lost safe: a message whose worker process died is delivered again instead of being lost.
MAPPING_BUSY_RETRY_SECONDS = 30
MAPPING_BUSY_MAX_RETRIES = 20
# A task with records of its own (a chunk of a selection) first waits this long for the mapping's lock: chunks queued
# together then run one after the other as soon as the previous one is done, not 30 s apart. Coupling waits 30 s for
# its lock in integration.coupling.couplings already.
MAPPING_BUSY_WAIT_SECONDS = 15
FULL_SYNC_LINE_LOOK_AGAIN_SECONDS = 60  # a worker that died is known at once (engine/locks.py): look every minute
FULL_SYNC_LINE_MAX_LOOKS = 120  # two hours; after that a restart from the review page takes the line over


SYNCHRONISE_AGAIN = gettext_lazy("synchronise again")  # a default argument: translated when read

def _retry_or_give_up(task, exc, *, mapping_id, job_ids, again=SYNCHRONISE_AGAIN):
    """Retry ``task`` later while its mapping is busy; after its last try, fail its still-queued jobs saying so."""
    if task.request.retries < task.max_retries:
        raise task.retry(exc=exc, countdown=MAPPING_BUSY_RETRY_SECONDS) from exc
    message = queued_runs.queued_jobs_give_up(
        mapping_id=mapping_id, job_ids=job_ids, tries=task.request.retries + 1, again=again
    )
    logger.warning("%s (%s)", message, exc)
    return {"mapping": mapping_id, "gave_up": message}


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, name=task_names.SYNCHRONIZE_MAPPING,
             max_retries=MAPPING_BUSY_MAX_RETRIES)
def synchronize_mapping_task(self, mapping_id, direction=None, full=False, only_ids=None, job_ids=None,
                             create_new=None, skip_coupled=False):
    """Synchronise one mapping (the scheduled run of modified records when called with the mapping id only).

    ``job_ids``: queued SyncJob rows to fill (see integration.queue.mapping_synchronize_enqueue); ``create_new``:
    create (and couple) counterparts of uncoupled records (default: the mapping's setting); ``skip_coupled``: leave
    out, as skipped, the ``only_ids`` that are coupled by now ("Create in Sales/ERP"). When another
    run holds the mapping, a run with work of its own (jobs or ids) waits for it (``only_ids``: up to
    MAPPING_BUSY_WAIT_SECONDS), then is retried later, and after its last try fails its still-queued jobs saying so;
    a scheduled run is simply skipped (the next one picks the changes up).
    """
    if job_ids is None and only_ids is None:  # the scheduled run: the operation, with all its rules
        return _synchronize_scheduled(mapping_id, direction=direction, full=full)
    if job_ids is None:  # near-real-time: every record noted by then (its own ``only_ids`` among them, unless taken)
        try:
            return queued_runs.realtime_changes_synchronize(mapping_id=mapping_id, direction=direction,
                                                            wait_seconds=MAPPING_BUSY_WAIT_SECONDS)
        except MappingBusy as exc:
            return _retry_or_give_up(self, exc, mapping_id=mapping_id, job_ids=[])
    try:
        return queued_runs.synchronize_queued(mapping_id=mapping_id, direction=direction, full=full, only_ids=only_ids,
                                  job_ids=job_ids, create_new=create_new, skip_coupled=skip_coupled,
                                  wait_seconds=MAPPING_BUSY_WAIT_SECONDS if only_ids is not None else 0)
    except MappingBusy as exc:
        if job_ids is None and only_ids is None:
            return {"skipped": str(exc)}
        return _retry_or_give_up(self, exc, mapping_id=mapping_id, job_ids=job_ids)


def _synchronize_scheduled(mapping_id, *, direction, full):
    """A scheduled run of one mapping (integration.operations.synchronize_mapping, run in this worker): refused
    (connection or mapping disabled, mapping busy) it is skipped, and the next run picks the changes up."""
    mapping = IntegrationTableMapping.objects.filter(pk=mapping_id).first()
    if mapping is None:
        return {"mapping": mapping_id, "skipped": gettext("The mapping was deleted.")}
    try:
        outcome = synchronising.synchronize_mapping(mapping=mapping, direction=direction, full=full, background=False)
    except OperationRefused as exc:
        return {"mapping": mapping_id, "skipped": exc.message}
    return {"mapping": mapping_id, "jobs": [job.pk for job in outcome.jobs], "summary": outcome.summary()}


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, name=task_names.COUPLE_BY_MATCH,
             max_retries=MAPPING_BUSY_MAX_RETRIES)
def couple_by_match_task(self, mapping_id, create_new=None, sync_after=None, only_ids=None, job_id=None,
                         from_side=None):
    """Match-based coupling of one mapping's uncoupled records (or of ``only_ids``) on ``from_side`` ("erp" or
    "crm"; default: the mapping's usual side), filling queued job ``job_id``. While another run holds the mapping it
    is retried later; after its last try the job, still queued, fails saying so."""
    try:
        return queued_runs.couple_queued(
            mapping_id=mapping_id,
            create_new=create_new,
            sync_after=sync_after,
            only_ids=only_ids,
            job_id=job_id,
            from_side=from_side,
        )
    except MappingBusy as exc:
        return {"job": job_id, **_retry_or_give_up(self, exc, mapping_id=mapping_id, job_ids=[job_id] if job_id else [],
                                                    again=gettext("run the match-based coupling again"))}


@shared_task(acks_late=True, reject_on_worker_lost=True, name=task_names.FULL_SYNC_ADVANCE)
def full_sync_advance_task(run_id):
    """Start the lines of full synchronisation ``run_id`` that can start now (idempotent)."""
    return {"run": run_id, "started": full_sync_run.full_sync_advance(run_id=run_id)}


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, name=task_names.FULL_SYNC_LINE,
             max_retries=FULL_SYNC_LINE_MAX_LOOKS)
def full_sync_line_task(self, line_id):
    """Run one line of a full synchronisation (claimed first: a duplicate does nothing), then advance its run.

    When another worker holds the line, look again later: if that worker died, its lock goes stale and this task
    takes the line over, so an interrupted run heals itself without a restart.
    """
    line = full_sync_run.full_sync_line_run(line_id=line_id)
    if line is not None and getattr(line, "claimed_elsewhere", False):
        raise self.retry(countdown=FULL_SYNC_LINE_LOOK_AGAIN_SECONDS)
    return {"line": line_id, "state": line.state if line else None}


@shared_task(acks_late=True, reject_on_worker_lost=True, name=task_names.SYNC_PARTITIONS)
def sync_partitions_task(job_id):
    """Claim and run partitions of the partitioned job ``job_id`` until none is left
    (integration/full_sync/partitions.py); close the job if this worker ran its last one. A redelivered task finds them
    claimed or done."""
    return partitions.partitions_work_here(job_id=job_id)


@shared_task(acks_late=True, name=task_names.CLOSE_STOPPED_RUNS, expires=60)
def close_stopped_runs_task():
    """Close the jobs and runs whose process stopped; queue their full synchronisation lines again (every minute
    on beat: settings.CELERY_BEAT_SCHEDULE)."""
    return stopped_runs.stopped_runs_close()


@shared_task(acks_late=True, name=task_names.SALES_CHANGES_POLL, expires=60)
def sales_changes_poll_task():
    """Near-real-time from a Sales over the Web API (realtime.sales_changes_poll), on beat every
    P2C_SALES_POLL_SECONDS (settings.CELERY_BEAT_SCHEDULE)."""
    return realtime.sales_changes_poll()


# -- Sales orders from Sales (docs/features.md I9; integration.sales_orders) -------------------------------------------
@shared_task(acks_late=True, name=task_names.CREATE_SALES_ORDERS)
def create_sales_orders_task(order_ids=None):
    """Create the ERP orders of the Sales orders ``order_ids``; without ids (the periodic "Auto Create Sales Orders"
    run), of every submitted Sales order not yet sent, when "Create Sales Orders Automatically" is on. Idempotent."""
    if order_ids is None:
        if not sales_orders.sales_orders_create_automatically_enabled():
            return {"skipped": gettext("Create Sales Orders Automatically is off")}
        order_ids = list(sales_orders.sales_orders_pending().values_list("pk", flat=True))
    if not order_ids:
        return {"job": None, "created": 0, "failed": 0}
    try:
        outcome = sales_orders.sales_orders_create(sales_orders=order_ids)
    except OperationRefused as exc:
        return {"skipped": exc.message}
    counts = outcome.counts
    return {"job": outcome.jobs[0].pk, "created": counts["done"], "unchanged": counts["skipped"],
            "failed": counts["failed"], "summary": outcome.summary()}


@shared_task(acks_late=True, name=task_names.UPDATE_SALES_ORDER_STATUSES)
def update_sales_order_statuses_task(full=False):
    """Carry ERP order statuses back to Sales (BC's "Sales Order Status" job, every few minutes on beat)."""
    try:
        jobs = sales_orders.sales_order_statuses_update(full=full, wait_seconds=0)
    except MappingBusy as exc:
        return {"skipped": str(exc)}
    return {"jobs": [job.pk for job in jobs]}
