"""Benchmark of the Dataverse Web API of Sales beside p2c's REST API: UpsertMultiple of ``P2C_BENCH_N`` accounts
(default 100,000) 1,000 at a time, a change-tracked read of them in pages of 5,000, the delta link after they all
changed; the REST API's bulk upsert (1,000 a request) and cursor-paged list (1,000 a page) on the same rows.

Run with ``.venv/bin/pytest tests/bench/test_dataverse_bench.py -s -o addopts=""`` (or ``make bench
PYTEST_ARGS="-k dataverse"``); on PostgreSQL with ``DATABASE_URL=postgres://...``. Prints figures; asserts only
what was read and written, never time.
"""

import os
import time

import orjson
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.authtoken.models import Token

from crm.models import Account, SystemUser, TransactionCurrency

N = int(os.environ.get("P2C_BENCH_N", "100000"))
BATCH = 1000
PAGE = 5000
SELECT = "name,accountnumber,telephone1,emailaddress1,address1_line1,address1_city,customertypecode,creditlimit," \
         "_ownerid_value,_transactioncurrencyid_value,modifiedon"


def _targets(start, stop, owner, currency, suffix):
    return [{"@odata.type": "Microsoft.Dynamics.CRM.account", "@odata.id": f"accounts(accountnumber='B-{i:07d}')",
             "name": f"Account {i}{suffix}", "emailaddress1": f"a{i}@example.com", "telephone1": f"+1 555 {i:07d}",
             "address1_line1": f"{i} Main St", "address1_city": "Seattle", "customertypecode": 3,
             "ownerid@odata.bind": f"/systemusers({owner.pk})",
             "transactioncurrencyid@odata.bind": f"/transactioncurrencies({currency.pk})", "creditlimit": 10000}
            for i in range(start, stop)]


def _rest_records(start, stop, owner, currency, suffix):
    return [{"account_number": f"B-{i:07d}", "name": f"Account {i}{suffix}", "emailaddress1": f"a{i}@example.com",
             "telephone1": f"+1 555 {i:07d}", "address1_line1": f"{i} Main St", "address1_city": "Seattle",
             "customer_type_code": "customer", "owner": str(owner.pk), "transaction_currency": str(currency.pk),
             "credit_limit": "10000.00"} for i in range(start, stop)]


def _upsert_multiple(client, headers, owner, currency, suffix):
    started = time.perf_counter()
    for start in range(0, N, BATCH):
        body = orjson.dumps({"Targets": _targets(start, min(start + BATCH, N), owner, currency, suffix)})
        response = client.post("/api/data/v9.2/accounts/Microsoft.Dynamics.CRM.UpsertMultiple", body,
                               content_type="application/json", headers=headers)
        assert response.status_code == 200, response.content[:500]
    return N / (time.perf_counter() - started)


def _read_all(client, url, headers, key):
    started = time.perf_counter()
    rows, link = 0, url
    while True:
        response = client.get(link, headers=headers)
        assert response.status_code == 200, response.content[:500]
        body = orjson.loads(response.content)
        rows += len(body[key])
        following = body.get("@odata.nextLink") or body.get("next")
        if not following:
            return rows, rows / (time.perf_counter() - started), body.get("@odata.deltaLink")
        link = following.replace("http://testserver", "")


def _rest_upsert(client, headers, owner, currency, suffix):
    started = time.perf_counter()
    for start in range(0, N, BATCH):
        body = orjson.dumps(_rest_records(start, min(start + BATCH, N), owner, currency, suffix))
        response = client.post("/api/crm/accounts/bulk/", body, content_type="application/json", headers=headers)
        assert response.status_code == 200, response.content[:500]
    return N / (time.perf_counter() - started)


@pytest.mark.django_db(transaction=True)
def test_bench_dataverse_beside_rest(settings):
    settings.DEBUG = False
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", None)
    token = Token.objects.create(user=user).key
    headers = {"Authorization": f"Token {token}"}
    client = Client()
    owner = SystemUser.objects.create(fullname="Owner")
    currency = TransactionCurrency.objects.create(iso_currency_code="EUR", currency_name="Euro")

    create_rate = _upsert_multiple(client, headers, owner, currency, "")
    tracked = {**headers, "Prefer": f"odata.track-changes,odata.maxpagesize={PAGE}"}
    rows, full_rate, delta_link = _read_all(client, f"/api/data/v9.2/accounts?$select={SELECT}", tracked, "value")
    assert rows == N and delta_link
    update_rate = _upsert_multiple(client, headers, owner, currency, " (renamed)")
    paged = {**headers, "Prefer": f"odata.maxpagesize={PAGE}"}
    rows, delta_rate, _next = _read_all(client, delta_link.replace("http://testserver", ""), paged, "value")
    assert rows == N

    rest_update_rate = _rest_upsert(client, headers, owner, currency, " (again)")
    rows, rest_list_rate, _none = _read_all(client, "/api/crm/accounts/?page_size=1000", headers, "results")
    assert rows == N and Account.objects.count() == N

    from django.db import connection

    print(f"\n[dataverse bench] {connection.vendor}, {N:,} accounts:")
    print(f"  Dataverse UpsertMultiple, 1,000 a request, creating   {create_rate:10,.0f} rows/s")
    print(f"  Dataverse UpsertMultiple, 1,000 a request, updating   {update_rate:10,.0f} rows/s")
    print(f"  REST bulk upsert, 1,000 a request, updating           {rest_update_rate:10,.0f} rows/s")
    print(f"  Dataverse change-tracked read, pages of {PAGE:,}        {full_rate:10,.0f} rows/s")
    print(f"  Dataverse delta link after every row changed          {delta_rate:10,.0f} rows/s")
    print(f"  REST list, cursor pages of 1,000                      {rest_list_rate:10,.0f} rows/s")
