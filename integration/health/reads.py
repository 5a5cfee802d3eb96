"""The integration's health, read: what the health page, `sync_health`, /health/, /metrics and the alerts show.

Selector functions only (no writes, no door): per table mapping and direction the last run and its result, the lag
(age of the oldest change not yet synchronised), the records waiting, failed and skipped, the conflicts open and the
rows per second of the last full run; for the connection, the workers' and beat's heartbeats and the broker; and
the figures the charts draw (jobs per hour, records synchronised per day).

Every read costs a constant number of queries whatever the size of the log: the last jobs are found by subqueries
on the index (table_mapping, direction, -created_at), the counts are grouped in SQL, and the charts read only the
jobs of their window through the index on created_at. The records waiting are counted on each mapping's source
table (one query per mapping and direction, through the index on the modified stamp), never joined with the
integration's tables: Sales may live in a database of its own.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from p2c.utils import chunked

from ..engine.filters import filter_validate
from ..engine.reading import RETRY_BATCH
from ..full_sync.partitions_progress import partitions_progress_of
from ..models import (
    ConnectionSetup,
    Coupling,
    Direction,
    FailedInsert,
    Heartbeat,
    IntegrationTableMapping,
    SyncJob,
    SyncResult,
    ValueMap,
)
from ..operations.conflict_inbox import conflicts_per_mapping

CHART_HOURS = 24  # jobs per hour: the last day
CHART_DAYS = 7  # records synchronised per day: the last week
SUCCEEDED = (SyncJob.Status.SUCCESS,)
FAILED = (SyncJob.Status.ERROR, SyncJob.Status.FAILED)
# What a run examined: every counter but the coupling ones (the rows per second of a full run).
ROWS_EXAMINED = ("inserted", "modified", "deleted", "unchanged", "skipped", "failed")
RECORDS_SYNCHRONISED = ("inserted", "modified", "deleted")
WAITING_SCAN = 10_000  # Sales rows changed since the watermark read to count those waiting (then: at least this)

# A direction's source side: ERP → Sales reads the ERP, Sales → ERP reads Sales.
SOURCE_SIDE = {Direction.TO_INTEGRATION: "erp", Direction.FROM_INTEGRATION: "crm"}
SHORT_DIRECTION = {Direction.TO_INTEGRATION: gettext_lazy("ERP → Sales"),
                   Direction.FROM_INTEGRATION: gettext_lazy("Sales → ERP")}
# The coupling's result of the last write *into* the direction's destination.
RESULT_FIELD = {Direction.TO_INTEGRATION: "last_crm_result", Direction.FROM_INTEGRATION: "last_erp_result"}


@dataclass
class DirectionHealth:
    """One mapping in one direction, as the health page's row shows it."""

    mapping: IntegrationTableMapping
    direction: str
    last_job: SyncJob | None = None
    last_full_job: SyncJob | None = None
    full_rows_per_second: int | None = None
    waiting: int | None = None  # None: the source cannot be read (an invalid filter, a table without stamps)
    oldest_waiting: object = None  # the modified stamp of the oldest change not yet synchronised
    lag: timedelta | None = None
    failed: int = 0
    skipped: int = 0
    conflicts: int = 0  # of the mapping, both directions
    jobs_per_hour: list = field(default_factory=list)  # [(hour, succeeded, failed)], CHART_HOURS of them
    records_per_day: list = field(default_factory=list)  # [(day, records)], CHART_DAYS of them

    @property
    def direction_label(self):
        """"ERP → Sales" or "Sales → ERP" (the short words of a table's column)."""
        return str(SHORT_DIRECTION[self.direction])

    @property
    def last_failed(self):
        return self.last_job is not None and self.last_job.status in FAILED

    @property
    def healthy(self):
        return not self.last_failed


@dataclass
class ConnectionHealth:
    """The connection as a whole: enabled, the workers' and beat's heartbeats, the broker."""

    enabled: bool
    workers: list  # Heartbeat rows of the workers, each with .alive
    beat: Heartbeat | None
    broker_reachable: bool | None  # None: not asked
    now: object = None
    # Sales over the Dataverse Web API (docs/decisions.md#sales-over-http): a dataverse_http.RemoteHealth, or None
    # (Sales is a database here, or not asked)
    sales_api: object = None

    @property
    def workers_alive(self):
        return sum(1 for worker in self.workers if worker.alive)

    @property
    def beat_alive(self):
        return self.beat is not None and self.beat.alive

    @property
    def last_worker_seen(self):
        return max((w.seen_at for w in self.workers), default=None)

    @property
    def workers_gone(self):
        """The workers not alive that were seen within `Heartbeat.GONE_SHOWN`, the last seen first: each stopped
        (it said so) or silent (two heartbeats missed: killed, crashed, or its machine gone)."""
        now = self.now or timezone.now()
        return [w for w in self.workers if not w.alive and w.seen_at >= now - Heartbeat.GONE_SHOWN]


def heartbeats_read(*, now=None):
    """``(workers, beat)``: the workers' heartbeat rows, newest first, and beat's newest row (or None); each with
    ``alive`` set (seen within `Heartbeat.ALIVE_WITHIN` of ``now``). One query."""
    now = now or timezone.now()
    rows = list(Heartbeat.objects.order_by("-seen_at"))
    for row in rows:
        row.alive = row.alive_at(now)
    workers = [row for row in rows if row.kind == Heartbeat.Kind.WORKER]
    beat = next((row for row in rows if row.kind == Heartbeat.Kind.BEAT), None)
    return workers, beat


def connection_health(*, now=None, broker=True):
    """The connection's health; ``broker``: ask the broker too (a connection, up to a couple of seconds)."""
    now = now or timezone.now()
    workers, beat = heartbeats_read(now=now)
    reachable = None
    if broker:
        from ..queue import broker_reachable  # the queue is the one module that talks to Celery

        reachable = broker_reachable()
    sales_api = None
    if broker:  # what asks other systems over the network
        from ..engine.sides.dataverse_http import remote_health

        sales_api = remote_health()
    return ConnectionHealth(enabled=ConnectionSetup.get_solo().is_enabled, workers=workers, beat=beat,
                            broker_reachable=reachable, now=now, sales_api=sales_api)


def _last_job_subquery(direction, **filters):
    return Subquery(SyncJob.objects.filter(
        table_mapping=OuterRef("pk"), direction=direction, type=SyncJob.Type.SYNCHRONIZATION, dry_run=False, **filters,
    ).order_by("-created_at", "-id").values("pk")[:1])


def _mappings_with_last_jobs():
    """The mappings, each annotated with the ids of its last job and last full job of each direction (one query,
    a subquery each on the index (table_mapping, direction, -created_at))."""
    annotations = {}
    for direction in SOURCE_SIDE:
        annotations[f"last_{direction}"] = _last_job_subquery(direction)
        annotations[f"last_full_{direction}"] = _last_job_subquery(
            direction, full=True, status__in=(*SUCCEEDED, *FAILED), finished_at__isnull=False)
    return list(IntegrationTableMapping.objects.annotate(**annotations))


def _rows_per_second(job, progress):
    """The rows a finished full run examined per second: its partitions' figure, else its counts over its time."""
    if job is None:
        return None
    if progress:
        return progress["rows_per_second"]
    if not (job.started_at and job.finished_at):
        return None
    seconds = (job.finished_at - job.started_at).total_seconds()
    rows = sum(getattr(job, name) for name in ROWS_EXAMINED)
    return round(rows / seconds) if seconds > 0 else None


def _failed_and_skipped():
    """``{(erp model, crm model, direction): (failed, skipped)}``: the couplings whose last write into the
    direction's destination failed (skipped ones counted apart), and the records that could not be created on the
    other side (two grouped queries)."""
    counts = defaultdict(lambda: [0, 0])
    aggregates = {}
    for direction, result in RESULT_FIELD.items():
        failure = Q(**{result: SyncResult.FAILURE})
        aggregates[f"failed_{direction}"] = Count("pk", filter=failure & Q(skipped=False))
        aggregates[f"skipped_{direction}"] = Count("pk", filter=failure & Q(skipped=True))
    rows = (Coupling.objects.order_by().filter(Q(last_erp_result=SyncResult.FAILURE)
                                               | Q(last_crm_result=SyncResult.FAILURE) | Q(skipped=True))
            .values("erp_model", "crm_model").annotate(**aggregates))
    for row in rows:
        for direction in SOURCE_SIDE:
            pair = counts[(row["erp_model"], row["crm_model"], direction)]
            pair[0] += row[f"failed_{direction}"]
            pair[1] += row[f"skipped_{direction}"]
    inserts = (FailedInsert.objects.order_by().values("erp_model", "crm_model", "direction")
               .annotate(failed=Count("pk", filter=Q(skipped=False)), skipped=Count("pk", filter=Q(skipped=True))))
    for row in inserts:
        pair = counts[(row["erp_model"], row["crm_model"], row["direction"])]
        pair[0] += row["failed"]
        pair[1] += row["skipped"]
    return counts


@dataclass
class RecordCounts:
    """What the records of one mapping in one direction are now: coupled, failing, skipped (`record_counts`)."""

    coupled: int = 0
    failed: int = 0
    skipped: int = 0


def record_counts(mappings=None):
    """``{(mapping pk, direction): RecordCounts}`` of ``mappings`` (default: all), each direction they run: the
    one count the health page, ``sync_status`` and the full synchronisation review read.

    A mapping of records: its couplings, and per direction the records whose last write failed or that could not
    be created, skipped ones apart (`_failed_and_skipped`). An option mapping (ERP codes ↔ a Sales option set,
    engine/options.py) has no couplings: its codes coupled are the entries of its value map, and its skipped codes
    (matching no option) those its last run skipped. A constant number of queries."""
    mappings = list(IntegrationTableMapping.objects.all() if mappings is None else mappings)
    failures = _failed_and_skipped()
    coupled = {(row["erp_model"], row["crm_model"]): row["n"] for row in
               Coupling.objects.order_by().values("erp_model", "crm_model").annotate(n=Count("pk"))}
    options = [m for m in mappings if m.is_option_mapping]
    entries, last_jobs = {}, {}
    if options:
        entries = dict(ValueMap.objects.filter(name__in=[m.name for m in options])
                       .annotate(n=Count("entries")).values_list("name", "n"))
        last = SyncJob.objects.filter(table_mapping=OuterRef("pk"), finished_at__isnull=False).order_by("-created_at")
        last_jobs = SyncJob.objects.in_bulk([pk for pk in IntegrationTableMapping.objects.filter(
            pk__in=[m.pk for m in options]).annotate(job=Subquery(last.values("pk")[:1])).values_list("job", flat=True)
            if pk])
        last_jobs = {job.table_mapping_id: job for job in last_jobs.values()}
    counts = {}
    for mapping in mappings:
        for direction in mapping.directions():
            if mapping.is_option_mapping:
                job = last_jobs.get(mapping.pk)
                counts[(mapping.pk, direction)] = RecordCounts(
                    coupled=entries.get(mapping.name, 0), failed=job.failed if job else 0,
                    skipped=job.skipped if job else 0)
            else:
                failed, skipped = failures.get((mapping.erp_model, mapping.crm_model, direction), (0, 0))
                counts[(mapping.pk, direction)] = RecordCounts(
                    coupled=coupled.get((mapping.erp_model, mapping.crm_model), 0), failed=failed, skipped=skipped)
    return counts


def _waiting(mapping, direction, integration_user_id):
    """``(count, oldest stamp)`` of the source rows whose change the direction has not synchronised yet;
    ``(None, None)`` for an option mapping (no records of its own) or a source that cannot be read so.

    The rows in the mapping's filter changed since the direction's watermark (all of them when it never ran), less
    those whose coupling already holds that change (a run's own writes on the ERP side), and with *Synch. Only
    Coupled Records* less the uncoupled ones. Sales rows last written by the integration user are its own writes.
    The ERP side is one query (the couplings as subqueries: ERP and integration tables share a database); the
    Sales side is never joined with the integration's tables: its first `WAITING_SCAN` changed rows are read, then
    their couplings (a count past that is a lower bound)."""
    if mapping.is_option_mapping:
        return None, None
    side = SOURCE_SIDE[direction]
    try:
        model = mapping.erp_model_class() if side == "erp" else mapping.crm_model_class()
        stamp = model.MODIFIED_FIELD
        queryset = model._default_manager.filter(filter_validate(model, getattr(mapping, f"{side}_filter")))
    except (ValidationError, AttributeError):
        return None, None
    watermark = getattr(mapping, f"{side}_watermark")
    if watermark is not None:
        queryset = queryset.filter(**{f"{stamp}__gt": watermark})
    pair = {"erp_model": mapping.erp_model, "crm_model": mapping.crm_model}
    if side == "erp":
        couplings = Coupling.objects.filter(**pair, erp_id=OuterRef("pk"))
        queryset = queryset.exclude(Exists(couplings.filter(last_synced_erp_modified__gte=OuterRef(stamp))))
        if mapping.sync_only_coupled:
            queryset = queryset.filter(Exists(couplings))
        figures = queryset.order_by().aggregate(n=Count("pk"), oldest=Min(stamp))
        return figures["n"], figures["oldest"]
    writer = getattr(model, "MODIFIED_BY_FIELD", None)
    if writer and integration_user_id is not None:
        queryset = queryset.exclude(**{f"{writer}_id": integration_user_id})
    changed = list(queryset.order_by(stamp, "pk").values_list("pk", stamp)[:WAITING_SCAN])
    synced = {}
    for ids in chunked([pk for pk, _stamp in changed], RETRY_BATCH):
        synced.update(Coupling.objects.filter(**pair, crm_id__in=ids).values_list("crm_id", "last_synced_crm_modified"))
    waiting = [when for pk, when in changed
               if not (pk in synced and synced[pk] is not None and synced[pk] >= when)
               and (pk in synced or not mapping.sync_only_coupled)]
    return len(waiting), (waiting[0] if waiting else None)


def _hours(now):
    last = now.replace(minute=0, second=0, microsecond=0)
    return [last - timedelta(hours=i) for i in range(CHART_HOURS - 1, -1, -1)]


def _days(now):
    last = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return [last - timedelta(days=i) for i in range(CHART_DAYS - 1, -1, -1)]


def chart_figures(*, now=None):
    """The charts' figures per mapping name and direction: ``(jobs per hour, records per day)``, where jobs per
    hour is ``{(name, direction): {hour: [succeeded, failed]}}`` over the last `CHART_HOURS` hours and records per
    day ``{(name, direction): {day: records inserted, modified or deleted}}`` over the last `CHART_DAYS` days. Two
    grouped queries on the jobs of their window (index on created_at)."""
    now = now or timezone.now()
    jobs = SyncJob.objects.order_by().filter(type=SyncJob.Type.SYNCHRONIZATION, dry_run=False)
    per_hour = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    rows = (jobs.filter(created_at__gte=_hours(now)[0])
            .annotate(hour=TruncHour("created_at", tzinfo=timezone.get_current_timezone()))
            .values("mapping_name", "direction", "hour")
            .annotate(succeeded=Count("pk", filter=Q(status__in=SUCCEEDED)),
                      failed=Count("pk", filter=Q(status__in=FAILED))))
    for row in rows:
        figures = per_hour[(row["mapping_name"], row["direction"])][row["hour"]]
        figures[0] += row["succeeded"]
        figures[1] += row["failed"]
    per_day = defaultdict(lambda: defaultdict(int))
    rows = (jobs.filter(created_at__gte=_days(now)[0])
            .annotate(day=TruncDay("created_at", tzinfo=timezone.get_current_timezone()))
            .values("mapping_name", "direction", "day")
            .annotate(records=Sum(F("inserted") + F("modified") + F("deleted"))))
    for row in rows:
        per_day[(row["mapping_name"], row["direction"])][row["day"]] += row["records"] or 0
    return per_hour, per_day


def mappings_health(*, now=None, waiting=True):
    """A `DirectionHealth` per table mapping (in their order) and direction it runs, child mappings included.

    Queries: a constant number for the log (last jobs, the jobs they name, partitions, failures, conflicts, the
    charts), plus one per mapping and direction on its source table for the records waiting (``waiting=False``
    leaves those out)."""
    now = now or timezone.now()
    mappings = _mappings_with_last_jobs()
    job_ids = {getattr(m, f"{prefix}_{d}") for m in mappings for d in SOURCE_SIDE for prefix in ("last", "last_full")}
    jobs = SyncJob.objects.in_bulk([pk for pk in job_ids if pk])
    full_jobs = [jobs[getattr(m, f"last_full_{d}")] for m in mappings for d in SOURCE_SIDE
                 if getattr(m, f"last_full_{d}")]
    progress = partitions_progress_of(full_jobs)
    counts = record_counts(mappings)
    conflicts = conflicts_per_mapping()
    per_hour, per_day = chart_figures(now=now)
    integration_user_id = ConnectionSetup.get_solo().integration_user_id if waiting else None
    hours, days = _hours(now), _days(now)
    result = []
    for mapping in mappings:
        for direction in mapping.directions():
            if direction not in SOURCE_SIDE:
                continue
            full_job = jobs.get(getattr(mapping, f"last_full_{direction}"))
            records = counts.get((mapping.pk, direction)) or RecordCounts()
            failed, skipped = records.failed, records.skipped
            row = DirectionHealth(
                mapping=mapping, direction=direction, last_job=jobs.get(getattr(mapping, f"last_{direction}")),
                last_full_job=full_job,
                full_rows_per_second=_rows_per_second(full_job, progress.get(getattr(full_job, "pk", None))),
                failed=failed, skipped=skipped, conflicts=conflicts.get(mapping.pk, 0),
                jobs_per_hour=[(h, *per_hour[(mapping.name, direction)].get(h, (0, 0))) for h in hours],
                records_per_day=[(d, per_day[(mapping.name, direction)].get(d, 0)) for d in days],
            )
            if waiting:
                row.waiting, row.oldest_waiting = _waiting(mapping, direction, integration_user_id)
                row.lag = (now - row.oldest_waiting) if row.oldest_waiting else timedelta(0)
            result.append(row)
    return result


def totals_per_hour(rows):
    """[(hour, succeeded, failed)] of every row together (the connection's chart)."""
    if not rows:
        return []
    hours = [point[0] for point in rows[0].jobs_per_hour]
    sums = {h: [0, 0] for h in hours}
    for row in rows:
        for hour, succeeded, failed in row.jobs_per_hour:
            sums[hour][0] += succeeded
            sums[hour][1] += failed
    return [(h, *sums[h]) for h in hours]


def totals_per_day(rows):
    """[(day, records)] of every row together."""
    if not rows:
        return []
    days = [point[0] for point in rows[0].records_per_day]
    sums = dict.fromkeys(days, 0)
    for row in rows:
        for day, records in row.records_per_day:
            sums[day] += records
    return [(d, sums[d]) for d in days]


@dataclass
class HealthSummary:
    """Everything the health page, `sync_health` and /metrics show, read at ``now``."""

    now: object
    connection: ConnectionHealth
    rows: list  # DirectionHealth

    def problems(self, *, max_lag=None):
        """What a person should act on, as (kind, mapping name or None, data): the connection disabled, no worker
        or beat alive, the broker unreachable, a mapping direction whose last job failed, and with ``max_lag`` (a
        timedelta) one whose lag passed it. `sync_health`'s exit code follows it."""
        found = []
        if not self.connection.enabled:
            found.append(("disabled", None, {}))
        if not self.connection.workers_alive:
            gone = self.connection.workers_gone
            found.append(("no_worker", None, {"last_seen": self.connection.last_worker_seen,
                                              "gone": gone[0] if gone else None}))
        if not self.connection.beat_alive:
            found.append(("no_beat", None, {"last_seen": getattr(self.connection.beat, "seen_at", None),
                                            "stopped_at": getattr(self.connection.beat, "stopped_at", None)}))
        if self.connection.broker_reachable is False:
            found.append(("no_broker", None, {}))
        if self.connection.sales_api is not None and not self.connection.sales_api.reachable:
            found.append(("no_sales_api", None, {"url": self.connection.sales_api.url,
                                                  "message": self.connection.sales_api.message}))
        for row in self.rows:
            if row.last_failed:
                found.append(("job_failed", row.mapping.name, {"direction": row.direction, "job": row.last_job}))
            if max_lag is not None and row.lag is not None and row.lag > max_lag:
                found.append(("lag", row.mapping.name, {"direction": row.direction, "lag": row.lag}))
        return found


def health_summary(*, now=None, broker=True, waiting=True):
    """The integration's health at ``now`` (see `HealthSummary`)."""
    now = now or timezone.now()
    return HealthSummary(now=now, connection=connection_health(now=now, broker=broker),
                         rows=mappings_health(now=now, waiting=waiting))


def problem_text(kind, mapping_name, data, *, now=None):
    """The sentence a person reads for one of `HealthSummary.problems`."""
    now = now or timezone.now()
    seen = data.get("last_seen")
    ago = timesince(seen, now) if seen else None
    if kind == "disabled":
        return _("The connection is disabled.")
    if kind == "no_worker":
        gone = data.get("gone")
        if gone is not None and gone.stopped_at:
            return _("No worker alive: %(name)s stopped %(ago)s ago.") % {
                "name": gone.name, "ago": timesince(gone.stopped_at, now)}
        if gone is not None:
            return _("No worker alive: %(name)s was last seen %(ago)s ago (killed or crashed?).") % {
                "name": gone.name, "ago": ago}
        return (_("No worker alive: the last was seen %(ago)s ago.") % {"ago": ago} if ago
                else _("No worker has been seen."))
    if kind == "no_beat" and data.get("stopped_at"):
        return _("Beat (the scheduler) stopped %(ago)s ago.") % {"ago": timesince(data["stopped_at"], now)}
    if kind == "no_beat":
        return (_("Beat (the scheduler) is not alive: last seen %(ago)s ago.") % {"ago": ago} if ago
                else _("Beat (the scheduler) has not been seen."))
    if kind == "no_broker":
        return _("The broker cannot be reached.")
    if kind == "no_sales_api":
        return _("Sales's Web API at %(url)s does not answer: %(message)s") % data
    direction = SHORT_DIRECTION[data["direction"]]
    if kind == "job_failed":
        job = data["job"]
        return _("%(mapping)s (%(direction)s): the last job #%(job)s ended %(status)s: %(message)s") % {
            "mapping": mapping_name, "direction": direction, "job": job.pk, "status": job.get_status_display(),
            "message": job.message_text or "-"}
    return _("%(mapping)s (%(direction)s): %(lag)s behind.") % {
        "mapping": mapping_name, "direction": direction, "lag": timesince(now - data["lag"], now)}
