"""Benchmark (docs/features.md P3): p2c_upgrade numbers 100,000 contacts imported without a number (NULL), then runs
again and changes nothing. Prints figures; asserts only correctness. Run: ``make bench
PYTEST_ARGS=tests/bench/test_p2c_upgrade_bench.py`` (SQLite by default, or ``DATABASE_URL=postgres://...``).
``P2C_UPGRADE_BENCH_CONTACTS`` changes the size."""

import os
import time

import pytest
from django.db import connection

from crm.models import Contact
from integration.fo.upgrade import p2c_upgrade

CONTACTS = int(os.environ.get("P2C_UPGRADE_BENCH_CONTACTS", "100000"))

pytestmark = pytest.mark.django_db(transaction=True)


def timed(label, fn):
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    print(f"  {label:58} {seconds:8.1f} s")
    return result, seconds


def test_p2c_upgrade_numbers_100000_unnumbered_contacts():
    print(f"\n[p2c_upgrade] {CONTACTS:,} contacts without a number on {connection.vendor}")

    def load():
        Contact.objects.bulk_create([Contact(last_name=f"Legacy {i}") for i in range(CONTACTS)], batch_size=5000)
        Contact.objects.update(contact_number=None)  # as imported: no numbers (NULL, any number of them)

    timed("data: contacts, numbers cleared", load)
    assert Contact.objects.filter(contact_number__isnull=True).count() == CONTACTS
    result, seconds = timed(f"p2c_upgrade numbering {CONTACTS:,} contacts", p2c_upgrade)
    assert result["contacts_numbered"] == CONTACTS
    print(f"      {CONTACTS / seconds:,.0f} contacts numbered per second")
    assert Contact.objects.values("contact_number").distinct().count() == CONTACTS
    again, _ = timed("p2c_upgrade again (nothing to do)", p2c_upgrade)
    assert again["contacts_numbered"] == 0 and again["active_customers_changed"] == 0
