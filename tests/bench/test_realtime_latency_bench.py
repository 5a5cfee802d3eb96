"""Benchmark (docs/decisions.md#sales-over-http): near-real-time both ways with Sales reached over HTTP, under a steady
stream of changes on each side. How long from a commit on one side to its arrival on the other?

Real processes, as `make run-two` runs them: a p2c serving Sales's Dataverse Web API (gunicorn over HTTPS,
tests/integration/sales_api/server.py), and the ERP's integration as a Celery worker and beat (bin/worker-and-beat)
reaching it through ``SALES_API_*``, the CUSTOMER mapping with *Synchronise Changes Within Seconds*. Two writer
processes (tests/bench/latency_writer.py) change ``P2C_BENCH_LATENCY_RATE`` records a second each (default 10) for
``P2C_BENCH_LATENCY_SECONDS`` (default 20; the figure of record is 120): Sales accounts through the Sales instance's Web
API as another user, ERP customers by ``save()`` as an ERP user. Each change is a new name (its marker), on a record
changed once; this process watches the other side's rows for the marker (every `WATCH_SECONDS`).

ERP → Sales: the commit enqueues the change's synchronisation (P2C_REALTIME_DELAY_SECONDS later). Sales → ERP: beat
polls Sales's delta link every ``P2C_SALES_POLL_SECONDS`` and enqueues what changed at once. Prints, per direction, the
changes, p50/p95/max of the latency, the part of it that is waiting by design (the countdown; for Sales → ERP half the
poll interval on average), the realtime jobs (runs, records a run, seconds a run), the lost
changes, the requests the integration made to Sales a second (the server's access log, the writer's own left out)
and while idle after the run, the CPU seconds of the server, the worker and beat, and the load average. Asserts
only that no change was lost.

    DATABASE_URL=postgres://… CELERY_BROKER_URL=redis://127.0.0.1:6379/N \\
        make bench PYTEST_ARGS="-k latency"      # P2C_BENCH_LATENCY_SECONDS=120 for the figure of record

``P2C_BENCH_SERVER_WORKERS``: the server's gunicorn workers (default 4); ``P2C_BENCH_WORKER_CONCURRENCY``: the Celery
worker's processes (default 2, as `make run-two`); ``P2C_BENCH_LATENCY_GRACE``: seconds to wait for the last arrivals
after the writers end (default 120). Needs PostgreSQL (the processes share the test database) and a Redis broker.
"""

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from crm.models import Account
from erp.models import Customer
from integration.engine.sync import mapping_synchronize
from integration.models import ConnectionSetup, Coupling, SideCursor, SyncJob
from tests.bench.customers_world import accounts_create, customer_mapping_alone
from tests.concurrency import REPO, child_database_env
from tests.integration.sales_api.server import CLIENT_ID, CLIENT_SECRET, OTHER_ID, OTHER_SECRET, serving

pytestmark = pytest.mark.django_db(transaction=True)

SECONDS = float(os.environ.get("P2C_BENCH_LATENCY_SECONDS", "20"))
RATE = float(os.environ.get("P2C_BENCH_LATENCY_RATE", "10"))
GRACE = float(os.environ.get("P2C_BENCH_LATENCY_GRACE", "120"))
SERVER_WORKERS = int(os.environ.get("P2C_BENCH_SERVER_WORKERS", "4"))
CONCURRENCY = int(os.environ.get("P2C_BENCH_WORKER_CONCURRENCY", "2"))
WATCH_SECONDS = 0.25  # how often this process looks for arrivals: the latencies are this much coarse
SERVER_ENV = {"GUNICORN_CMD_ARGS": "--access-logfile=- --access-logformat='served %(m)s %(U)s %(s)s %(a)s' "
                                    "-c python:tests.bench.latency_sales_gunicorn",
              "DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "bench", "DATABASE_CONN_MAX_AGE": "600"}
WRITER = Path(__file__).with_name("latency_writer.py")


def cpu_seconds(pid):
    """CPU seconds (user + system) of ``pid`` and its live descendants, with what their finished children spent."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(int(child)) for child in children)


def server_requests(log_file, offset):
    """(requests by kind the integration sent, next offset): the server's access log from ``offset``, the writer's
    requests left out."""
    kinds = Counter()
    with open(log_file) as text:
        text.seek(offset)
        for line in text:
            if line.startswith("served ") and "latency-writer" not in line:
                _, method, path, status, *_ = line.split()
                kinds[f"{method} {path.split('/api/data/v9.2/')[-1].split('(')[0]} {status}"] += 1
        return kinds, text.tell()


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))] if ordered else float("nan")


def test_bench_realtime_latency_both_ways_over_http(tmp_path, monkeypatch):
    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("needs PostgreSQL (processes sharing the test database) and a Redis broker")
    count = int(SECONDS * RATE)  # changes on each side, each on a record of its own
    mapping = customer_mapping_alone()
    # The Sales instance shares the test database, so it would see the mapping: its near-real-time hook is left
    # unconnected (latency_sales_gunicorn.py), and anything it enqueued would go to a broker of its own that nobody
    # reads. As a Sales on its own database, it tells the ERP nothing: the poll does
    server_env = {**SERVER_ENV, "CELERY_BROKER_URL": "filesystem://", "P2C_VAR_DIR": str(tmp_path / "sales-var")}
    (tmp_path / "sales").mkdir()
    with serving(tmp_path / "sales", env=server_env, workers=SERVER_WORKERS) as served:
        remote = {"SALES_API_URL": served.base, "SALES_API_TOKEN_URL": f"{served.base}/o/token/",
                  "SALES_API_CLIENT_ID": CLIENT_ID, "SALES_API_CLIENT_SECRET": CLIENT_SECRET,
                  "SSL_CERT_FILE": served.ca_file}
        for name, value in remote.items():
            monkeypatch.setenv(name, value)
        # The records: accounts made customers over HTTP (coupled), then both ways settled
        accounts_create(2 * count)
        for direction in ("from_integration", "to_integration", "from_integration"):
            [job] = mapping_synchronize(mapping=mapping, direction=direction)
            assert job.status == "success", job.message
        assert Coupling.objects.filter(erp_model="erp.Customer").count() == 2 * count
        mapping.realtime_sync = True
        mapping.save()
        ConnectionSetup.objects.filter(pk=1).update(is_enabled=True)
        pairs = list(Coupling.objects.filter(erp_model="erp.Customer").order_by("crm_id").values_list("crm_id",
                                                                                                      "erp_id"))
        sales_changes = [[str(crm_id), f"LAT-S{i:05d}"] for i, (crm_id, _) in enumerate(pairs[:count])]
        erp_changes = [[str(erp_id), f"LAT-E{i:05d}"] for i, (_, erp_id) in enumerate(pairs[count:])]

        # The ERP's integration: a worker and beat, as `make run-two` starts them
        from p2c.celery import app

        app.control.purge()
        env = {**os.environ, **child_database_env(), **remote, "CELERY_TASK_ALWAYS_EAGER": "false",
               "PYTHONUNBUFFERED": "1", "DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "bench",
               "P2C_VAR_DIR": str(tmp_path / "erp"), "BIN": str(Path(sys.executable).parent)}
        (tmp_path / "erp").mkdir()
        worker_log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 (closed below)
        worker = subprocess.Popen([str(REPO / "bin" / "worker-and-beat"), f"--concurrency={CONCURRENCY}",
                                   "--without-gossip", "--without-mingle"], cwd=REPO, env=env,
                                  stdout=worker_log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 180
            while not SideCursor.objects.filter(table_mapping=mapping, name="crm_poll").exists():
                assert worker.poll() is None and time.monotonic() < deadline, (
                    f"the first poll did not come:\n{(tmp_path / 'worker.log').read_text()[-3000:]}")
                time.sleep(0.5)
            figures = _stream(tmp_path, served, env, sales_changes, erp_changes, worker)
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
            worker_log.close()
            app.control.purge()
    _print(figures)
    lost = {name: figure["lost"] for name, figure in figures["directions"].items()}
    assert not any(lost.values()), f"changes that never arrived: {lost}"


def _stream(tmp_path, served, env, sales_changes, erp_changes, worker):
    """Run the two writers, watch the arrivals, and return the figures."""
    writers = {}
    writer_env = {**env, "LATENCY_SALES_URL": served.base, "LATENCY_CA_FILE": served.ca_file,
                  "LATENCY_CLIENT_ID": OTHER_ID, "LATENCY_CLIENT_SECRET": OTHER_SECRET}
    _, offset = server_requests(served.process.log_file, 0)
    server_pid = served.process.process.pid
    cpu_before = {"server": cpu_seconds(server_pid), "worker and beat": cpu_seconds(worker.pid)}
    load_before = os.getloadavg()
    started = time.time()
    for side, changes in (("sales", sales_changes), ("erp", erp_changes)):
        (tmp_path / f"{side}-changes.json").write_text(json.dumps(changes))
        writers[side] = subprocess.Popen([sys.executable, str(WRITER), side, str(tmp_path / f"{side}-changes.json"),
                                          str(tmp_path / f"{side}-out.json"), str(RATE)], cwd=REPO, env=writer_env,
                                         stderr=subprocess.PIPE, text=True)
    expected = {"Sales → ERP": {m for _, m in sales_changes}, "ERP → Sales": {m for _, m in erp_changes}}
    seen = {name: {} for name in expected}
    written_until = None
    while True:
        now = time.time()
        for name, model in (("Sales → ERP", Customer), ("ERP → Sales", Account)):
            prefix = "LAT-S" if model is Customer else "LAT-E"
            for marker in model.objects.filter(name__startswith=prefix).values_list("name", flat=True):
                seen[name].setdefault(marker, now)
        if written_until is None and all(w.poll() is not None for w in writers.values()):
            written_until = time.time()
            requests_written, offset = server_requests(served.process.log_file, offset)
        if all(len(seen[n]) == len(expected[n]) for n in expected) and written_until is not None:
            break
        if written_until is not None and time.time() - written_until > GRACE:
            break
        assert worker.poll() is None, f"the worker stopped:\n{(tmp_path / 'worker.log').read_text()[-3000:]}"
        time.sleep(WATCH_SECONDS)
    arrived_at = time.time()
    requests_after, offset = server_requests(served.process.log_file, offset)
    cpu = {"server": cpu_seconds(server_pid) - cpu_before["server"],
           "worker and beat": cpu_seconds(worker.pid) - cpu_before["worker and beat"]}
    load_after = os.getloadavg()
    # Settled: the requests of the polls while nothing changes
    idle = float(os.environ.get("P2C_BENCH_LATENCY_IDLE", "15"))
    time.sleep(idle)
    requests_idle, _ = server_requests(served.process.log_file, offset)

    directions = {}
    for (name, side), writer in zip((("Sales → ERP", "sales"), ("ERP → Sales", "erp")), writers.values(), strict=True):
        assert writer.returncode == 0, writer.stderr.read()
        out = json.loads((tmp_path / f"{side}-out.json").read_text())
        committed = out["committed"]
        latencies = [seen[name][m] - t for m, t in committed.items() if m in seen[name]]
        jobs = SyncJob.objects.filter(mapping_name="CUSTOMER", direction="from_integration" if side == "sales"
                                      else "to_integration", created_at__gte=_aware(started))
        runs = [(j.finished_at - j.started_at).total_seconds() for j in jobs if j.finished_at and j.started_at]
        records = [j.modified + j.inserted + j.unchanged + j.skipped + j.failed for j in jobs]
        directions[name] = {
            "changes": len(committed), "failed writes": len(out["failed"]), "write seconds": out["seconds"],
            "lost": len([m for m in committed if m not in seen[name]]),
            "p50": statistics.median(latencies) if latencies else float("nan"),
            "p95": percentile(latencies, 0.95), "max": max(latencies, default=float("nan")),
            "jobs": len(runs), "records a job": statistics.mean(records) if records else 0,
            "job seconds p50": statistics.median(runs) if runs else 0, "job seconds max": max(runs, default=0),
        }
    return {"directions": directions, "load": (load_before, load_after), "cpu": cpu,
            "writing": written_until - started, "until arrived": arrived_at - started,
            "requests": requests_written + requests_after, "requests idle": requests_idle, "idle": idle}


def _aware(timestamp):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, tz=UTC)


def _print(figures):
    poll = settings.P2C_SALES_POLL_SECONDS
    delay = settings.P2C_REALTIME_DELAY_SECONDS
    load = " → ".join(f"{one[0]:.1f}" for one in figures["load"])
    print(f"\nNear-real-time over HTTP: {RATE:g} changes a second on each side for {SECONDS:g} s; poll every "
          f"{poll:g} s, countdown {delay:g} s; server {SERVER_WORKERS} gunicorn workers, worker concurrency "
          f"{CONCURRENCY}; load average (1 min) {load}")
    print("| direction | changes | p50 s | p95 s | max s | waiting by design (mean) s | lost | jobs | records a job "
          "| job s p50 / max |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, d in figures["directions"].items():
        waiting = poll / 2 if name.startswith("Sales") else delay  # a poll's changes go without the countdown
        print(f"| {name} | {d['changes']} ({d['failed writes']} failed, written in {d['write seconds']:.0f} s) "
              f"| {d['p50']:.1f} | {d['p95']:.1f} | {d['max']:.1f} | {waiting:.1f} | {d['lost']} | {d['jobs']} "
              f"| {d['records a job']:.1f} | {d['job seconds p50']:.2f} / {d['job seconds max']:.2f} |")
    total = sum(figures["requests"].values())
    print(f"Requests of the integration to Sales: {total} in {figures['until arrived']:.0f} s "
          f"({total / figures['until arrived']:.1f} a second): {dict(figures['requests'])}")
    idle = sum(figures["requests idle"].values())
    print(f"Settled: {idle} requests in {figures['idle']:g} s ({idle / figures['idle']:.2f} a second; one a poll): "
          f"{dict(figures['requests idle'])}")
    print("CPU seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in figures["cpu"].items())
          + f" (over {figures['until arrived']:.0f} s)")
