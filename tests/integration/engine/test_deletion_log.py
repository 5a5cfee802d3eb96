"""A run into Sales learns which coupled accounts were deleted from Sales' deletion log (p2c.deletions) since it last
checked, not by asking Sales for every coupled key nor, in one database, by an anti-join of every coupling
(docs/decisions.md#write-paths: a settled run costs what changed, not what exists). A run into the ERP does the same
with the ERP's log.

CI's PostgreSQL pass has Sales in a database of its own, the SQLite pass one database. Each test runs twice: with
the databases as configured, and with the reading module treating Sales as another database (so that the path
across databases runs in both passes). What the log cannot answer is compared in full: one anti-join in one
database, every coupled key across two.
"""

from datetime import timedelta

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.models import Account, DeletedRecord
from erp.models import Customer
from erp.models import DeletedRecord as ErpDeletedRecord
from integration.engine import reading
from integration.engine.sides import django as django_side
from integration.engine.sync import mapping_synchronize
from integration.models import Coupling, IntegrationTableMapping
from p2c.databases import sales_separate

TO = "to_integration"
FROM = "from_integration"


@pytest.fixture(params=["as configured", "Sales apart"])
def sales_apart(request, monkeypatch, customer_mapping):
    if request.param == "Sales apart" and not sales_separate():
        monkeypatch.setattr(django_side, "same_database",
                            lambda *models: len({m._meta.app_label == "crm" for m in models}) <= 1)
    customer_mapping.deletion_conflict_resolution = IntegrationTableMapping.DeletionConflictResolution.REMOVE_COUPLING
    customer_mapping.save()
    return customer_mapping


def customers(n, salesperson, start=0):
    return Customer.objects.bulk_create([Customer(no=f"D{i:05d}", name=f"Customer {i}", salesperson=salesperson)
                                         for i in range(start, start + n)])


def run(mapping, direction=TO, **kwargs):
    mapping.refresh_from_db()
    [job] = mapping_synchronize(mapping=mapping, direction=direction, **kwargs)
    mapping.refresh_from_db()
    return job


def account_of(customer):
    return Account.objects.get(pk=Coupling.objects.get(erp_model="erp.Customer", erp_id=customer.pk).crm_id)


def queries_of(mapping):
    """The number of queries a run of ``mapping`` sends, all databases together."""
    with (CaptureQueriesContext(connections["default"]) as erp,
          CaptureQueriesContext(connections[Account.objects.db]) as sales):
        run(mapping)
    return len(erp) + (len(sales) if sales.connection is not erp.connection else 0)


def test_a_settled_run_costs_the_same_whatever_the_number_of_couplings(sales_apart, salesperson_pair, monkeypatch):
    monkeypatch.setattr(reading, "RETRY_BATCH", 5)  # comparing every coupled key would take a query per 5
    salesperson, _ = salesperson_pair
    customers(10, salesperson)
    run(sales_apart)
    few = queries_of(sales_apart)
    customers(40, salesperson, start=10)
    run(sales_apart)

    many = queries_of(sales_apart)

    assert Coupling.objects.filter(erp_model="erp.Customer").count() == 50
    assert many == few


def test_an_account_deleted_in_sales_is_found_by_the_next_run(sales_apart, salesperson_pair):
    salesperson, _ = salesperson_pair
    gone, kept = customers(2, salesperson)
    run(sales_apart)

    account_of(gone).delete()
    job = run(sales_apart)

    assert job.uncoupled == 1, job.counts()  # the mapping's resolution: remove the coupling
    assert list(Coupling.objects.filter(erp_model="erp.Customer").values_list("erp_id", flat=True)) == [kept.pk]


def test_a_deletion_committed_after_the_last_check_began_is_still_read(sales_apart, salesperson_pair):
    salesperson, _ = salesperson_pair
    [late] = customers(1, salesperson)
    run(sales_apart)
    account_of(late).delete()
    # Logged when its transaction wrote it, five minutes before the last check began, committed after that check
    DeletedRecord.objects.update(deleted_on=sales_apart.crm_deletions_checked_on - timedelta(minutes=5))

    assert run(sales_apart).uncoupled == 1


def test_the_run_compares_every_key_when_the_log_cannot_answer(sales_apart, salesperson_pair):
    salesperson, _ = salesperson_pair
    first, second = customers(2, salesperson)
    run(sales_apart)
    # A delete the ORM does not see (raw SQL) leaves no entry: while the log answers, it is not found...
    unlogged = Account.objects.filter(pk=account_of(first).pk)
    unlogged._raw_delete(unlogged.db)
    assert run(sales_apart).uncoupled == 0
    # ... but a mapping that last checked before the log's retention compares every coupled key
    IntegrationTableMapping.objects.filter(pk=sales_apart.pk).update(
        crm_deletions_checked_on=timezone.now() - DeletedRecord.RETENTION - timedelta(days=1))
    assert run(sales_apart).uncoupled == 1
    # ... as does one that never checked
    unlogged = Account.objects.filter(pk=account_of(second).pk)
    unlogged._raw_delete(unlogged.db)
    IntegrationTableMapping.objects.filter(pk=sales_apart.pk).update(crm_deletions_checked_on=None)
    assert run(sales_apart).uncoupled == 1


def test_the_check_moves_to_the_start_of_each_complete_run(sales_apart, salesperson_pair):
    salesperson, _ = salesperson_pair
    customers(1, salesperson)
    before = timezone.now()

    job = run(sales_apart)
    assert before <= sales_apart.crm_deletions_checked_on <= job.started_at

    checked = sales_apart.crm_deletions_checked_on
    run(sales_apart, dry_run=True)
    assert sales_apart.crm_deletions_checked_on == checked  # a dry run writes nothing, this time included
    later = run(sales_apart)
    assert sales_apart.crm_deletions_checked_on == later.started_at > checked


# -- into the ERP: the ERP's log ------------------------------------------------------------------------------------
def accounts(n, owner):
    return Account.objects.bulk_create([Account(name=f"Account {i}", account_number=f"S{i:05d}", owner=owner,
                                                customer_type_code="customer") for i in range(n)])


def customer_of(account):
    return Customer.objects.get(pk=Coupling.objects.get(crm_model="crm.Account", crm_id=account.pk).erp_id)


def test_a_customer_deleted_in_the_erp_is_found_by_the_next_run_from_the_erps_log(sales_apart, salesperson_pair):
    _, user = salesperson_pair
    gone, kept = accounts(2, user)
    run(sales_apart, FROM)

    customer_of(gone).delete()
    assert list(ErpDeletedRecord.objects.values_list("model", flat=True)) == ["erp.Customer"]
    job = run(sales_apart, FROM)

    assert job.uncoupled == 1, job.counts()  # the mapping's resolution: remove the coupling
    assert list(Coupling.objects.filter(erp_model="erp.Customer").values_list("crm_id", flat=True)) == [kept.pk]
    assert sales_apart.erp_deletions_checked_on == job.started_at  # the next run reads the log from there


def test_a_run_into_the_erp_compares_every_key_only_when_the_erps_log_cannot_answer(sales_apart, salesperson_pair):
    _, user = salesperson_pair
    [account] = accounts(1, user)
    run(sales_apart, FROM)
    unlogged = Customer.objects.filter(pk=customer_of(account).pk)
    unlogged._raw_delete(unlogged.db)  # unseen by the log: a run that trusts the log does not find it...

    assert run(sales_apart, FROM).uncoupled == 0
    IntegrationTableMapping.objects.filter(pk=sales_apart.pk).update(erp_deletions_checked_on=None)
    assert run(sales_apart, FROM).uncoupled == 1  # ... one that never checked compares every coupled key
