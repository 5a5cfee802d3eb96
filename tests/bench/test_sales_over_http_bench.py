"""Benchmark (docs/decisions.md#sales-over-http): the CUSTOMER mapping's first load with Sales over HTTP (a p2c process
serving the Dataverse Web API over HTTPS, `DataverseSide`) beside the same with Sales in this process's database(s), in
one run.

N Sales accounts → ERP customers, then the N customers → new Sales accounts (a full run), each way: seconds, rows a
second and, over HTTP, requests per 1,000 rows. Then a settled run each way: requests.

    DATABASE_URL=postgres://… .venv/bin/pytest tests/bench/test_sales_over_http_bench.py -s -o addopts="" -p no:cacheprovider

With ``SALES_DATABASE_URL`` as well the local shape is "two databases" (and the server serves Sales from it).
``P2C_BENCH_N`` changes the size (default 10000). Prints figures; asserts only that every run wrote every row.
"""

import os
import time

import pytest

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

pytestmark = pytest.mark.django_db(transaction=True)


def _run(mapping, direction, **options):
    mapping.refresh_from_db()
    transport = sales_transport(configured()) if configured() else None
    before = transport.requests_sent if transport else 0
    started = time.perf_counter()
    [job] = mapping_synchronize(mapping=mapping, direction=direction, **options)
    seconds = time.perf_counter() - started
    assert job.status == "success", (job.message, job.counts())
    return seconds, job.inserted, (transport.requests_sent - before) if transport else None


def _first_loads(mapping):
    """(Sales → ERP, ERP → Sales, settled Sales → ERP, settled ERP → Sales): (seconds, rows written, requests)."""
    for model in (Coupling, Customer, Account, SideCursor):
        model.objects.all()._raw_delete(model.objects.db)
    mapping.__class__.objects.filter(pk=mapping.pk).update(erp_watermark=None, crm_watermark=None,
                                                           crm_deletions_checked_on=None, erp_deletions_checked_on=None)
    accounts_create(N)
    to_erp = _run(mapping, "from_integration")
    assert to_erp[1] == N
    settled_from = _run(mapping, "from_integration")
    for model in (Coupling, Account, SideCursor):
        model.objects.all()._raw_delete(model.objects.db)
    to_sales = _run(mapping, "to_integration", full=True)
    assert to_sales[1] == N and Account.objects.count() == N
    settled_to = _run(mapping, "to_integration")
    return to_erp, to_sales, settled_from, settled_to


def test_bench_first_load_over_http_beside_the_database(tmp_path, monkeypatch):
    mapping = customer_mapping_alone()
    local = "two databases" if sales_separate() else "one database"
    figures = {local: _first_loads(mapping)}
    with serving(tmp_path) as served:
        for name, value in {"SALES_API_URL": served.base, "SALES_API_TOKEN_URL": f"{served.base}/o/token/",
                            "SALES_API_CLIENT_ID": CLIENT_ID, "SALES_API_CLIENT_SECRET": CLIENT_SECRET,
                            "SSL_CERT_FILE": served.ca_file}.items():
            monkeypatch.setenv(name, value)
        figures["over HTTP (DataverseSide)"] = _first_loads(mapping)
    print(f"\n| CUSTOMER, N={N:,} | accounts → customers | customers → accounts | settled runs (requests) |")
    print("|---|---|---|---|")
    for shape, (to_erp, to_sales, settled_from, settled_to) in figures.items():
        cells = []
        for seconds, rows, requests in (to_erp, to_sales):
            per = f", {requests * 1000 / rows:.1f} requests / 1,000 rows" if requests is not None else ""
            cells.append(f"{seconds:.1f} s ({rows / seconds:,.0f} rows/s{per})")
        settled = (f"from {settled_from[2]}, to {settled_to[2]}" if settled_from[2] is not None
                   else f"{settled_from[0]:.2f} s, {settled_to[0]:.2f} s")
        print(f"| {shape} | {cells[0]} | {cells[1]} | {settled} |")
