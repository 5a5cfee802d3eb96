"""Benchmark of the REST API: bulk upsert of 100,000 accounts (batches of 1,000) and list pages.

Run with ``.venv/bin/pytest tests/bench/test_api_bench.py -s -o addopts=""`` (or ``make bench``); on PostgreSQL
with ``DATABASE_URL=postgres://...``. Size: ``P2C_BENCH_N`` (default 100000). Prints figures; asserts only
correctness and query counts, never time.
"""

import os
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crm.models import Account, SystemUser, TransactionCurrency

N = int(os.environ.get("P2C_BENCH_N", "100000"))
BATCH = 1000
LIST_REQUESTS = 200


def _records(start, stop, owner, currency, suffix=""):
    return [
        {
            "account_number": f"ACC-{i:07d}", "name": f"Account {i}{suffix}", "emailaddress1": f"a{i}@example.com",
            "telephone1": f"+1 555 {i:07d}", "address1_line1": f"{i} Main St", "address1_city": "Seattle",
            "customer_type_code": "customer", "owner": str(owner.pk), "transaction_currency": str(currency.pk),
            "credit_limit": "10000.00",
        }
        for i in range(start, stop)
    ]


def _upsert_all(client, owner, currency, suffix, expect):
    started = time.perf_counter()
    queries = []
    for start in range(0, N, BATCH):
        payload = _records(start, min(start + BATCH, N), owner, currency, suffix)
        reset_queries()  # the query log keeps 9,000 entries: a full log would count nothing
        with CaptureQueriesContext(connection) as ctx:
            response = client.post("/api/crm/accounts/bulk/", payload, format="json")
        queries.append(len(ctx))
        assert response.status_code == 200
        assert response.data[expect] == len(payload), response.data["results"][:2]
    seconds = time.perf_counter() - started
    return seconds, max(queries)


def _list_rate(client, url, requests):
    started = time.perf_counter()
    next_url, done = url, 0
    while done < requests:
        response = client.get(next_url)
        assert response.status_code == 200
        done += 1
        next_url = response.data.get("next") or url
    return requests / (time.perf_counter() - started)


@pytest.mark.django_db(transaction=True)
def test_bench_api(settings):
    settings.DEBUG = False
    vendor = connection.vendor
    user = get_user_model().objects.create_superuser(
        "bench", "bench@example.com", None
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    owner = SystemUser.objects.create(fullname="Owner")
    currency = TransactionCurrency.objects.create(iso_currency_code="EUR", currency_name="Euro")

    create_s, create_q = _upsert_all(client, owner, currency, "", "created")
    update_s, update_q = _upsert_all(client, owner, currency, " (renamed)", "updated")
    same_s, same_q = _upsert_all(client, owner, currency, " (renamed)", "unchanged")
    assert Account.objects.count() == N

    first_page_rate = _list_rate(client, "/api/crm/accounts/", LIST_REQUESTS)
    # Walk deep: follow next links from the start for LIST_REQUESTS pages (page 1 .. 200 of 1,000).
    walk = min(LIST_REQUESTS, N // 100 - 1)
    started = time.perf_counter()
    url, pages = "/api/crm/accounts/", 0
    while url and pages < walk:
        response = client.get(url)
        url, pages = response.data["next"], pages + 1
    walk_rate = pages / (time.perf_counter() - started)
    reset_queries()
    with CaptureQueriesContext(connection) as ctx:
        deep = client.get(url)
    deep_queries = len(ctx.captured_queries)
    assert deep.status_code == 200 and len(deep.data["results"]) == 100
    filtered_rate = _list_rate(
        client, "/api/crm/accounts/?customer_type_code=customer&modified_after=2000-01-01T00:00:00Z", LIST_REQUESTS
    )
    small_rate = _list_rate(client, "/api/erp/payment-terms/", LIST_REQUESTS)

    print(f"\n[api bench] {vendor}, {N:,} accounts, bulk upsert in batches of {BATCH}:")
    print(f"  create    {N / create_s:10,.0f} rows/s  ({create_s:6.1f} s, at most {create_q} queries per batch)")
    print(f"  update    {N / update_s:10,.0f} rows/s  ({update_s:6.1f} s, at most {update_q} queries per batch)")
    print(f"  unchanged {N / same_s:10,.0f} rows/s  ({same_s:6.1f} s, at most {same_q} queries per batch)")
    print(f"  list page of 100 (first page, repeated)  {first_page_rate:8.1f} requests/s")
    print(f"  list pages 1-{walk} following cursors    {walk_rate:8.1f} requests/s "
          f"(page {walk + 1}: {deep_queries} queries)")
    print(f"  filtered list page (type + modified_after) {filtered_rate:8.1f} requests/s")
    print(f"  small page-numbered list (payment terms)   {small_rate:8.1f} requests/s")
