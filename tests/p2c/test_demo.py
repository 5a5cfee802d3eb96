"""Demo data (p2c.demo, the seed_demo command): both sides, overlapping, deterministic, once."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models.functions import Upper

from crm.models import Account, Contact, InvoiceDetail, Quote, SalesOrderDetail, SystemUser, TransactionCurrency
from erp.models import (
    BankAccount,
    BusinessRelation,
    Currency,
    Customer,
    GeneralLedgerSetup,
    MarketingSetup,
    NoSeries,
    PurchasesPayablesSetup,
    SalesHeader,
    SalesInvoiceHeader,
    SalesReceivablesSetup,
    Vendor,
)
from erp.models import Contact as ErpContact
from p2c.demo import demo_data_present, demo_seed

pytestmark = pytest.mark.django_db

SCALE = 60


@pytest.fixture
def seeded():
    return demo_seed(scale=SCALE, seed=11)


def test_scale_is_the_number_of_accounts_with_about_as_many_customers(seeded):
    assert seeded.created
    assert Account.objects.count() == SCALE
    assert 0.8 * SCALE <= Customer.objects.count() <= 1.2 * SCALE
    assert seeded.counts["crm.Account"] == SCALE


def test_the_two_sides_overlap_like_real_companies(seeded):
    accounts = set(Account.objects.values_list("name", flat=True))
    customers = list(Customer.objects.values_list("name", flat=True))
    same = [name for name in customers if name in accounts]
    upper_accounts = {name.upper() for name in accounts}
    spelled_differently = [n for n in customers if n not in accounts and n.upper() in upper_accounts]
    one_side_only = [n for n in customers if n.upper() not in upper_accounts]
    assert len(same) > SCALE / 2
    assert one_side_only  # ERP-only customers (and misspelt ones)
    assert spelled_differently or len(same) < len(customers)
    assert Account.objects.exclude(name__in=customers).exists()  # Sales-only accounts
    duplicates = Account.objects.annotate(u=Upper("name")).values("u").order_by().distinct().count()
    assert duplicates <= Account.objects.count()


def test_matching_customers_share_the_e_mail(seeded):
    emails = {e.lower() for e in Account.objects.values_list("emailaddress1", flat=True)}
    shared = [e for e in Customer.objects.values_list("email", flat=True) if e.lower() in emails]
    assert len(shared) > SCALE / 2


def test_setup_tables_and_number_series_are_wired(seeded):
    sales = SalesReceivablesSetup.get_solo()
    assert (sales.customer_nos.code, sales.customer_nos.starting_no, sales.customer_nos.increment_by) == ("CUST", "C00010", 10)
    assert sales.quote_nos and sales.order_nos and sales.posted_invoice_nos
    assert sales.write_in_product_type == "item" and sales.write_in_product_no == "WRITE-IN"
    assert PurchasesPayablesSetup.get_solo().vendor_nos.starting_no == "V00010"
    assert GeneralLedgerSetup.get_solo().bank_account_nos.starting_no == "B010"
    marketing = MarketingSetup.get_solo()
    assert marketing.contact_nos.starting_no == "CT000010"
    assert (marketing.bus_rel_code_for_customers.code, marketing.bus_rel_code_for_vendors.code,
            marketing.bus_rel_code_for_bank_accounts.code) == ("CUST", "VEND", "BANK")
    assert set(BusinessRelation.objects.values_list("code", flat=True)) >= {"CUST", "VEND", "BANK"}
    assert Customer.objects.filter(no="C00010").exists()
    assert Vendor.objects.filter(no="V00010").exists() and BankAccount.objects.filter(no="B010").exists()
    assert ErpContact.objects.filter(no="CT000010").exists()
    assert SalesHeader.objects.exists() and SalesInvoiceHeader.objects.exists()


def test_users_currencies_and_documents(seeded):
    assert SystemUser.objects.filter(access_mode="integration", is_integration_user=True).count() == 1
    assert Currency.objects.filter(iso_code="").count() == 1
    assert TransactionCurrency.objects.filter(iso_currency_code="USD").exists()
    assert Contact.objects.filter(parent_account__isnull=False).exists()
    assert Contact.objects.filter(parent_contact__isnull=False).exists()
    assert Contact.objects.filter(parent_account=None, parent_contact=None).exists()
    assert ErpContact.objects.filter(type="person", company__isnull=False).exists()
    assert Quote.objects.exists()
    write_ins = SalesOrderDetail.objects.filter(product=None).count() + InvoiceDetail.objects.filter(product=None).count()
    assert write_ins > 0
    # Is Active Customer is set by the documents written in bulk.
    active = set(Contact.objects.filter(is_active_customer=True).values_list("pk", flat=True))
    with_documents = set(Quote.objects.exclude(customer_contact=None).values_list("customer_contact", flat=True))
    assert with_documents <= active


def test_second_run_does_nothing(seeded):
    assert demo_data_present()
    before = (Account.objects.count(), Customer.objects.count(), NoSeries.objects.get(code="CUST").last_no_used)
    again = demo_seed(scale=SCALE, seed=11)
    assert not again.created
    assert "already present" in again.message
    assert (Account.objects.count(), Customer.objects.count(), NoSeries.objects.get(code="CUST").last_no_used) == before


def test_same_seed_same_data_and_reset_never_reuses_numbers(seeded):
    names = sorted(Account.objects.values_list("name", "emailaddress1", "address1_city"))
    ids = sorted(Account.objects.values_list("id", flat=True))
    customer_nos = set(Customer.objects.values_list("no", flat=True))
    again = demo_seed(scale=SCALE, seed=11, reset=True)
    assert again.created
    assert sorted(Account.objects.values_list("name", "emailaddress1", "address1_city")) == names
    assert sorted(Account.objects.values_list("id", flat=True)) == ids
    assert not customer_nos & set(Customer.objects.values_list("no", flat=True))


def test_another_seed_gives_other_data(seeded):
    names = set(Account.objects.values_list("name", flat=True))
    demo_seed(scale=SCALE, seed=12, reset=True)
    assert set(Account.objects.values_list("name", flat=True)) != names


def test_command_reports_and_is_idempotent():
    out = StringIO()
    call_command("seed_demo", "--scale", "20", "--seed", "3", stdout=out)
    assert "Demo data created" in out.getvalue()
    assert Account.objects.count() == 20
    out = StringIO()
    call_command("seed_demo", "--scale", "20", stdout=out)
    assert "already present" in out.getvalue()
    assert Account.objects.count() == 20


def test_every_record_is_written_through_the_records_layer():
    """Stamps on every row, and records_written sent for every record created (the seed's lean inserts included)."""
    from django.apps import apps

    from p2c.records import Record, records_written

    sent = {}

    def receiver(sender, instances=None, created=False, **kwargs):
        if created:
            sent[sender._meta.label] = sent.get(sender._meta.label, 0) + len(instances)

    records_written.connect(receiver)
    try:
        result = demo_seed(scale=SCALE, seed=11)
    finally:
        records_written.disconnect(receiver)
    for label, count in result.counts.items():
        model = apps.get_model(label)
        if issubclass(model, Record):
            assert sent.get(label) == count, label
            stamp = model.MODIFIED_FIELD
            assert not model.objects.filter(**{f"{stamp}__isnull": True}).exists(), label
    assert not Contact.objects.exclude(is_company_an_account=True).filter(parent_account__isnull=False).exists()
