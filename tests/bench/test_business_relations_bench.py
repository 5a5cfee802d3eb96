"""Benchmark (docs/features.md B5, B6): N customers created with their contacts, then every contact's phone changed in
one bulk_update that propagates to the customers. Prints figures; asserts only correctness, never time.

Run: ``make bench PYTEST_ARGS=tests/bench/test_business_relations_bench.py`` (SQLite by default, or
``DATABASE_URL=postgres://...``). ``P2C_BR_BENCH_N`` changes the size (default 20000).
"""

import os
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from erp import business_relations as br
from erp.models import Contact, ContactBusinessRelation, Customer
from tests.erp.business_relations_setup import configure

N = int(os.environ.get("P2C_BR_BENCH_N", "20000"))


def _ours(queries, own_prefix):
    return len([q for q in queries.captured_queries if not q["sql"].startswith(own_prefix)])


@pytest.mark.django_db(transaction=True)
def test_bench_business_relations(settings):
    settings.DEBUG = False
    configure()
    vendor = connection.vendor

    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        for start in range(0, N, 10_000):
            Customer.objects.bulk_create(
                [Customer(no=f"C{i:07d}", name=f"Customer {i}") for i in range(start, min(N, start + 10_000))]
            )
    created = time.perf_counter() - started
    assert ContactBusinessRelation.objects.count() == N
    ours = _ours(queries, 'INSERT INTO "erp_customer"')
    print(f"\n[{vendor}] {N} customers + automatic contacts: {created:.1f}s, "
          f"{ours} queries besides the customers' own INSERTs")

    contacts = list(Contact.objects.all())
    for contact in contacts:
        contact.phone_no = "+47 000"
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        Contact.objects.bulk_update(contacts, ["phone_no"])
    updated = time.perf_counter() - started
    assert Customer.objects.filter(phone_no="+47 000").count() == N
    chunks = -(-N // br.PROPAGATION_CHUNK_SIZE)
    ours = _ours(queries, 'UPDATE "erp_contact"')
    print(f"[{vendor}] bulk_update of {N} contacts propagated to {N} customers: {updated:.1f}s, "
          f"{ours} queries besides the contacts' own UPDATEs = {ours / chunks:.1f} per chunk of "
          f"{br.PROPAGATION_CHUNK_SIZE}")
