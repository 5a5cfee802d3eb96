"""How far a partitioned run is (integration/full_sync/partitions.py): partitions done / total and rows per second, for
sync_status, the sync command and the full synchronisation review. Reads only: no queue, no engine, so the review
(integration/full_sync/review.py) can show it without importing the runner."""

from django.db.models import Count, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext

from ..models import SyncPartition

State = SyncPartition.State


def partitions_progress_of(jobs):
    """``{job id: progress}`` of the partitioned ones among ``jobs``, in one query; progress is ``{"total", "done",
    "failed", "running", "rows", "rows_per_second"}``, rows per second being the rows read so far over the time since
    the job's first partition started (until the job finished)."""
    jobs = {job.pk: job for job in jobs if job is not None}
    if not jobs:
        return {}
    figures = SyncPartition.objects.filter(job_id__in=jobs).values("job_id").annotate(
        total=Count("pk"), done=Count("pk", filter=Q(state=State.DONE)),
        failed=Count("pk", filter=Q(state=State.FAILED)), running=Count("pk", filter=Q(state=State.RUNNING)),
        rows_read=Sum("rows"), first=Min("started_at"),
    )
    now = timezone.now()
    result = {}
    for row in figures:
        job = jobs[row["job_id"]]
        seconds = ((job.finished_at or now) - row["first"]).total_seconds() if row["first"] else 0
        rows = row["rows_read"] or 0
        result[job.pk] = {"total": row["total"], "done": row["done"], "failed": row["failed"],
                          "running": row["running"], "rows": rows,
                          "rows_per_second": round(rows / seconds) if seconds > 0 else 0}
    return result


def partitions_progress(job):
    """`partitions_progress_of` one job: its progress, or None when it has no partitions."""
    return partitions_progress_of([job]).get(getattr(job, "pk", None))


def partitions_progress_text(progress):
    """"12/40 partitions done, 3,400 rows/s" (what sync_status and the review page say)."""
    if not progress:
        return ""
    failed = f", {progress['failed']} failed" if progress["failed"] else ""
    return gettext("%(done)s/%(total)s partitions done%(failed)s, %(rows_per_second)s rows/s") % {
        "done": progress["done"],
        "total": progress["total"],
        "failed": failed,
        "rows_per_second": format(progress["rows_per_second"], ","),
    }
