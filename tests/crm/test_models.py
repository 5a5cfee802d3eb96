"""Sales models (docs/features.md S1-S11): IsCompanyAnAccount, Is Active Customer, modifiedon, derived fields,
factories."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.models import (
    Account,
    Contact,
    Invoice,
    Opportunity,
    PriceLevel,
    Quote,
    SalesOrder,
    SalesOrderDetail,
    SystemUser,
)
from p2c.records import Record, RecordQuerySet, writing_as
from tests.factories import (
    AccountFactory,
    ContactFactory,
    InvoiceFactory,
    OpportunityFactory,
    PriceLevelFactory,
    ProductFactory,
    QuoteFactory,
    SalesOrderDetailFactory,
    SalesOrderFactory,
    SystemUserFactory,
    factories_by_model,
)
from tests.records_helpers import make_old, rows_written

pytestmark = pytest.mark.django_db


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


# Factories --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("app_label", ["crm", "erp"])
def test_every_model_has_a_factory_that_makes_a_valid_row(app_label):
    factories = factories_by_model()
    for model in apps.get_app_config(app_label).get_models():
        label = model._meta.label
        assert label in factories, f"tests/factories.py has no factory for {label}"
        obj = factories[label]()
        obj.full_clean()
        assert model.objects.filter(pk=obj.pk).exists()


# IsCompanyAnAccount ---------------------------------------------------------------------------------------
def test_is_company_an_account_true_exactly_when_the_company_is_an_account():
    account_person = ContactFactory()
    parent = ContactFactory(parent_account=None)
    contact_person = ContactFactory(parent_account=None, parent_contact=parent)
    loner = ContactFactory(parent_account=None)
    assert reload(account_person).is_company_an_account is True
    assert reload(contact_person).is_company_an_account is False
    assert reload(loner).is_company_an_account is False
    assert account_person.company == account_person.parent_account
    assert contact_person.company == parent
    assert loner.company is None


def test_is_company_an_account_follows_a_change_of_company_on_save():
    contact = ContactFactory(parent_account=None)
    contact.parent_account = AccountFactory()
    contact.save()
    assert reload(contact).is_company_an_account is True
    contact.parent_account = None
    contact.parent_contact = ContactFactory(parent_account=None)
    contact.save(update_fields=["parent_account", "parent_contact"])  # derived fields are written too
    assert reload(contact).is_company_an_account is False


def test_is_company_an_account_on_bulk_create_and_bulk_update():
    account = AccountFactory()
    with_account, without = Contact.objects.bulk_create(
        [Contact(last_name="A", parent_account=account), Contact(last_name="B")]
    )
    assert reload(with_account).is_company_an_account is True
    assert reload(without).is_company_an_account is False
    with_account.parent_account, without.parent_account = None, account
    Contact.objects.bulk_update([with_account, without], ["parent_account"])
    assert reload(with_account).is_company_an_account is False
    assert reload(without).is_company_an_account is True


def test_database_refuses_a_contact_whose_company_is_both_an_account_and_a_contact():
    contact = ContactFactory()
    other = ContactFactory(parent_account=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.filter(pk=contact.pk).update(parent_contact=other)


def test_database_refuses_is_company_an_account_out_of_step():
    contact = ContactFactory(parent_account=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.filter(pk=contact.pk).update(is_company_an_account=True)


def test_full_clean_explains_account_and_contact_both_set():
    contact = ContactFactory.build(parent_account=AccountFactory(), parent_contact=ContactFactory(parent_account=None))
    with pytest.raises(ValidationError, match="an account or a contact, not both"):
        contact.full_clean()


def test_full_name_is_derived():
    contact = ContactFactory(first_name="Ada", middle_name="K.", last_name="Lovelace")
    assert reload(contact).full_name == "Ada K. Lovelace"


# Is Active Customer -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("factory", [QuoteFactory, SalesOrderFactory, InvoiceFactory])
def test_a_quote_order_or_invoice_makes_the_contact_an_active_customer(factory):
    contact = ContactFactory()
    assert reload(contact).is_active_customer is False
    document = factory(customer_account=None, customer_contact=contact)
    assert reload(contact).is_active_customer is True
    document.delete()
    assert reload(contact).is_active_customer is False


def test_a_document_for_the_account_does_not_make_its_contacts_active():
    contact = ContactFactory()
    QuoteFactory(customer_account=contact.parent_account)
    assert reload(contact).is_active_customer is False


def test_flag_is_cleared_only_when_the_last_document_goes():
    contact = ContactFactory()
    quote = QuoteFactory(customer_account=None, customer_contact=contact)
    order = SalesOrderFactory(customer_account=None, customer_contact=contact)
    invoice = InvoiceFactory(customer_account=None, customer_contact=contact)
    quote.delete()
    assert reload(contact).is_active_customer is True
    order.delete()
    assert reload(contact).is_active_customer is True
    invoice.delete()
    assert reload(contact).is_active_customer is False


def test_queryset_delete_clears_the_flag():
    contacts = [ContactFactory() for _ in range(3)]
    for contact in contacts:
        SalesOrderFactory(customer_account=None, customer_contact=contact)
    InvoiceFactory(customer_account=None, customer_contact=contacts[0])
    SalesOrder.objects.all().delete()
    assert [reload(c).is_active_customer for c in contacts] == [True, False, False]
    Invoice.objects.filter(customer_contact=contacts[0]).delete()
    assert reload(contacts[0]).is_active_customer is False


def test_bulk_create_sets_the_flag():
    contacts = [ContactFactory() for _ in range(3)]
    Quote.objects.bulk_create([Quote(name=f"Q{i}", customer_contact=c) for i, c in enumerate(contacts[:2])])
    assert [reload(c).is_active_customer for c in contacts] == [True, True, False]


def test_moving_a_document_to_another_contact_moves_the_flag():
    first, second = ContactFactory(), ContactFactory()
    order = SalesOrderFactory(customer_account=None, customer_contact=first)
    order.customer_contact = second
    order.save()
    assert reload(first).is_active_customer is False
    assert reload(second).is_active_customer is True


def test_flag_changes_move_modifiedon_only_when_the_flag_changes():
    contact = ContactFactory()
    SalesOrderFactory(customer_account=None, customer_contact=contact)
    after_first = reload(contact).modifiedon
    SalesOrderFactory(customer_account=None, customer_contact=contact)
    assert reload(contact).modifiedon == after_first


def test_sales_document_numbers():
    assert QuoteFactory().number.startswith("QUO-01000-")
    assert SalesOrderFactory().number.startswith("ORD-01000-")
    assert InvoiceFactory().number.startswith("INV-01000-")


# Write-in lines ---------------------------------------------------------------------------------------------------
def test_a_line_without_a_product_is_a_write_in():
    write_in = SalesOrderDetailFactory(write_in=True)
    catalogue = SalesOrderDetailFactory(product=ProductFactory())
    assert reload(write_in).is_product_overridden is True
    assert reload(catalogue).is_product_overridden is False
    catalogue.product = None
    SalesOrderDetail.objects.bulk_update([catalogue], ["product"])
    assert reload(catalogue).is_product_overridden is True


# modifiedon -------------------------------------------------------------------------------------------------------
@pytest.fixture
def old_account():
    account = AccountFactory()
    long_ago = timezone.now() - timedelta(days=30)
    Account.objects.filter(pk=account.pk).update(modifiedon=long_ago)
    account.refresh_from_db()
    assert account.modifiedon == long_ago
    return account


def test_modifiedon_moves_on_save(old_account):
    before = old_account.modifiedon
    old_account.name = "Renamed"
    old_account.save()
    assert reload(old_account).modifiedon > before


def test_modifiedon_moves_on_save_with_update_fields(old_account):
    before = old_account.modifiedon
    old_account.telephone1 = "+1 555 0100"
    old_account.save(update_fields=["telephone1"])
    assert reload(old_account).modifiedon > before


def test_modifiedon_moves_on_queryset_update(old_account):
    before = old_account.modifiedon
    Account.objects.filter(pk=old_account.pk).update(name="Updated")
    assert reload(old_account).modifiedon > before


def test_modifiedon_moves_on_bulk_update(old_account):
    before = old_account.modifiedon
    old_account.name = "Bulk updated"
    Account.objects.bulk_update([old_account], ["name"])
    assert reload(old_account).modifiedon > before


def test_createdon_and_modifiedon_are_set_on_bulk_create():
    before = timezone.now()
    (account,) = Account.objects.bulk_create([Account(name="Fresh")])
    account = reload(account)
    assert account.createdon >= before
    assert account.modifiedon >= before


# System users -----------------------------------------------------------------------------------------------------
def test_access_mode_integration_marks_the_integration_user():
    user = SystemUserFactory(integration=True)
    assert reload(user).is_integration_user is True
    assert reload(SystemUserFactory()).is_integration_user is False
    (bulk,) = SystemUser.objects.bulk_create([SystemUser(fullname="Bulk", access_mode="integration")])
    assert reload(bulk).is_integration_user is True


def test_queryset_update_moving_documents_to_another_contact_moves_the_flag():
    first, second = ContactFactory(), ContactFactory()
    SalesOrderFactory(customer_account=None, customer_contact=first)
    SalesOrder.objects.filter(customer_contact=first).update(customer_contact=second)
    assert reload(first).is_active_customer is False
    assert reload(second).is_active_customer is True
    SalesOrder.objects.update(customer_contact=None, customer_account=AccountFactory())
    assert reload(second).is_active_customer is False


def test_bulk_update_moving_a_document_to_another_contact_moves_the_flag():
    first, second = ContactFactory(), ContactFactory()
    quote = QuoteFactory(customer_account=None, customer_contact=first)
    quote.customer_contact = second
    Quote.objects.bulk_update([quote], ["customer_contact"])
    assert reload(first).is_active_customer is False
    assert reload(second).is_active_customer is True


def test_queryset_update_of_the_company_keeps_is_company_an_account_in_step():
    contact = ContactFactory(parent_account=None)
    Contact.objects.filter(pk=contact.pk).update(parent_account=AccountFactory())
    assert reload(contact).is_company_an_account is True
    Contact.objects.filter(pk=contact.pk).update(parent_account=None)
    assert reload(contact).is_company_an_account is False


# Deleting a record: the rows that named it through an on_delete=SET_NULL foreign key --------------------------------
@pytest.mark.parametrize("path", ["instance", "queryset"])
def test_deleting_an_opportunity_moves_modifiedon_of_the_quotes_that_named_it(path):
    opportunity = OpportunityFactory()
    quote, other = QuoteFactory(opportunity=opportunity), QuoteFactory()
    long_ago = make_old(quote, other)

    with rows_written() as written:
        if path == "instance":
            opportunity.delete()
        else:
            Opportunity.objects.filter(pk=opportunity.pk).delete()

    quote = reload(quote)
    assert quote.opportunity is None
    assert quote.modifiedon > long_ago
    assert reload(other).modifiedon == long_ago
    assert written[Quote] == {quote.pk}  # records_written names the row, read after the write as the integration does


def test_deleting_a_price_list_moves_modifiedon_of_the_accounts_and_documents_that_named_it():
    price_level = PriceLevelFactory()
    account, order = AccountFactory(price_level=price_level), SalesOrderFactory(price_level=price_level)
    long_ago = make_old(account, order)

    with rows_written() as written:
        price_level.delete()

    account, order = reload(account), reload(order)
    assert (account.price_level, order.price_level) == (None, None)
    assert account.modifiedon > long_ago and order.modifiedon > long_ago
    assert written[Account] == {account.pk}
    assert written[SalesOrder] == {order.pk}


def test_deleting_an_account_moves_modifiedon_of_its_contacts_and_child_accounts():
    parent = AccountFactory()
    child, contact = AccountFactory(parent_account=parent), ContactFactory(parent_account=parent)
    long_ago = make_old(child, contact)

    with rows_written() as written:
        parent.delete()

    child, contact = reload(child), reload(contact)
    assert child.parent_account is None and child.modifiedon > long_ago
    assert contact.parent_account is None and not contact.is_company_an_account and contact.modifiedon > long_ago
    assert child.pk in written[Account] and contact.pk in written[Contact]


def test_the_writer_of_the_rows_that_named_a_deleted_record_is_the_acting_writer():
    writer = SystemUserFactory()
    quote = QuoteFactory(opportunity=OpportunityFactory())
    with writing_as(writer.pk):
        quote.opportunity.delete()
    assert reload(quote).modifiedby == writer


def test_deleting_a_user_clears_modifiedby_without_moving_modifiedon():
    """Who last wrote a row is bookkeeping, not a change of the row: forgetting a deleted writer sends nothing."""
    user = SystemUserFactory()
    with writing_as(user.pk):
        account = AccountFactory()
    long_ago = make_old(account)
    Account.objects.filter(pk=account.pk).update(modifiedon=long_ago, modifiedby=user)

    with rows_written() as written:
        user.delete()

    account = reload(account)
    assert account.modifiedby is None
    assert account.modifiedon == long_ago
    assert Account not in written


def test_deleting_records_named_by_many_rows_runs_a_constant_number_of_queries():
    def queries_to_delete(rows):
        price_levels = PriceLevelFactory.create_batch(2)
        for i in range(rows):
            AccountFactory(price_level=price_levels[i % 2])
            SalesOrderFactory(price_level=price_levels[i % 2], customer_account=None, customer_contact=None)
        with CaptureQueriesContext(connection) as queries:
            PriceLevel.objects.filter(pk__in=[p.pk for p in price_levels]).delete()
        assert not Account.objects.filter(price_level__isnull=False).exists()
        return len(queries)

    assert queries_to_delete(2) == queries_to_delete(12)


@pytest.mark.parametrize("app_label", ["crm", "erp"])
def test_every_record_model_writes_through_its_record_queryset_when_a_delete_blanks_it(app_label):
    """Django's Collector blanks SET_NULL links through the base manager's ``update()``: that is the Record queryset's
    (which moves the stamp and sends ``records_written``) only if the base manager is a Record manager, and only for
    the on_delete rules that update a lazy queryset (SET_DEFAULT or SET(...) would write through a raw UPDATE)."""
    lazy_rules = {models.CASCADE, models.PROTECT, models.RESTRICT, models.SET_NULL, models.DO_NOTHING}
    for model in apps.get_app_config(app_label).get_models():
        if not issubclass(model, Record):
            continue
        assert isinstance(model._base_manager.all(), RecordQuerySet), model._meta.label
        assert model._base_manager.name == model._meta.default_manager.name, model._meta.label
        for field in model._meta.concrete_fields:
            if field.is_relation:
                assert field.remote_field.on_delete in lazy_rules, f"{model._meta.label}.{field.name}"
