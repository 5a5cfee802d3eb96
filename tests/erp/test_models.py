"""ERP models (docs/features.md E1-E16): modified_at on every write path, derived fields, constraints, setup
singletons."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from erp.models import (
    BankAccount,
    Contact,
    Customer,
    Item,
    MarketingSetup,
    Resource,
    SalespersonPurchaser,
    SalesReceivablesSetup,
    Vendor,
)
from tests.factories import (
    BankAccountFactory,
    CustomerFactory,
    ErpContactFactory,
    ItemFactory,
    ResourceFactory,
    SalesHeaderFactory,
    SalesLineFactory,
    SalespersonPurchaserFactory,
    VendorFactory,
)
from tests.records_helpers import make_old, rows_written

pytestmark = pytest.mark.django_db


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


@pytest.fixture(params=[CustomerFactory, ItemFactory, ErpContactFactory], ids=["customer", "item", "contact"])
def old_record(request):
    record = request.param()
    long_ago = timezone.now() - timedelta(days=30)
    type(record).objects.filter(pk=record.pk).update(modified_at=long_ago)
    record.refresh_from_db()
    assert record.modified_at == long_ago
    return record


def test_modified_at_moves_on_save(old_record):
    before = old_record.modified_at
    old_record.save()
    assert reload(old_record).modified_at > before


def test_modified_at_moves_on_save_with_update_fields(old_record):
    before = old_record.modified_at
    old_record.save(update_fields=["blocked"] if isinstance(old_record, Item) else ["phone_no"])
    assert reload(old_record).modified_at > before


def test_modified_at_moves_on_queryset_update(old_record):
    before = old_record.modified_at
    type(old_record).objects.filter(pk=old_record.pk).update(system_id=old_record.system_id)
    assert reload(old_record).modified_at > before


def test_modified_at_moves_on_bulk_update(old_record):
    before = old_record.modified_at
    type(old_record).objects.bulk_update([old_record], ["system_id"])
    assert reload(old_record).modified_at > before


def test_modified_at_is_set_on_bulk_create():
    before = timezone.now()
    (item,) = Item.objects.bulk_create([Item(no="BULK-1", description="Bulk")])
    assert reload(item).modified_at >= before


def test_system_ids_are_unique_uuids():
    first, second = CustomerFactory(), CustomerFactory()
    assert first.system_id != second.system_id


def test_no_is_unique():
    CustomerFactory(no="C00010")
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerFactory(no="C00010")


def test_search_name_is_the_upper_case_name_on_every_write_path():
    customer = CustomerFactory(name="Adatum Corporation")
    assert reload(customer).search_name == "ADATUM CORPORATION"
    customer.name = "Adatum Corp."
    Customer.objects.bulk_update([customer], ["name"])
    assert reload(customer).search_name == "ADATUM CORP."
    (bulk,) = Customer.objects.bulk_create([Customer(no="C99999", name="Trey Research")])
    assert reload(bulk).search_name == "TREY RESEARCH"


def test_person_contact_takes_its_name_and_company_name():
    person = ErpContactFactory(person=True, first_name="Ada", surname="Lovelace", company__name="Fabrikam Inc.")
    person = reload(person)
    assert person.type == Contact.Type.PERSON
    assert person.name == "Ada Lovelace"
    assert person.company_name == "Fabrikam Inc."
    company = reload(person.company)
    assert company.company_name == company.name == "Fabrikam Inc."


def test_database_refuses_a_company_contact_with_a_company():
    company = ErpContactFactory()
    other = ErpContactFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.filter(pk=other.pk).update(company=company)


def test_sales_line_numbers_are_unique_per_document():
    header = SalesHeaderFactory()
    SalesLineFactory(header=header, line_no=10000)
    with pytest.raises(IntegrityError), transaction.atomic():
        SalesLineFactory(header=header, line_no=10000)
    SalesLineFactory(line_no=10000)  # another document may use it


def test_setup_singletons_are_one_row_created_on_first_use():
    assert not MarketingSetup.objects.exists()
    setup = MarketingSetup.get_solo()
    assert setup.pk == 1
    assert MarketingSetup.get_solo().pk == 1
    MarketingSetup(default_language_code="ENU").save()  # a second instance writes the same row
    assert MarketingSetup.objects.count() == 1
    assert MarketingSetup.get_solo().default_language_code == "ENU"
    assert SalesReceivablesSetup.get_solo().pk == 1


# Deleting a record: the rows that named it through an on_delete=SET_NULL foreign key ---------------------------------
@pytest.mark.parametrize("path", ["instance", "queryset"])
def test_deleting_a_vendor_moves_modified_at_of_the_items_and_resources_that_named_it(path):
    vendor = VendorFactory()
    item, resource, other = ItemFactory(vendor=vendor), ResourceFactory(vendor=vendor), ItemFactory()
    long_ago = make_old(item, resource, other)

    with rows_written() as written:
        if path == "instance":
            vendor.delete()
        else:
            Vendor.objects.filter(pk=vendor.pk).delete()

    item, resource = reload(item), reload(resource)
    assert item.vendor is None and resource.vendor is None
    assert item.modified_at > long_ago and resource.modified_at > long_ago
    assert reload(other).modified_at == long_ago
    assert written[Item] == {item.pk}
    assert written[Resource] == {resource.pk}


def test_deleting_a_contact_moves_modified_at_of_the_customers_that_named_it_as_primary_contact():
    contact = ErpContactFactory()
    customer = CustomerFactory(primary_contact=contact)
    long_ago = make_old(customer)

    with rows_written() as written:
        contact.delete()

    customer = reload(customer)
    assert customer.primary_contact is None
    assert customer.modified_at > long_ago
    assert customer.pk in written[Customer]


def test_deleting_a_salesperson_moves_modified_at_of_the_bank_accounts_that_named_it():
    salesperson = SalespersonPurchaserFactory()
    bank_account = BankAccountFactory(our_contact=salesperson)
    long_ago = make_old(bank_account)

    with rows_written() as written:
        SalespersonPurchaser.objects.filter(pk=salesperson.pk).delete()

    bank_account = reload(bank_account)
    assert bank_account.our_contact is None
    assert bank_account.modified_at > long_ago
    assert written[BankAccount] == {bank_account.pk}
