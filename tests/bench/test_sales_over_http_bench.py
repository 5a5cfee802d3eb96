"""Benchmark (docs/decisions.md#sales-over-http): the CUSTOMER mapping's first load with Sales over HTTP (a p2c process
serving the Dataverse Web API over HTTPS, `DataverseSide`) beside the same with Sales in this process's database(s), in
one run.

N Sales accounts → ERP customers, then the N customers → new Sales accounts (a full run), each way: seconds, rows a
second and, over HTTP, requests per 1,000 rows. Then settled runs (requests), and 1,000 rows changed on each side.
Each run also prints the CPU seconds per 1,000 rows of this process (the client), of the server's processes and of
the PostgreSQL backends of the run's databases, and the requests the server answered, by kind (its access log): on
a loaded machine these say more than the seconds.

    DATABASE_URL=postgres://… .venv/bin/pytest tests/bench/test_sales_over_http_bench.py -s -o addopts="" -p no:cacheprovider

With ``SALES_DATABASE_URL`` as well the local shape is "two databases" (and the server serves Sales from it).
``P2C_BENCH_N`` changes the size (default 10000); ``P2C_BENCH_SERVER_WORKERS`` the server's gunicorn workers (1);
``P2C_BENCH_HTTP_ONLY=1`` leaves out the local shape; ``P2C_BENCH_PYSPY=<folder>`` (with ``PYSPY``, py-spy's path)
records each run of client and server as collapsed stacks, ``P2C_BENCH_PROFILE=<folder>`` the client's main thread
with cProfile. Prints figures; asserts only that every run wrote every
row."""

import os
import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from crm.models import Account
from erp.models import Customer
from integration.engine.sides import sales_transport
from integration.engine.sides.dataverse_http import configured
from integration.engine.sync import mapping_synchronize
from integration.models import Coupling, SideCursor
from p2c.databases import sales_separate
from tests.bench.customers_world import accounts_create, customer_mapping_alone
from tests.integration.sales_api.server import CLIENT_ID, CLIENT_SECRET, serving

N = int(os.environ.get("P2C_BENCH_N", "10000"))
CHANGED = 1000  # accounts changed in Sales, customers in the ERP, after the loads: an ordinary run each way
# The server writes a line per request (gunicorn's access log): the requests of a run counted by kind
# As in production: no DEBUG (which keeps every query's SQL), connections to the database kept between requests
SERVER_ENV = {"GUNICORN_CMD_ARGS": "--access-logfile=- --access-logformat='served %(m)s %(U)s %(s)s'",
              "DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "bench", "DATABASE_CONN_MAX_AGE": "600"}
SERVER_WORKERS = int(os.environ.get("P2C_BENCH_SERVER_WORKERS", "1"))
_GUID = re.compile(r"\(?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\)?")


class Meter:
    """CPU seconds of this process (the client) and of the server's processes, and the server's requests by kind."""

    def __init__(self, served=None):
        self.served, self.offset = served, 0
        self.client = self.server = 0.0
        self.kinds = Counter()
        self.runs = 0
        self.read()

    def _server_cpu(self):
        if self.served is None:
            return 0.0
        master = self.served.process.process.pid
        pids = [master] + [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
        ticks = 0
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def spy(self, name):
        """With P2C_BENCH_PYSPY (a folder), py-spy records this process and the server's worker (collapsed stacks)."""
        folder = os.environ.get("P2C_BENCH_PYSPY")
        if not folder or self.served is None:
            return []
        master = self.served.process.process.pid
        worker = int(Path(f"/proc/{master}/task/{master}/children").read_text().split()[0])
        return [subprocess.Popen([os.environ.get("PYSPY", "py-spy"), "record", "--pid", str(pid), "--rate", "100",
                                  "--format", "raw", "--nonblocking", "--threads", "-o", f"{folder}/{name}-{who}.txt"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for who, pid in (("client", os.getpid()), ("server", worker))]

    @staticmethod
    def _database_cpu():
        """CPU seconds of the PostgreSQL backends on this run's databases (the server keeps its connections:
        DATABASE_CONN_MAX_AGE), or 0 on SQLite."""
        from django.db import connections

        names = {connections[alias].settings_dict["NAME"] for alias in connections
                 if connections[alias].vendor == "postgresql"}
        if not names:
            return 0.0
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = ANY(%s)", [list(names)])
            pids = [pid for (pid,) in cursor.fetchall()]
        ticks = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def read(self):
        """(client CPU s, server CPU s, Counter of requests by kind) since the last read; the databases' CPU
        since the last read in ``self.database_spent``."""
        database = self._database_cpu()
        self.database_spent, self.database = database - getattr(self, "database", database), database
        client, server = time.process_time(), self._server_cpu()
        kinds = Counter()
        if self.served is not None:
            log = self.served.process.log_file
            self.served.process.log.flush()
            with open(log) as text:
                text.seek(self.offset)
                for line in text:
                    if line.startswith("served "):
                        _, method, path, status = line.split()
                        path = _GUID.sub("(id)", path.split("/api/data/v9.2/")[-1])
                        kinds[f"{method} {path} {status}"] += 1
                self.offset = text.tell()
        spent = (client - self.client, server - self.server, kinds)
        self.client, self.server = client, server
        return spent

pytestmark = pytest.mark.django_db(transaction=True)


def _run(mapping, direction, meter, **options):
    mapping.refresh_from_db()
    transport = sales_transport(configured()) if configured() else None
    before = transport.requests_sent if transport else 0
    meter.read()
    meter.runs += 1
    spies = meter.spy(f"{meter.runs}-{direction}")
    profile = _profiler()
    started = time.perf_counter()
    [job] = mapping_synchronize(mapping=mapping, direction=direction, **options)
    seconds = time.perf_counter() - started
    if profile is not None:
        profile.disable()
        profile.dump_stats(f"{os.environ['P2C_BENCH_PROFILE']}/{meter.runs}-{direction}-client.prof")
    for spy in spies:
        spy.send_signal(signal.SIGINT)
        spy.wait()
    client, server, kinds = meter.read()
    assert job.status == "success", (job.message, job.counts())
    rows = job.inserted + job.modified
    per = 1000 / rows if rows else 1  # a settled run: its own CPU seconds
    print(f"  {direction}: {seconds:.2f} s, {rows} rows; CPU {'per 1,000 rows' if rows else 's'}: "
          f"client {client * per:.3f}, server {server * per:.3f}, PostgreSQL {meter.database_spent * per:.3f}; "
          f"requests {dict(kinds)}")
    return seconds, rows, (transport.requests_sent - before) if transport else None


def _profiler():
    """With P2C_BENCH_PROFILE (a folder), cProfile of this process's run (its main thread), one file a run."""
    if not os.environ.get("P2C_BENCH_PROFILE"):
        return None
    import cProfile

    profile = cProfile.Profile()
    profile.enable()
    return profile


def _first_loads(mapping, meter):
    """(Sales → ERP, ERP → Sales, settled Sales → ERP, settled ERP → Sales, the one after, `CHANGED` accounts
    changed → ERP, `CHANGED` customers changed → Sales): (seconds, rows written, requests)."""
    for model in (Coupling, Customer, Account, SideCursor):
        model.objects.all()._raw_delete(model.objects.db)
    mapping.__class__.objects.filter(pk=mapping.pk).update(erp_watermark=None, crm_watermark=None,
                                                           crm_deletions_checked_on=None, erp_deletions_checked_on=None)
    accounts_create(N)
    to_erp = _run(mapping, "from_integration", meter)
    assert to_erp[1] == N
    settled_from = _run(mapping, "from_integration", meter)
    Account.objects.filter(pk__in=list(Account.objects.order_by("pk").values_list("pk", flat=True)[:CHANGED])) \
        .update(name=Concat(F("name"), Value(" changed")), **{Account.MODIFIED_FIELD: timezone.now()})
    changed_from = _run(mapping, "from_integration", meter)
    assert changed_from[1] == min(CHANGED, N)
    for model in (Coupling, Account, SideCursor):
        model.objects.all()._raw_delete(model.objects.db)
    to_sales = _run(mapping, "to_integration", meter, full=True)
    assert to_sales[1] == N and Account.objects.count() == N
    settled_to = _run(mapping, "to_integration", meter)
    # The run after takes the change-tracking stream from the end of the first load's own writes on
    settled_again = _run(mapping, "to_integration", meter)
    changed = min(CHANGED, N)
    Customer.objects.filter(pk__in=list(Customer.objects.order_by("pk").values_list("pk", flat=True)[:changed])) \
        .update(name=Concat(F("name"), Value(" changed")), modified_at=timezone.now())
    changed_to = _run(mapping, "to_integration", meter)
    assert changed_to[1] == changed
    return to_erp, to_sales, settled_from, settled_to, settled_again, changed_from, changed_to


def test_bench_first_load_over_http_beside_the_database(tmp_path, monkeypatch):
    mapping = customer_mapping_alone()
    local = "two databases" if sales_separate() else "one database"
    # P2C_BENCH_HTTP_ONLY=1: over HTTP alone (while working on it)
    figures = {} if os.environ.get("P2C_BENCH_HTTP_ONLY") else {local: _first_loads(mapping, Meter())}
    with serving(tmp_path, env=SERVER_ENV, workers=SERVER_WORKERS) as served:
        for name, value in {"SALES_API_URL": served.base, "SALES_API_TOKEN_URL": f"{served.base}/o/token/",
                            "SALES_API_CLIENT_ID": CLIENT_ID, "SALES_API_CLIENT_SECRET": CLIENT_SECRET,
                            "SSL_CERT_FILE": served.ca_file}.items():
            monkeypatch.setenv(name, value)
        figures["over HTTP (DataverseSide)"] = _first_loads(mapping, Meter(served))
    print(f"\n| CUSTOMER, N={N:,} | accounts → customers | customers → accounts | settled runs (requests) "
          f"| {CHANGED:,} accounts changed → customers | {CHANGED:,} customers changed → accounts |")
    print("|---|---|---|---|---|---|")
    for shape, (to_erp, to_sales, settled_from, settled_to, settled_again, changed_from, changed_to) in figures.items():
        cells = []
        for seconds, rows, requests in (to_erp, to_sales, changed_from, changed_to):
            per = f", {requests * 1000 / rows:.1f} requests / 1,000 rows" if requests is not None else ""
            cells.append(f"{seconds:.1f} s ({rows / seconds:,.0f} rows/s{per})")
        settled = (f"from {settled_from[2]}, to {settled_to[2]} then {settled_again[2]}"
                   if settled_from[2] is not None else f"{settled_from[0]:.2f} s, {settled_to[0]:.2f} s")
        print(f"| {shape} | {cells[0]} | {cells[1]} | {settled} | {cells[2]} | {cells[3]} |")
