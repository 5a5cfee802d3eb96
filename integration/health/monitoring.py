"""What machines read: readiness and liveness (`/health/`, `/health/live/`) as JSON, and the synchronisation's
figures in Prometheus's text format (`/metrics`).

/health/ answers 200 when ready, 503 when not: every database answers, the broker is reachable, a worker and beat
have been seen within `Heartbeat.ALIVE_WITHIN`. It names only checks, never data, so it is open to
the load balancer. /health/live/ answers 200 as long as the process serves requests.

/metrics is not public: it answers a request bearing ``Authorization: Bearer <P2C_METRICS_TOKEN>``, or one from
an address in ``P2C_METRICS_ALLOWED_IPS`` (addresses or networks, comma-separated; REMOTE_ADDR, so behind a proxy
set the proxy's address or use the token); with neither set it answers nobody (403). Its figures are read from
the database at each scrape by a prometheus-client collector (`SyncCollector`), so every web process answers the
same whatever process did the work (no multiprocess set-up).
"""

import hmac
import ipaddress
import os

from django.db import connections
from django.db.models import DurationField, ExpressionWrapper, F, Sum
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from ..models import SyncJob
from .reads import connection_health, mappings_health

COUNTED = ("inserted", "modified", "deleted", "unchanged", "skipped", "failed", "coupled", "uncoupled")


# -- /health/ ----------------------------------------------------------------------------------------------------------
def readiness():
    """``(ready, checks)``: each check ``{"ok": bool, …}`` (databases, broker, worker, beat)."""
    checks = {}
    for alias in connections:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
            checks[f"database:{alias}"] = {"ok": True}
        except Exception as exc:  # any driver's error: not ready
            checks[f"database:{alias}"] = {"ok": False, "error": exc.__class__.__name__}
    if not checks["database:default"]["ok"]:  # the heartbeats are rows of it
        return False, checks
    connection = connection_health()
    checks["broker"] = {"ok": bool(connection.broker_reachable)}
    last_worker = connection.last_worker_seen
    checks["worker"] = {"ok": connection.workers_alive > 0, "alive": connection.workers_alive,
                        "last_seen": last_worker.isoformat() if last_worker else None,
                        "gone": [_gone(worker) for worker in connection.workers_gone]}
    beat = connection.beat
    checks["beat"] = {"ok": connection.beat_alive, "last_seen": beat.seen_at.isoformat() if beat else None}
    if beat is not None and not connection.beat_alive:
        checks["beat"]["gone"] = [_gone(beat)]
    for name in ("worker", "beat"):
        if not checks[name]["ok"]:
            checks[name]["error"] = _gone_text(name, checks[name].get("gone") or [])
    return all(check["ok"] for check in checks.values()), checks


def _gone(heartbeat):
    """A process gone, as /health/ names it: its name, stopped (it said so) or silent (two heartbeats missed)."""
    return {"name": heartbeat.name, "state": "stopped" if heartbeat.stopped_at else "silent",
            "last_seen": heartbeat.seen_at.isoformat(),
            "stopped_at": heartbeat.stopped_at.isoformat() if heartbeat.stopped_at else None}


def _gone_text(kind, gone):
    """One line for a load balancer's log or a person: ``worker celery@host stopped`` / ``… silent``."""
    if not gone:
        return f"no {kind} seen"
    return "; ".join(f"{kind} {process['name']} {process['state']}" for process in gone)


@require_GET
def health_view(request):
    ready, checks = readiness()
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks,
                         "time": timezone.now().isoformat()}, status=200 if ready else 503)


@require_GET
def liveness_view(request):
    return JsonResponse({"status": "ok"})


# -- /metrics ------------------------------------------------------------------------------------------------------------
def metrics_allowed(request, *, token=None, allowed=None):
    """Whether ``request`` may read /metrics: the bearer token matches ``token`` (P2C_METRICS_TOKEN), or its address
    is in ``allowed`` (P2C_METRICS_ALLOWED_IPS). Neither configured: nobody."""
    token = os.environ.get("P2C_METRICS_TOKEN", "") if token is None else token
    allowed = os.environ.get("P2C_METRICS_ALLOWED_IPS", "") if allowed is None else allowed
    header = request.headers.get("Authorization", "")
    # Compared as bytes: any header a client sends (non-ASCII, binary as WSGI's latin-1 gives it) is simply
    # not the token, never an exception (compare_digest refuses non-ASCII str).
    if token and header.startswith("Bearer ") and hmac.compare_digest(
            header[7:].strip().encode("utf-8", "surrogateescape"), token.encode("utf-8", "surrogateescape")):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    for entry in filter(None, (part.strip() for part in allowed.split(","))):
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue  # a malformed entry allows nobody
    return False


class SyncCollector:
    """The synchronisation's figures, read at each scrape (integration.health.reads's selectors and one grouped query
    on the jobs kept in the log)."""

    def collect(self):
        labels = ["mapping", "direction"]
        records = CounterMetricFamily("p2c_sync_records", "Records handled by the synchronisation jobs kept in the "
                                      "log, by result (falls when the log is cleaned up).", labels=[*labels, "result"])
        jobs = CounterMetricFamily("p2c_sync_jobs", "Synchronisation jobs kept in the log, by status.",
                                   labels=[*labels, "status"])
        duration = CounterMetricFamily("p2c_sync_job_duration_seconds", "Time the finished synchronisation jobs kept "
                                       "in the log took, in seconds.", labels=labels)
        durations = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
        rows = (SyncJob.objects.order_by().filter(type=SyncJob.Type.SYNCHRONIZATION, dry_run=False)
                .values("mapping_name", "direction", "status")
                .annotate(**{name: Sum(name) for name in COUNTED}, took=Sum(durations)))
        took = {}
        for row in rows:
            key = [row["mapping_name"], row["direction"]]
            for name in COUNTED:
                records.add_metric([*key, name], row[name] or 0)
            jobs.add_metric([*key, row["status"]], 1)
            if row["took"] is not None:
                took[tuple(key)] = took.get(tuple(key), 0) + row["took"].total_seconds()
        for key, seconds in took.items():
            duration.add_metric(list(key), seconds)
        yield records
        yield jobs
        yield duration
        yield from self._health()

    def _health(self):
        labels = ["mapping", "direction"]
        gauges = {
            "lag": GaugeMetricFamily("p2c_sync_lag_seconds", "Age of the oldest change not yet synchronised.",
                                     labels=labels),
            "waiting": GaugeMetricFamily("p2c_sync_records_waiting", "Records changed and not yet synchronised.",
                                         labels=labels),
            "failed": GaugeMetricFamily("p2c_sync_records_failing", "Records whose last synchronisation failed.",
                                        labels=labels),
            "skipped": GaugeMetricFamily("p2c_sync_records_skipped", "Records skipped until they change or are "
                                         "restored.", labels=labels),
            "conflicts": GaugeMetricFamily("p2c_sync_conflicts_open", "Coupled pairs waiting in the conflict inbox.",
                                           labels=["mapping"]),
            "last_success": GaugeMetricFamily("p2c_sync_last_job_succeeded", "1 when the last job succeeded, 0 when "
                                              "it failed or ended with errors.", labels=labels),
            "last_time": GaugeMetricFamily("p2c_sync_last_job_timestamp_seconds", "When the last job was created "
                                           "(Unix time).", labels=labels),
        }
        conflicts = {}
        for row in mappings_health():
            key = [row.mapping.name, row.direction]
            if row.waiting is not None:
                gauges["waiting"].add_metric(key, row.waiting)
                gauges["lag"].add_metric(key, row.lag.total_seconds() if row.lag else 0)
            gauges["failed"].add_metric(key, row.failed)
            gauges["skipped"].add_metric(key, row.skipped)
            conflicts[row.mapping.name] = row.conflicts
            if row.last_job is not None:
                gauges["last_success"].add_metric(key, 0 if row.last_failed else 1)
                gauges["last_time"].add_metric(key, row.last_job.created_at.timestamp())
        for name, count in conflicts.items():
            gauges["conflicts"].add_metric([name], count)
        yield from gauges.values()
        connection = connection_health()
        yield GaugeMetricFamily("p2c_connection_enabled", "1 when the connection is enabled.",
                                value=int(connection.enabled))
        yield GaugeMetricFamily("p2c_workers_alive", "Celery workers alive (a heartbeat within the last 25 seconds, not stopped).",
                                value=connection.workers_alive)
        yield GaugeMetricFamily("p2c_beat_alive", "1 when beat is alive (a heartbeat within the last 25 seconds, not stopped).",
                                value=int(connection.beat_alive))
        yield GaugeMetricFamily("p2c_broker_up", "1 when the broker can be reached.",
                                value=int(bool(connection.broker_reachable)))


@require_GET
def metrics_view(request):
    if not metrics_allowed(request):
        return HttpResponse(_("Forbidden: /metrics needs the token of P2C_METRICS_TOKEN (Authorization: Bearer …) "
                              "or an address of P2C_METRICS_ALLOWED_IPS.") + "\n", status=403,
                            content_type="text/plain; charset=utf-8")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SyncCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
