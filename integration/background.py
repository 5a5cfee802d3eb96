"""Hand work to the Celery workers: what the admin actions, pages and the API call for background runs.

Each function creates the queued `SyncJob` rows the caller can show at once ("queued", with a link), and enqueues
the task with their ids when the current transaction commits (`transaction.on_commit`), so a worker never looks for
a row that is not committed yet, and nothing is enqueued for work that was rolled back. Tasks carry ids, never
objects. Large selections are split into chunks of `CHUNK_IDS` ids, one task (and one job per direction) each,
so many workers share them.

The tasks themselves live in `integration.tasks` (the only module that imports Celery); they are imported here
lazily, inside the functions, so importing this module never needs Celery configured.
"""

from functools import partial

from django.db import transaction

from p2c.utils import chunked

from .engine.sync import job_create
from .job_records import job_records_add, job_records_release
from .models import Direction, SyncJob

CHUNK_IDS = 1000


def _directions(mapping, direction):
    if direction in (None, "", Direction.BIDIRECTIONAL):
        return mapping.directions()
    return [direction]


def _enqueue(task, countdown=None, **kwargs):
    """Enqueue ``task`` with ``kwargs`` once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(partial(task.apply_async, kwargs=kwargs, countdown=countdown))


def mapping_synchronize_later(*, mapping, direction=None, only_ids=None, full=False, create_new=None,
                              skip_coupled=False):
    """Synchronise ``mapping`` in the background; return the queued jobs (one per direction and chunk).

    ``only_ids``: the source records to synchronise (a "synchronise now" of a selection), split in chunks of
    `CHUNK_IDS`, one task each (give a one-way ``direction`` with them: ids are one side's). Without it, the
    modified records (or everything, with ``full``). ``create_new``: create counterparts of uncoupled records
    ("Create in Sales/ERP"); default: the mapping's *Synch. Only Coupled Records*. ``skip_coupled`` (with
    ``only_ids``): records coupled by the time the task runs are not synchronised but counted as skipped in the
    job, so a "Create in" never touches, let alone duplicates, a record that is coupled already.
    """
    from .tasks import synchronize_mapping_task

    directions = _directions(mapping, direction)
    chunks = [None] if only_ids is None else [list(c) for c in chunked([str(i) for i in only_ids], CHUNK_IDS)]
    jobs = []
    for ids in chunks:
        chunk_jobs = [job_create(mapping=mapping, direction=one_way, full=full) for one_way in directions]
        jobs.extend(chunk_jobs)
        if ids is not None:  # the lists show these records queued, then failed if the job fails as a whole
            job_records_add(jobs=chunk_jobs, mapping=mapping, ids=ids)
        kwargs = {"create_new": create_new} if create_new is not None else {}
        if skip_coupled:
            kwargs["skip_coupled"] = True
        _enqueue(synchronize_mapping_task, mapping_id=mapping.pk, direction=direction, full=full, only_ids=ids,
                 job_ids=[job.pk for job in chunk_jobs], **kwargs)
    return jobs


def mapping_couple_by_match_later(*, mapping, create_new=None, sync_after=None, only_ids=None, from_side=None):
    """Match-based coupling of ``mapping`` in the background; return the queued coupling jobs (one per chunk).

    ``from_side``: ``"erp"`` or ``"crm"``, the side whose records look for a counterpart (default: the ERP
    records, Sales records for a Sales → ERP mapping); a side the mapping cannot start from is refused at once
    (ValidationError), before anything is queued. ``only_ids``: that side's records to couple, split in chunks of
    `CHUNK_IDS`. ``create_new`` / ``sync_after``: default to the mapping's settings.
    """
    from .coupling import _coupling_direction, coupling_side_check
    from .tasks import couple_by_match_task

    from_side = coupling_side_check(mapping=mapping, from_side=from_side)
    chunks = [None] if only_ids is None else [list(c) for c in chunked([str(i) for i in only_ids], CHUNK_IDS)]
    jobs = []
    for ids in chunks:
        job = job_create(mapping=mapping, direction=_coupling_direction(mapping, from_side),
                         type=SyncJob.Type.COUPLING)
        jobs.append(job)
        _enqueue(couple_by_match_task, mapping_id=mapping.pk, create_new=create_new, sync_after=sync_after,
                 only_ids=ids, job_id=job.pk, from_side=from_side)
    return jobs


def full_sync_advance_later(*, run):
    """Enqueue an advance of the full synchronisation ``run`` (start the lines that can start)."""
    from .tasks import full_sync_advance_task

    _enqueue(full_sync_advance_task, run_id=run.pk)


def full_sync_line_later(*, line):
    """Enqueue the run of one full synchronisation line (claimed by the task, so duplicates are harmless)."""
    from .tasks import full_sync_line_task

    _enqueue(full_sync_line_task, line_id=line.pk)


def project_run_later(*, run):
    """Enqueue the execution of the queued F&O project ``run`` (integration.fo_projects.project_run_execute)."""
    from .tasks import run_project

    _enqueue(run_project, run_id=run.pk)


def mapping_synchronize_ids_later(*, mapping_id, direction, ids, countdown=None):
    """Enqueue a synchronisation of the given source ids in one direction, one task per chunk of `CHUNK_IDS`,
    without queued job rows (near-real-time changes: the task creates its jobs when it runs)."""
    from .tasks import synchronize_mapping_task

    for chunk in chunked([str(i) for i in ids], CHUNK_IDS):
        _enqueue(synchronize_mapping_task, countdown=countdown, mapping_id=mapping_id, direction=direction,
                 only_ids=list(chunk))


# -- what the tasks run (kept here so integration/tasks.py stays a thin door) ----------------------------------------
def synchronize_queued(*, mapping_id, direction=None, full=False, only_ids=None, job_ids=None, create_new=None,
                       skip_coupled=False, wait_seconds=0):
    """Run a synchronisation a task was given: only the handed-in jobs still queued are filled.

    A job found *running* whose holder is gone belongs to a worker that died: it is closed as failed (saying so)
    and a new job takes its place. With ``skip_coupled`` (and ``only_ids``, one direction) the
    records coupled by now are left out and counted as skipped in the job. ``wait_seconds``: how long to wait for
    the mapping's lock before MappingBusy (the jobs stay queued). Returns a small JSON-able summary.
    """
    from .coupling import records_split_coupled
    from .engine.locks import holders_alive, mapping_running, stopped_message
    from .engine.sync import mapping_synchronize
    from .models import ConnectionSetup, IntegrationTableMapping

    mapping = IntegrationTableMapping.objects.filter(pk=mapping_id).first()
    # Disabled after the jobs were queued: they fail saying so (integration.operations refuses before queueing).
    refused = ("The mapping is disabled or was deleted." if mapping is None or not mapping.is_enabled
               else None if ConnectionSetup.get_solo().is_enabled else "The connection is not enabled.")
    if refused:
        SyncJob.objects.filter(pk__in=job_ids or [], status=SyncJob.Status.QUEUED).update(
            status=SyncJob.Status.FAILED, finished_at=_now(), message=refused)
        return {"mapping": mapping_id, "jobs": [], "refused": refused}
    jobs = None
    if job_ids is not None:
        found = list(SyncJob.objects.filter(pk__in=job_ids))
        running = [job for job in found if job.status == SyncJob.Status.RUNNING]
        beat = {mapping.locked_by: mapping.locked_at}
        alive = holders_alive({job.holder: beat.get(job.holder) for job in running}) if running else set()
        interrupted = [job for job in running
                       if (job.holder not in alive if job.holder else not mapping_running(mapping))]
        for job in interrupted:
            SyncJob.objects.filter(pk=job.pk, status=SyncJob.Status.RUNNING).update(
                status=SyncJob.Status.FAILED, finished_at=_now(),
                message=stopped_message(beat.get(job.holder), job.started_at))
        jobs = {job.direction: job for job in found if job.status == SyncJob.Status.QUEUED}
        redo = {job.direction for job in interrupted}
        directions = [d for d in _directions(mapping, direction) if d in jobs or d in redo]
        if not directions:
            return {"mapping": mapping_id, "jobs": [], "already_done": sorted(job_ids)}
        direction = directions[0] if len(directions) == 1 else None
    coupled = []
    if skip_coupled and only_ids is not None and direction not in (None, "", Direction.BIDIRECTIONAL):
        only_ids, coupled = records_split_coupled(mapping=mapping, direction=direction, ids=only_ids)
    results = mapping_synchronize(mapping=mapping, direction=direction, full=full, only_ids=only_ids, jobs=jobs,
                                  create_new=create_new, wait_seconds=wait_seconds)
    job_records_release(job_ids=job_ids)
    if coupled:
        for job in results:
            job.skipped += len(coupled)
            note = f"{len(coupled)} already coupled: skipped"
            job.message = note if job.message == "nothing to synchronise" else f"{job.message}; {note}"
            job.save(update_fields=["skipped", "message"])
    return {"mapping": mapping_id, "jobs": [job.pk for job in results]}


def couple_queued(*, mapping_id, create_new=None, sync_after=None, only_ids=None, job_id=None, from_side=None):
    """Run a match-based coupling a task was given; a job no longer queued is not run again. A coupling the
    mapping refuses (its direction changed meanwhile) fails its job with the reason."""
    from django.core.exceptions import ValidationError

    from .coupling import mapping_couple_by_match
    from .engine.locks import MappingBusy
    from .models import IntegrationTableMapping

    mapping = IntegrationTableMapping.objects.filter(pk=mapping_id).first()
    job = SyncJob.objects.filter(pk=job_id).first() if job_id else None
    if job_id and (job is None or job.status != SyncJob.Status.QUEUED):
        return {"mapping": mapping_id, "job": job_id, "already_done": True}
    if mapping is None:
        if job:
            SyncJob.objects.filter(pk=job.pk).update(status=SyncJob.Status.FAILED, message="The mapping was deleted.")
        return {"mapping": mapping_id, "job": job_id}
    try:
        job = mapping_couple_by_match(mapping=mapping, create_new=create_new, sync_after=sync_after,
                                      only_ids=only_ids, job=job, from_side=from_side)
    except MappingBusy:
        if job:  # marked running before the lock was refused: queued again, so the task's retry runs it
            SyncJob.objects.filter(pk=job.pk, status=SyncJob.Status.RUNNING, finished_at=None).update(
                status=SyncJob.Status.QUEUED, started_at=None)
        raise
    except ValidationError as exc:
        if job:
            SyncJob.objects.filter(pk=job.pk).update(status=SyncJob.Status.FAILED, finished_at=_now(),
                                                     message=" ".join(exc.messages))
        return {"mapping": mapping_id, "job": job_id, "refused": " ".join(exc.messages)}
    return {"mapping": mapping_id, "job": job.pk, "follow_up_jobs": [j.pk for j in job.follow_up_jobs]}


def queued_jobs_give_up(*, mapping_id, job_ids, tries, again="synchronise again"):
    """Fail the handed-in jobs still queued of a task that gave up waiting for its busy mapping, so none stays
    queued for ever; return the message they carry ("Mapping X stayed busy: gave up after N tries; …")."""
    from .models import IntegrationTableMapping

    name = IntegrationTableMapping.objects.filter(pk=mapping_id).values_list("name", flat=True).first()
    message = f"Mapping {name or f'#{mapping_id}'} stayed busy: gave up after {tries} tries; {again}."
    SyncJob.objects.filter(pk__in=job_ids or [], status=SyncJob.Status.QUEUED).update(
        status=SyncJob.Status.FAILED, finished_at=_now(), message=message)
    return message


def _now():
    from django.utils import timezone

    return timezone.now()
