"""RecordQuerySet.bulk_update writes through UPDATE … FROM (VALUES …): every type of field, the right rows."""

import uuid
from datetime import date
from decimal import Decimal

import pytest

from crm.models import Account, Contact, SystemUser
from erp.models import Customer, SalespersonPurchaser

pytestmark = pytest.mark.django_db


def test_bulk_update_writes_each_row_its_own_values_of_every_type():
    owner = SystemUser.objects.create(fullname="Owner")
    accounts = Account.objects.bulk_create([Account(name=f"A{i}") for i in range(1203)])
    before = {a.pk: a.modifiedon for a in Account.objects.all()}
    for i, account in enumerate(accounts):
        account.name = f"Renamed {i} «quoted» 'x'"
        account.credit_limit = Decimal(i) / 4
        account.owner = owner if i % 2 else None
        account.number_of_employees = i or None
        account.credit_on_hold = bool(i % 3)

    ghost = Account(id=uuid.uuid4(), name="Never written")
    count = Account.objects.bulk_update([*accounts, ghost], ["name", "credit_limit", "owner", "number_of_employees",
                                                             "credit_on_hold"])

    assert count == 1203  # the ghost, not in the table, counts nothing
    assert not Account.objects.filter(pk=ghost.pk).exists()
    stored = {a.pk: a for a in Account.objects.all()}
    for i, account in enumerate(accounts):
        row = stored[account.pk]
        assert row.name == f"Renamed {i} «quoted» 'x'"
        assert row.credit_limit == Decimal(i) / 4
        assert row.owner_id == (owner.pk if i % 2 else None)
        assert row.number_of_employees == (i or None)
        assert row.credit_on_hold == bool(i % 3)
        assert row.modifiedon > before[account.pk]


def test_bulk_update_of_erp_rows_and_derived_fields():
    salesperson = SalespersonPurchaser.objects.create(code="SP", name="S")
    customers = Customer.objects.bulk_create([Customer(no=f"C{i}", name=f"c{i}") for i in range(20)])
    for customer in customers:
        customer.name = customer.name.upper() + " ab"
        customer.salesperson = salesperson
    assert Customer.objects.bulk_update(customers, ["name", "salesperson"]) == 20
    row = Customer.objects.get(no="C3")
    assert (row.name, row.search_name, row.salesperson_id) == ("C3 ab", "C3 AB", salesperson.pk)


def test_bulk_update_keeps_contact_constraints_and_unknown_rows_count_nothing():
    account = Account.objects.create(name="Co")
    contacts = Contact.objects.bulk_create([Contact(last_name=f"L{i}") for i in range(5)])
    for contact in contacts:
        contact.parent_account = account
        contact.first_name = "F"
    ghost = Contact(id=uuid.uuid4(), last_name="Ghost")
    assert Contact.objects.bulk_update([*contacts, ghost], ["parent_account", "first_name"]) == 5
    assert all(c.is_company_an_account and c.full_name.startswith("F L") for c in Contact.objects.all())


def test_bulk_update_with_dates(db):
    from crm.models import Opportunity

    opportunities = Opportunity.objects.bulk_create([Opportunity(name=f"O{i}") for i in range(3)])
    for i, opportunity in enumerate(opportunities):
        opportunity.estimated_close_date = date(2027, 1, i + 1)
    Opportunity.objects.bulk_update(opportunities, ["estimated_close_date"])
    assert sorted(Opportunity.objects.values_list("estimated_close_date", flat=True)) == [
        date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3)]
