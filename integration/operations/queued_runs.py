"""What the queued synchronisation and coupling tasks run (`integration.tasks` is a thin door onto these).

Jobs handed in by id were created *queued* by `integration.queue`; only those still queued are filled, so a
redelivered task finds its work done (or running under the mapping's lock) and does nothing twice.
"""

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy, gettext_noop

from p2c.said import Joined, counted, said, said_data, said_from_data, said_name
from p2c.utils import chunked

from .. import queue
from ..coupling.couplings import mapping_couple_by_match, records_split_coupled
from ..coupling.job_records import job_records_release
from ..engine.locks import MappingBusy, holder_gone, mapping_lock, stopped_said
from ..engine.request import RunRequest
from ..engine.sync import mapping_synchronize
from ..engine.transfer import validation_said
from ..models import ConnectionSetup, Direction, IntegrationTableMapping, RealtimeChange, SyncJob

NOTHING = said(gettext_noop("nothing to synchronise"))  # a job's message when it had nothing to do (job_log.py)


def synchronize_queued(*, mapping_id, direction=None, full=False, only_ids=None, job_ids=None, create_new=None,
                       skip_coupled=False, wait_seconds=0):
    """Run a synchronisation a task was given: only the handed-in jobs still queued are filled.

    A job found *running* whose holder is gone belongs to a worker that died: it is closed as failed (saying so)
    and a new job takes its place. With ``skip_coupled`` (and ``only_ids``, one direction) the
    records coupled by now are left out and counted as skipped in the job. ``wait_seconds``: how long to wait for
    the mapping's lock before MappingBusy (the jobs stay queued). Returns a small JSON-able summary.
    """
    mapping = IntegrationTableMapping.objects.filter(pk=mapping_id).first()
    # Disabled after the jobs were queued: they fail saying so (integration.operations refuses before queueing).
    refused = (said(gettext_noop("The mapping is disabled or was deleted.")) if mapping is None or not mapping.is_enabled
               else None if ConnectionSetup.get_solo().is_enabled
               else said(gettext_noop("The connection is not enabled.")))
    if refused:
        SyncJob.objects.filter(pk__in=job_ids or [], status=SyncJob.Status.QUEUED).fail(refused)
        return {"mapping": mapping_id, "jobs": [], "refused": str(refused)}
    jobs = None
    if job_ids is not None:
        found = list(SyncJob.objects.filter(pk__in=job_ids))
        beat = {mapping.locked_by: mapping.locked_at}
        interrupted = [job for job in found if job.status == SyncJob.Status.RUNNING
                       and holder_gone(job.holder, beats=[beat.get(job.holder)], mapping=mapping)]
        for job in interrupted:
            SyncJob.objects.filter(pk=job.pk, status=SyncJob.Status.RUNNING).fail(
                stopped_said(beat.get(job.holder), job.started_at))
        jobs = {job.direction: job for job in found if job.status == SyncJob.Status.QUEUED}
        redo = {job.direction for job in interrupted}
        directions = [d for d in mapping.directions(direction) if d in jobs or d in redo]
        if not directions:
            return {"mapping": mapping_id, "jobs": [], "already_done": sorted(job_ids)}
        direction = directions[0] if len(directions) == 1 else None
    coupled = []
    if skip_coupled and only_ids is not None and direction not in (None, "", Direction.BIDIRECTIONAL):
        only_ids, coupled = records_split_coupled(mapping=mapping, direction=direction, ids=only_ids)
    results = mapping_synchronize(RunRequest(mapping=mapping, direction=direction, full=full, only_ids=only_ids,
                                             jobs=jobs, create_new=create_new, wait_seconds=wait_seconds))
    job_records_release(job_ids=job_ids)
    if coupled:
        for job in results:
            job.skipped += len(coupled)
            note = counted("%(count)s already coupled: skipped", "%(count)s already coupled: skipped",
                           count=len(coupled))
            nothing = job.message_data == said_data(NOTHING) if job.message_data else job.message == str(NOTHING)
            before = said_from_data(job.message_data) if job.message_data else job.message
            job.message_set(note if nothing or not before else Joined((before, note), "; "))
            job.save(update_fields=["skipped", "message", "message_data"])
    return {"mapping": mapping_id, "jobs": [job.pk for job in results]}


REALTIME_RUN_IDS = 1000  # noted records a near-real-time run takes at most (the rest: the next run)


def realtime_changes_synchronize(*, mapping_id, direction, wait_seconds=0):
    """The near-real-time run of ``mapping_id`` in ``direction`` (integration.background.realtime): once it holds
    the mapping (waiting up to ``wait_seconds``, else MappingBusy, the records left noted), every record noted
    for it by then (`RealtimeChange`, the oldest `REALTIME_RUN_IDS`) in one job, and those records forgotten, but for
    any noted again while the run went on (a later change: the next run takes it). Nothing noted, because an earlier
    run took it: no job, and the mapping is not even waited for. More left noted afterwards: another run is
    enqueued. A refused run (mapping disabled or deleted, connection off) forgets the noted records: the scheduled
    synchronisation picks the changes up, as it does for a failed run."""
    noted = RealtimeChange.objects.filter(table_mapping_id=mapping_id, direction=direction)
    if not noted.exists():
        return {"mapping": mapping_id, "jobs": [], "nothing_noted": True}
    mapping = IntegrationTableMapping.objects.filter(pk=mapping_id).first()
    if mapping is None or not mapping.is_enabled or not ConnectionSetup.get_solo().is_enabled:
        noted.delete()
        return {"mapping": mapping_id, "jobs": [], "refused": True}
    with mapping_lock(mapping, wait_seconds=wait_seconds) as token:
        taken = dict(noted.order_by("noted_at").values_list("record_id", "noted_at")[:REALTIME_RUN_IDS])
        if not taken:
            return {"mapping": mapping_id, "jobs": [], "nothing_noted": True}
        try:
            results = mapping_synchronize(RunRequest(mapping=mapping, direction=direction, only_ids=list(taken),
                                                     lock_token=token))
        finally:  # taken, whatever came of it (as a run of the ids a task carried): forgotten unless noted again
            for chunk in chunked(list(taken.items()), 500):
                same = Q()
                for record_id, noted_at in chunk:
                    same |= Q(record_id=record_id, noted_at=noted_at)
                noted.filter(same).delete()
    if noted.exists():
        queue.realtime_run_enqueue(mapping_id=mapping_id, direction=direction)
    return {"mapping": mapping_id, "jobs": [job.pk for job in results], "records": len(taken)}


def couple_queued(*, mapping_id, create_new=None, sync_after=None, only_ids=None, job_id=None, from_side=None):
    """Run a match-based coupling a task was given; a job no longer queued is not run again. A coupling the
    mapping refuses (its direction changed meanwhile) fails its job with the reason."""
    mapping = IntegrationTableMapping.objects.filter(pk=mapping_id).first()
    job = SyncJob.objects.filter(pk=job_id).first() if job_id else None
    if job_id and (job is None or job.status != SyncJob.Status.QUEUED):
        return {"mapping": mapping_id, "job": job_id, "already_done": True}
    if mapping is None:
        if job:
            SyncJob.objects.filter(pk=job.pk).fail(said(gettext_noop("The mapping was deleted.")))
        return {"mapping": mapping_id, "job": job_id}
    try:
        job = mapping_couple_by_match(mapping=mapping, create_new=create_new, sync_after=sync_after,
                                      only_ids=only_ids, job=job, from_side=from_side)
    except MappingBusy:
        if job:  # marked running before the lock was refused: queued again, so the task's retry runs it
            SyncJob.objects.filter(pk=job.pk, status=SyncJob.Status.RUNNING, finished_at=None).requeue()
        raise
    except ValidationError as exc:
        if job:
            SyncJob.objects.filter(pk=job.pk).fail(
                Joined(tuple(validation_said(error) for error in exc.error_list), " "))
        return {"mapping": mapping_id, "job": job_id, "refused": " ".join(exc.messages)}
    return {"mapping": mapping_id, "job": job.pk, "follow_up_jobs": [j.pk for j in job.follow_up_jobs]}


SYNCHRONISE_AGAIN = gettext_lazy("synchronise again")  # a default argument: translated when read

def queued_jobs_give_up(*, mapping_id, job_ids, tries, again=SYNCHRONISE_AGAIN):
    """Fail the handed-in jobs still queued of a task that gave up waiting for its busy mapping, so none stays
    queued for ever; return the message they carry ("Mapping X stayed busy: gave up after N tries; …")."""
    name = IntegrationTableMapping.objects.filter(pk=mapping_id).values_list("name", flat=True).first()
    message = counted("Mapping %(value)s stayed busy: gave up after %(tries)s try; %(again)s.",
                      "Mapping %(value)s stayed busy: gave up after %(tries)s tries; %(again)s.", counter="tries",
                      value=name or f"#{mapping_id}", tries=tries, again=said_name(again))
    SyncJob.objects.filter(pk__in=job_ids or [], status=SyncJob.Status.QUEUED).fail(message)
    return str(message)
