"""Retention of the synchronisation log (docs/features.md I7; BC's "Delete entries older than 7 days" / "Delete all
entries").

`sync_log_cleanup` deletes the synchronisation jobs (with their errors) and the full synchronisation runs (with their
lines) created before the retention, and keeps what someone still needs:

- a job still running or queued;
- a failed job a record still points at: the last job of a coupling that is skipped or whose last write on that
  side failed (the engine compares a new failure with that job's error to park a record that fails the same way
  twice, and the coupling's job link is the evidence for a record waiting on a person), and the last job of a
  failed insert;
- a job of a full synchronisation run or an F&O project run that is kept: project runs keep their own age setting
  (``p2c_cleanup_runs``, P2C_PROJECT_HISTORY_DAYS), so their jobs go with them, later.

At a million jobs: the old jobs are taken in primary-key windows of ``CHUNK_SIZE`` (only the window's upper bound is
read), and each window is deleted in its own short transaction by a few set-based statements (references set to
NULL, errors, jobs) with the window as a subquery, so memory stays flat and the synchronisation is never locked out
for more than one chunk. The admin action, the API, the command and the scheduled task call this one function.
"""

from datetime import timedelta

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from p2c.limits import MAX_AGE_DAYS
from p2c.outcomes import DONE, OperationRefused, Outcome, Refusal

from ..models import (
    ConnectionSetup,
    Coupling,
    FailedInsert,
    FullSyncLine,
    FullSyncRun,
    IntegrationProjectTaskRun,
    SyncJob,
    SyncJobError,
    SyncResult,
)

CHUNK_SIZE = 10_000
DEFAULT_RETENTION_DAYS = 30
VERB = "Delete synchronisation log entries"


def retention_days():
    """The connection setup's retention (Delete Synch. Log Entries Older Than), in days."""
    return ConnectionSetup.get_solo().log_retention_days


def _kept_condition(old_runs):
    """A job a record, a kept full synchronisation line (not of ``old_runs``) or a kept project task run still
    points at. Uncorrelated ``IN`` subqueries (without NULLs, which would make NOT IN unknown): the databases
    compute each once per statement (a hashed subplan on PostgreSQL), where correlated EXISTS probed them per job."""
    failure = SyncResult.FAILURE

    def pointed_at(queryset, field):
        return Q(pk__in=queryset.filter(**{f"{field}__isnull": False}).values(field))

    kept = Q()
    for job_field, result_field in (("last_erp_job", "last_erp_result"), ("last_crm_job", "last_crm_result")):
        kept |= pointed_at(Coupling.objects.filter(Q(skipped=True) | Q(**{result_field: failure})), job_field)
    kept |= pointed_at(FailedInsert.objects.all(), "job")
    for job_field in ("to_job", "from_job", "coupling_job"):
        kept |= pointed_at(FullSyncLine.objects.exclude(run__in=old_runs), job_field)
    kept |= pointed_at(IntegrationProjectTaskRun.objects.all(), "sync_job")
    return kept


def _old_jobs(cutoff):
    return SyncJob.objects.filter(created_at__lt=cutoff).exclude(
        status__in=[SyncJob.Status.QUEUED, SyncJob.Status.RUNNING])


def _jobs_delete(doomed):
    """Delete the jobs of the queryset ``doomed`` and their errors in a few set-based statements (``doomed`` is a
    subquery of each: no ids travel through Python); returns how many errors went.

    Django's delete() would collect every related row through IN lists of a few hundred ids each (seconds per
    chunk); here each reference to the jobs is cleared by one UPDATE per foreign key, as on_delete=SET_NULL asks,
    the errors go in one DELETE, then the jobs in one DELETE (``_raw_delete``: nothing points at them any more)."""
    ids = doomed.values("pk")
    for relation in SyncJob._meta.get_fields(include_hidden=True):  # hidden: the related_name="+" references
        if relation.auto_created and not relation.concrete and relation.on_delete is models.SET_NULL:
            field = relation.field.name
            relation.related_model._base_manager.filter(**{f"{field}__in": ids}).update(**{field: None})
    errors = SyncJobError.objects.filter(job__in=ids)._raw_delete(SyncJobError.objects.db)
    SyncJob.objects.filter(pk__in=ids)._raw_delete(SyncJob.objects.db)
    return errors


def sync_log_cleanup(*, older_than_days=None, dry_run=False, now=None, chunk_size=CHUNK_SIZE, progress=None):
    """Delete the jobs, job errors and full synchronisation runs created more than ``older_than_days`` days ago
    (0: every entry, BC's "Delete all entries"; None: the connection setup's retention), keeping the jobs listed in
    the module docstring. ``dry_run`` counts and deletes nothing. ``progress(deleted=n)`` is called per chunk.

    Returns an Outcome: done = the jobs deleted (or that would be); notes say the errors and runs deleted and the
    failed jobs kept. Raises OperationRefused for an age below 0 or above MAX_AGE_DAYS (p2c.limits)."""
    days = retention_days() if older_than_days is None else older_than_days
    if days is None or days < 0:
        raise OperationRefused(gettext("The age must be 0 days (every entry) or more."), code=Refusal.INVALID_AGE, status=400)
    if days > MAX_AGE_DAYS:
        raise OperationRefused(
            gettext("The age must be at most %(max)s days (a hundred years); %(days)s was given.")
            % {"max": f"{MAX_AGE_DAYS:,}", "days": f"{days:,}"}, code=Refusal.INVALID_AGE, status=400)
    cutoff = (now or timezone.now()) - timedelta(days=days)
    outcome = Outcome(
        gettext("%(verb)s older than %(days)s days") % {"verb": VERB, "days": days}
        if days
        else gettext("%(verb)s (all)") % {"verb": VERB}
    )
    if dry_run:
        outcome.verb += gettext(" (dry run: nothing deleted)")

    # Full synchronisation runs first: their lines then no longer hold old jobs.
    runs = FullSyncRun.objects.filter(started_at__lt=cutoff).exclude(status=FullSyncRun.Status.RUNNING)
    runs_count = runs.count() if dry_run else runs.delete()[1].get(FullSyncRun._meta.label, 0)

    errors_count = kept_count = 0
    kept_condition = _kept_condition(runs.values("pk"))
    remaining = _old_jobs(cutoff)
    while True:
        # A window of at most chunk_size old jobs by primary key: its upper bound is read, its rows never are.
        bound = list(remaining.order_by("pk").values_list("pk", flat=True)[chunk_size - 1:chunk_size])
        window = remaining.filter(pk__lte=bound[0]) if bound else remaining
        doomed = window.exclude(kept_condition)
        with transaction.atomic():
            # Counted and deleted in one short transaction: the kept condition holds for exactly what is deleted.
            in_window, count = window.count(), doomed.count()
            if dry_run:
                errors_count += SyncJobError.objects.filter(job__in=doomed.values("pk")).count()
            elif count:
                errors_count += _jobs_delete(doomed)
        kept_count += in_window - count
        outcome.add(DONE, count)
        if progress:
            progress(deleted=count)
        if not bound:
            break
        remaining = _old_jobs(cutoff).filter(pk__gt=bound[0])

    jobs_count = outcome.counts[DONE]
    counts = {
        "jobs": ngettext("%(count)s job", "%(count)s jobs", jobs_count) % {"count": jobs_count},
        "errors": ngettext("%(count)s job error", "%(count)s job errors", errors_count) % {"count": errors_count},
        "runs": ngettext("%(count)s full synchronisation run", "%(count)s full synchronisation runs",
                         runs_count) % {"count": runs_count},
    }
    if dry_run:
        # Translators: each part counted already ("2 jobs", "1 job error", "1 full synchronisation run").
        note = gettext("%(jobs)s, %(errors)s and %(runs)s would be deleted.")
    else:
        # Translators: each part counted already ("2 jobs", "1 job error", "1 full synchronisation run").
        note = gettext("%(jobs)s, %(errors)s and %(runs)s deleted.")
    outcome.notes.append(note % counts)
    if kept_count:
        outcome.notes.append(
            ngettext(
                "%(kept_count)s old job kept: skipped or failed records, a failed insert, or a kept full "
                "synchronisation or project run still point at it.",
                "%(kept_count)s old jobs kept: skipped or failed records, a failed insert, or a kept full "
                "synchronisation or project run still point at them.", kept_count)
            % {"kept_count": kept_count}
        )
    return outcome
