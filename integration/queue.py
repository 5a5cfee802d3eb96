"""The queue: the one module that hands work to the Celery workers (it finds the tasks of `integration.tasks` by name).

The domain and the doors (admin actions, pages, the API, commands, the near-real-time hooks) ask for background
work here, one ``<thing>_enqueue`` function each; nothing else calls ``delay`` or ``apply_async``.

Each function that stands for a user's request creates the queued `SyncJob` rows the caller can show at once
("queued", with a link), and enqueues the task with their ids when the current transaction commits
(`transaction.on_commit`), so a worker never looks for a row that is not committed yet, and nothing is enqueued for
work that was rolled back. Tasks carry ids, never objects. Large selections are split into chunks of `CHUNK_IDS`
ids, one task (and one job per direction) each, so many workers share them. What the tasks run lives with the
operations (`integration.operations.queued_runs`, `integration.full_sync.run`, ...): the tasks are thin doors.
"""

from functools import partial

from django.conf import settings
from django.db import transaction

from p2c.celery import app as celery_app
from p2c.utils import chunked

from . import task_names
from .coupling.couplings import coupling_direction, coupling_side_check
from .coupling.job_records import job_records_add
from .engine.sync import job_create
from .models import SyncJob

CHUNK_IDS = 1000  # ids per task of a selection (and per near-real-time task)


def _task(name):
    """The task registered as ``name`` (integration.tasks, which Celery's autodiscovery imports): looked up by name,
    so the tasks (which call the operations, which enqueue here) and the queue do not import each other."""
    return celery_app.tasks[name]


def _enqueue(task, countdown=None, **kwargs):
    """Enqueue ``task`` with ``kwargs`` once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(partial(task.apply_async, kwargs=kwargs, countdown=countdown))


def chunk_shares(jobs, n):
    """[(job, records)] for the one-direction jobs of a selection of ``n`` records queued in chunks (one job per
    chunk of `CHUNK_IDS`, in order)."""
    return [(job, min(CHUNK_IDS, n - i * CHUNK_IDS)) for i, job in enumerate(jobs)]


def _chunks(only_ids):
    return [None] if only_ids is None else [list(c) for c in chunked([str(i) for i in only_ids], CHUNK_IDS)]


def mapping_synchronize_enqueue(*, mapping, direction=None, only_ids=None, full=False, create_new=None,
                                skip_coupled=False):
    """Synchronise ``mapping`` in the background; return the queued jobs (one per direction and chunk).

    ``only_ids``: the source records to synchronise (a "synchronise now" of a selection), split in chunks of
    `CHUNK_IDS`, one task each (give a one-way ``direction`` with them: ids are one side's). Without it, the
    modified records (or everything, with ``full``). ``create_new``: create counterparts of uncoupled records
    ("Create in Sales/ERP"); default: the mapping's *Synch. Only Coupled Records*. ``skip_coupled`` (with
    ``only_ids``): records coupled by the time the task runs are not synchronised but counted as skipped in the
    job, so a "Create in" never touches, let alone duplicates, a record that is coupled already.
    """
    directions = mapping.directions(direction)
    jobs = []
    for ids in _chunks(only_ids):
        # Selected records are no full synchronisation, though the run writes them whatever changed (``full``).
        chunk_jobs = [job_create(mapping=mapping, direction=one_way, full=full and ids is None,
                                 records_given=None if ids is None else len(ids)) for one_way in directions]
        jobs.extend(chunk_jobs)
        if ids is not None:  # the lists show these records queued, then failed if the job fails as a whole
            job_records_add(jobs=chunk_jobs, mapping=mapping, ids=ids)
        kwargs = {"create_new": create_new} if create_new is not None else {}
        if skip_coupled:
            kwargs["skip_coupled"] = True
        _enqueue(_task(task_names.SYNCHRONIZE_MAPPING), mapping_id=mapping.pk, direction=direction, full=full, only_ids=ids,
                 job_ids=[job.pk for job in chunk_jobs], **kwargs)
    return jobs


def partitions_enqueue(*, job, count):
    """Have ``count`` workers claim and run the partitions of the partitioned ``job``
    (integration/full_sync/partitions.py); each task runs partitions until none is left, so the number of tasks is the
    number of workers on the job."""
    for _ in range(max(count, 0)):
        _enqueue(_task(task_names.SYNC_PARTITIONS), job_id=job.pk)


def mapping_couple_by_match_enqueue(*, mapping, create_new=None, sync_after=None, only_ids=None, from_side=None):
    """Match-based coupling of ``mapping`` in the background; return the queued coupling jobs (one per chunk).

    ``from_side``: ``"erp"`` or ``"crm"``, the side whose records look for a counterpart (default: the ERP
    records, Sales records for a Sales → ERP mapping); a side the mapping cannot start from is refused at once
    (ValidationError), before anything is queued. ``only_ids``: that side's records to couple, split in chunks of
    `CHUNK_IDS`. ``create_new`` / ``sync_after``: default to the mapping's settings.
    """
    from_side = coupling_side_check(mapping=mapping, from_side=from_side)
    jobs = []
    for ids in _chunks(only_ids):
        job = job_create(mapping=mapping, direction=coupling_direction(mapping, from_side),
                         type=SyncJob.Type.COUPLING)
        jobs.append(job)
        _enqueue(_task(task_names.COUPLE_BY_MATCH), mapping_id=mapping.pk, create_new=create_new, sync_after=sync_after,
                 only_ids=ids, job_id=job.pk, from_side=from_side)
    return jobs


def mapping_synchronize_ids_enqueue(*, mapping_id, direction, ids, countdown=None):
    """Enqueue a synchronisation of the given source ids in one direction, one task per chunk of `CHUNK_IDS`,
    without queued job rows: near-real-time changes, noted first (`RealtimeChange`); the task runs every record noted
    by the time it holds the mapping, and creates its job when it runs."""
    for chunk in chunked([str(i) for i in ids], CHUNK_IDS):
        _enqueue(_task(task_names.SYNCHRONIZE_MAPPING), countdown=countdown, mapping_id=mapping_id, direction=direction,
                 only_ids=list(chunk))


def realtime_run_enqueue(*, mapping_id, direction):
    """Enqueue a near-real-time run of ``mapping_id`` in ``direction`` for the records still noted for it after a run
    (integration.operations.queued_runs.realtime_changes_synchronize), after the countdown a commit waits
    (``P2C_REALTIME_DELAY_SECONDS``): a steady stream of changes is then taken a few seconds' worth a run, not a run
    of one or two records after another (each run costs Sales its reads and its write, service protection counts
    them)."""
    _enqueue(_task(task_names.SYNCHRONIZE_MAPPING), countdown=settings.P2C_REALTIME_DELAY_SECONDS,
             mapping_id=mapping_id, direction=direction, only_ids=[])


def full_sync_advance_enqueue(*, run):
    """Enqueue an advance of the full synchronisation ``run`` (start the lines that can start)."""
    _enqueue(_task(task_names.FULL_SYNC_ADVANCE), run_id=run.pk)


def full_sync_line_enqueue(*, line):
    """Enqueue the run of one full synchronisation line (claimed by the task, so duplicates are harmless)."""
    _enqueue(_task(task_names.FULL_SYNC_LINE), line_id=line.pk)


def project_run_enqueue(*, run):
    """Enqueue the execution of the queued F&O project ``run`` (integration.fo.projects.project_run_execute)."""
    _enqueue(_task(task_names.RUN_PROJECT), run_id=run.pk)


def sales_orders_create_enqueue(*, order_ids):
    """Enqueue the creation of the ERP orders of the Sales orders ``order_ids`` now (called after the commit that
    submitted them: integration.sales_orders.realtime)."""
    _task(task_names.CREATE_SALES_ORDERS).delay([str(pk) for pk in order_ids])


BROKER_TIMEOUT = 2  # seconds: the health page and /health/ wait no longer for the broker


def broker_reachable():
    """Whether a connection to the broker can be made now (within `BROKER_TIMEOUT` seconds, no retry)."""
    try:
        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
    except Exception:  # unreachable, whatever the transport says why
        return False
    return True
