"""Benchmark (docs/features.md P3, P2, P6): the prospect-to-cash projects over 100,000 Sales contacts. Prints figures;
asserts only correctness, never time. Run: ``make bench PYTEST_ARGS=tests/bench/test_fo_bench.py`` (SQLite by default, or
``DATABASE_URL=postgres://...``). ``P2C_FO_BENCH_CONTACTS`` changes the size."""

import os
import time

import pytest
from django.db import connection

from crm.models import Account, Contact, Quote, SystemUser
from erp.models import (
    BusinessRelation,
    Customer,
    MarketingSetup,
    NoSeries,
    SalesReceivablesSetup,
)
from erp.models import Contact as ErpContact
from integration.fo.projects import project_run_execute, project_run_start
from integration.fo.templates import (
    ACCOUNTS_TEMPLATE,
    CONTACT_TO_CUSTOMER_TEMPLATE,
    CONTACTS_TEMPLATE,
    fo_templates_install,
    project_create,
)
from integration.fo.upgrade import p2c_upgrade
from integration.models import ConnectionSetup, IntegrationTemplate

CONTACTS = int(os.environ.get("P2C_FO_BENCH_CONTACTS", "100000"))
ACCOUNTS = max(CONTACTS // 50, 1)

pytestmark = pytest.mark.django_db(transaction=True)


def setup_erp():
    customers = NoSeries.objects.create(code="CUST", starting_no="C000010", increment_by=10)
    contacts = NoSeries.objects.create(code="CONT", starting_no="CT0000010", increment_by=10)
    sales = SalesReceivablesSetup.get_solo()
    sales.customer_nos = customers
    sales.save()
    marketing = MarketingSetup.get_solo()
    marketing.contact_nos = contacts
    marketing.bus_rel_code_for_customers = BusinessRelation.objects.create(code="CUST")
    marketing.save()
    setup = ConnectionSetup.get_solo()
    setup.integration_user = SystemUser.objects.create(fullname="Integration", access_mode="integration")
    setup.is_enabled = True
    setup.save()


def make_data():
    """ACCOUNTS accounts; CONTACTS contacts: 20 % active customers (a quote each), 60 % under an account,
    10 % under a contact, 10 % without company."""
    accounts = Account.objects.bulk_create(
        [Account(name=f"Company {i}", customer_type_code="customer", address1_country=("SE", "NO", "US")[i % 3],
                 address1_city="Stockholm") for i in range(ACCOUNTS)], batch_size=2000)
    parents = Contact.objects.bulk_create([Contact(last_name=f"Parent {i}") for i in range(10)])
    rows = []
    for i in range(CONTACTS - len(parents)):
        kind = i % 10
        contact = Contact(first_name="Ann", last_name=f"Person {i}", emailaddress1=f"p{i}@example.com",
                          address1_country="SE", address1_city="Stockholm")
        if kind < 8:
            contact.parent_account = accounts[i % len(accounts)]
        elif kind == 8:
            contact.parent_contact = parents[i % len(parents)]
        rows.append(contact)
    for start in range(0, len(rows), 5000):
        Contact.objects.bulk_create(rows[start:start + 5000])
    active = [c for i, c in enumerate(rows) if i % 5 == 0]
    for start in range(0, len(active), 5000):
        Quote.objects.bulk_create([Quote(name=f"Q {c.pk}", customer_contact=c) for c in active[start:start + 5000]])
    return len(active)


def timed(label, fn):
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    print(f"  {label:58} {seconds:8.1f} s")
    return result, seconds


def run(project, **kwargs):
    return project_run_execute(run_id=project_run_start(project=project, **kwargs).pk)


def describe(run_):
    for t in run_.task_runs.all():
        rate = ""
        if t.started_at and t.finished_at and t.read:
            rate = f", {t.read / max((t.finished_at - t.started_at).total_seconds(), 1e-9):,.0f} rows/s"
        print(f"      {t.task_name}: {t.message}{rate}")


def test_fo_projects_over_100000_contacts():
    print(f"\n[F&O prospect to cash] {CONTACTS:,} contacts, {ACCOUNTS:,} accounts on {connection.vendor}")
    setup_erp()
    fo_templates_install()
    projects = {
        key: project_create(template=IntegrationTemplate.objects.get(name=name), name=key)
        for key, name in (("accounts", ACCOUNTS_TEMPLATE), ("contacts", CONTACTS_TEMPLATE),
                          ("customers", CONTACT_TO_CUSTOMER_TEMPLATE))
    }
    active, _ = timed("data: accounts, contacts, quotes", make_data)

    # p2c_upgrade: Is Active Customer over every contact (numbers: test_p2c_upgrade_bench.py).
    Contact.objects.update(is_active_customer=False)
    result, _ = timed("p2c_upgrade (flags from sales activity)", lambda: p2c_upgrade())
    assert result["active_customers"] == active
    _, _ = timed("p2c_upgrade again (idempotent: nothing to do)", lambda: p2c_upgrade())

    accounts_run, _ = timed("project Accounts (first run)", lambda: run(projects["accounts"]))
    describe(accounts_run)
    contacts_run, contacts_s = timed("project Contacts (first run)", lambda: run(projects["contacts"]))
    describe(contacts_run)
    customers_run, customers_s = timed("project Contacts to Customer (first run)",
                                       lambda: run(projects["customers"]))
    describe(customers_run)
    persons = ErpContact.objects.filter(type="person", externally_maintained=True).count()
    expected_persons = sum(1 for i in range(CONTACTS - 10) if i % 10 < 8 and i % 5 != 0)
    assert persons == expected_persons
    assert Customer.objects.filter(contact_type="person").count() == active
    print(f"      ERP contact persons {persons:,}; person customers {active:,}")
    print(f"      contacts routed per second (both tasks): {(persons + active) / (contacts_s + customers_s):,.0f}")

    time.sleep(1.2)  # past the engine's one-second watermark margin
    changed = list(Contact.objects.filter(is_active_customer=False, parent_account__isnull=False)
                   .order_by("pk").values_list("pk", flat=True)[: CONTACTS // 100])
    Contact.objects.filter(pk__in=changed).update(job_title="Buyer")
    again, _ = timed(f"project Contacts again (incremental, {len(changed):,} changed)",
                     lambda: run(projects["contacts"]))
    describe(again)
    assert again.task_runs.get().upserted == len(changed)
    assert again.task_runs.get().read == len(changed)
    full, _ = timed("project Contacts re-run (full: every row read)", lambda: run(projects["contacts"], full=True))
    describe(full)
    assert full.task_runs.get().upserted == 0 and full.task_runs.get().unchanged == persons
    assert ErpContact.objects.filter(type="person", externally_maintained=True).count() == persons

