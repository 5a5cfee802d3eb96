"""docs/features.md B1-B9: ERP contacts with customers, vendors and bank accounts (``erp.business_relations``)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Case, QuerySet, Value, When
from django.db.models.functions import Concat
from django.test.utils import CaptureQueriesContext

from erp import business_relations as br
from erp.models import (
    BankAccount,
    Contact,
    ContactBusinessRelation,
    Currency,
    Customer,
    CustomerTemplate,
    InteractionLogEntry,
    MarketingSetup,
    PaymentTerms,
    PurchaseHeader,
    SalesHeader,
    SalespersonPurchaser,
    Vendor,
)
from tests.erp.business_relations_setup import configure, make_series

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(db):
    return configure()

Kind = ContactBusinessRelation.LinkToTable


def writes_to(queries, table):
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith(f'UPDATE "{table}"')]


def relation_of(record):
    return ContactBusinessRelation.objects.get(link_to_table=br.LINK_BY_MODEL[type(record)].kind, no=record.no)


def company(name="Fabrikam", **kwargs):
    return Contact.objects.create(type=Contact.Type.COMPANY, name=name, **kwargs)


def person(company_contact=None, first="Ann", surname="Lee", **kwargs):
    return Contact.objects.create(
        type=Contact.Type.PERSON, company=company_contact, first_name=first, surname=surname, **kwargs
    )


# B5: a contact for every new customer, vendor, bank account, whatever the door -----------------------------------------
def test_creating_a_customer_creates_its_company_contact_and_relation(setup):
    customer = Customer.objects.create(name="Acme", city="Oslo", phone_no="+47 1", email="a@acme.test")
    relation = relation_of(customer)
    contact = relation.contact
    assert (contact.no, contact.type, contact.name, contact.city, contact.phone_no, contact.email) == (
        "CT000001", Contact.Type.COMPANY, "Acme", "Oslo", "+47 1", "a@acme.test",
    )
    assert relation.business_relation.code == "CUST"
    assert br.record_linked_contact(record=customer) == contact
    assert br.contact_linked_record(contact=contact, kind=Kind.CUSTOMER) == customer


def test_creating_vendors_and_bank_accounts_creates_company_contacts(setup):
    buyer = SalespersonPurchaser.objects.create(code="PB", name="Pat Buyer")
    vendor = Vendor.objects.create(name="Contoso Supplies", purchaser=buyer)
    bank = BankAccount.objects.create(name="World Bank", iban="NO93 8601 1117 947")
    assert relation_of(vendor).contact.type == Contact.Type.COMPANY
    assert relation_of(vendor).contact.salesperson == buyer
    assert relation_of(bank).contact.name == "World Bank"
    assert Contact.objects.count() == 2


def test_a_person_customer_gets_a_person_contact(setup):
    customer = Customer.objects.create(name="Jane Q Public", contact_type=Contact.Type.PERSON)
    contact = relation_of(customer).contact
    assert contact.type == Contact.Type.PERSON
    assert (contact.first_name, contact.middle_name, contact.surname, contact.name) == ("Jane", "Q", "Public", "Jane Q Public")


def test_bulk_created_customers_get_contacts_in_constant_queries_per_chunk(setup):
    chunk = br.PROPAGATION_CHUNK_SIZE

    def measure(n, prefix):
        customers = [Customer(no=f"{prefix}{i:05d}", name=f"Customer {prefix}{i}") for i in range(n)]
        with CaptureQueriesContext(connection) as queries:
            Customer.objects.bulk_create(customers)
        # The caller's own INSERTs of customers are Django's batching, not ours.
        return len([q for q in queries.captured_queries if not q["sql"].startswith('INSERT INTO "erp_customer"')])

    small, big = measure(chunk, "A"), measure(3 * chunk, "B")
    per_chunk, remainder = divmod(big - small, 2)
    assert remainder == 0
    assert small - per_chunk <= 4  # fixed overhead: setup read, savepoints
    assert ContactBusinessRelation.objects.filter(link_to_table=Kind.CUSTOMER).count() == 4 * chunk
    assert Contact.objects.count() == 4 * chunk
    assert Contact.objects.get(business_relations__no="B00007").name == "Customer B7"


def test_no_contact_series_means_no_automatic_contact(db):
    configure(contact_nos=False)
    Customer.objects.create(name="Acme")
    assert not Contact.objects.exists()
    assert not ContactBusinessRelation.objects.exists()


def test_blank_relation_code_switches_the_automatic_contact_off_without_blocking_the_door(db):
    configure(codes=("", "VEND", "BANK"))
    Customer.objects.create(name="Acme")
    Vendor.objects.create(name="Contoso")
    assert Contact.objects.count() == 1  # only the vendor's


def test_a_customer_made_from_a_contact_makes_no_second_contact(setup):
    contact = company("Fabrikam")
    br.contact_create_customer(contact=contact)
    assert Contact.objects.count() == 1


# B1: refuse with the missing setup field -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("codes", "action", "field"),
    [
        (("", "VEND", "BANK"), lambda c: br.contact_create_customer(contact=c), "Bus. Rel. Code for Customers"),
        (("CUST", "", "BANK"), lambda c: br.contact_create_vendor(contact=c), "Bus. Rel. Code for Vendors"),
        (("CUST", "VEND", ""), lambda c: br.contact_create_bank_account(contact=c), "Bus. Rel. Code for Bank Accs."),
        (("", "VEND", "BANK"), lambda c: br.contact_link_customer(contact=c, customer=Customer.objects.create(no="C1", name="X")),
         "Bus. Rel. Code for Customers"),
    ],
)
def test_actions_refuse_naming_the_blank_setup_field(db, codes, action, field):
    configure(codes=codes)
    contact = company()
    with pytest.raises(ValidationError, match=field):
        action(contact)
    assert not ContactBusinessRelation.objects.exists()


def test_create_contact_from_customer_refuses_naming_the_blank_setup_field(db):
    configure(codes=("", "VEND", "BANK"))
    customer = Customer.objects.create(name="Acme")
    with pytest.raises(ValidationError, match=r"Bus\. Rel\. Code for Customers"):
        br.customer_create_contact(customer=customer)


# B2: link with existing -------------------------------------------------------------------------------------------------
def test_link_with_contact_as_master_copies_the_contact_to_the_customer(db):
    configure(contact_nos=False)
    contact = Contact.objects.create(no="K1", name="Fabrikam", phone_no="111", city="Bergen")
    customer = Customer.objects.create(no="C1", name="Fabrikam Inc", phone_no="999", payment_terms=None)
    br.contact_link_customer(contact=contact, customer=customer, master=br.Master.CONTACT)
    customer.refresh_from_db()
    assert (customer.name, customer.phone_no, customer.city) == ("Fabrikam", "111", "Bergen")
    assert relation_of(customer).contact == contact


def test_link_with_customer_as_master_copies_the_customer_to_the_contact(db):
    configure(contact_nos=False)
    contact = Contact.objects.create(no="K1", name="Fabrikam", phone_no="111")
    customer = Customer.objects.create(no="C1", name="Fabrikam Inc", phone_no="999")
    br.contact_link_customer(contact=contact, customer=customer, master=br.Master.RECORD)
    contact.refresh_from_db()
    assert (contact.name, contact.phone_no) == ("Fabrikam Inc", "999")


def test_a_person_is_linked_through_its_company(db):
    configure(contact_nos=False)
    firm = Contact.objects.create(no="K1", name="Fabrikam")
    ann = Contact.objects.create(no="K2", type=Contact.Type.PERSON, company=firm, first_name="Ann", surname="Lee")
    vendor = Vendor.objects.create(no="V1", name="Fabrikam")
    br.contact_link_vendor(contact=ann, vendor=vendor)
    assert relation_of(vendor).contact == firm


def test_a_vendor_or_bank_needs_a_company_contact(db):
    configure(contact_nos=False)
    loner = Contact.objects.create(no="K2", type=Contact.Type.PERSON, first_name="Ann", surname="Lee")
    with pytest.raises(ValidationError, match="person without a company"):
        br.contact_link_vendor(contact=loner, vendor=Vendor.objects.create(no="V1", name="X"))
    with pytest.raises(ValidationError, match="person without a company"):
        br.contact_create_bank_account(contact=loner)


def test_one_customer_per_contact_and_one_contact_per_customer(db):
    configure(contact_nos=False)
    first, second = Contact.objects.create(no="K1", name="A"), Contact.objects.create(no="K2", name="B")
    c1, c2 = Customer.objects.create(no="C1", name="A"), Customer.objects.create(no="C2", name="B")
    br.contact_link_customer(contact=first, customer=c1)
    with pytest.raises(ValidationError, match="already has a business relation with customer C1"):
        br.contact_link_customer(contact=first, customer=c2)
    with pytest.raises(ValidationError, match="Customer C1 is already linked to contact K1"):
        br.contact_link_customer(contact=second, customer=c1)
    br.contact_link_vendor(contact=first, vendor=Vendor.objects.create(no="V1", name="A"))  # another kind is fine


def test_unlink_removes_the_relation_only(setup):
    customer = Customer.objects.create(name="Acme")
    contact = relation_of(customer).contact
    br.contact_unlink(contact=contact, kind=Kind.CUSTOMER)
    assert Customer.objects.filter(pk=customer.pk).exists() and Contact.objects.filter(pk=contact.pk).exists()
    assert not ContactBusinessRelation.objects.exists()


# B3: create from a contact ------------------------------------------------------------------------------------------------
@pytest.fixture
def template(db):
    return CustomerTemplate.objects.create(
        code="DOMESTIC", contact_type="company", customer_group="10",
        payment_terms=PaymentTerms.objects.create(code="30D"), currency=Currency.objects.create(code="EUR"),
        language_code="en-us", gen_bus_posting_group="DOMESTIC", customer_posting_group="DOMESTIC",
        credit_limit_lcy=Decimal("5000"),
    )


def test_create_customer_from_a_company_contact_with_a_template(setup, template):
    seller = SalespersonPurchaser.objects.create(code="SP", name="Sam")
    contact = company("Fabrikam", city="Oslo", phone_no="123", salesperson=seller, language_code="nb-no")
    customer = br.contact_create_customer(contact=contact, template=template)
    assert (customer.no, customer.name, customer.city, customer.phone_no, customer.salesperson) == (
        "C00010", "Fabrikam", "Oslo", "123", seller,
    )
    # Billing and posting come from the template (B9), the contact's own value wins for shared fields.
    assert (customer.customer_group, customer.payment_terms.code, customer.gen_bus_posting_group) == ("10", "30D", "DOMESTIC")
    assert customer.credit_limit_lcy == Decimal("5000")
    assert customer.language_code == "nb-no"
    # The template's currency filled a blank the contact had: now both sides have it (B6).
    assert customer.currency.code == "EUR"
    contact.refresh_from_db()
    assert contact.currency.code == "EUR"
    assert relation_of(customer).contact == contact


def test_marketing_setup_template_is_the_default(setup, template):
    setup.cust_template_company = template
    setup.save()
    customer = br.contact_create_customer(contact=company())
    assert customer.customer_group == "10"


def test_a_template_for_another_contact_type_is_refused(setup, template):
    loner = person(None)
    with pytest.raises(ValidationError, match="for company contacts"):
        br.contact_create_customer(contact=loner, template=template)


def test_a_person_of_a_company_makes_the_customer_for_its_company(setup):
    firm = company("Fabrikam")
    ann = person(firm)
    customer = br.contact_create_customer(contact=ann)
    assert relation_of(customer).contact == firm
    assert (customer.name, customer.contact_type, customer.primary_contact, customer.contact) == (
        "Fabrikam", Contact.Type.COMPANY, ann, "Ann Lee",
    )


def test_a_person_without_company_becomes_a_person_customer(setup):
    customer = br.contact_create_customer(contact=person(None))
    assert (customer.contact_type, customer.name) == (Contact.Type.PERSON, "Ann Lee")


def test_create_vendor_and_bank_account_from_a_contact(setup):
    buyer = SalespersonPurchaser.objects.create(code="PB", name="Pat")
    firm = company("Fabrikam", phone_no="1", salesperson=buyer)
    vendor = br.contact_create_vendor(contact=firm)
    bank = br.contact_create_bank_account(contact=person(firm))
    assert (vendor.no, vendor.name, vendor.phone_no, vendor.purchaser) == ("V00010", "Fabrikam", "1", buyer)
    assert (bank.no, bank.name) == ("B010", "Fabrikam")
    assert relation_of(vendor).contact == firm and relation_of(bank).contact == firm
    assert Contact.objects.count() == 2
    with pytest.raises(ValidationError, match="already has a business relation with vendor V00010"):
        br.contact_create_vendor(contact=firm)


def test_a_privacy_blocked_contact_cannot_become_a_customer(setup):
    with pytest.raises(ValidationError, match="blocked due to privacy"):
        br.contact_create_customer(contact=company(privacy_blocked=True))


# B4: create a contact from a customer, vendor, bank account -----------------------------------------------------------
def test_create_contact_from_records_made_before_the_setup(db):
    configure(contact_nos=False)
    customer = Customer.objects.create(name="Acme", phone_no="5")
    vendor = Vendor.objects.create(name="Contoso")
    bank = BankAccount.objects.create(name="Bank")
    assert not Contact.objects.exists()
    marketing = MarketingSetup.get_solo()
    marketing.contact_nos = make_series("CONT", "CT000001")
    marketing.save()
    contact = br.customer_create_contact(customer=customer)
    assert (contact.name, contact.phone_no, contact.type) == ("Acme", "5", Contact.Type.COMPANY)
    assert br.vendor_create_contact(vendor=vendor).name == "Contoso"
    assert br.bank_account_create_contact(bank_account=bank).name == "Bank"
    with pytest.raises(ValidationError, match="already linked to contact"):
        br.customer_create_contact(customer=customer)


def test_batch_create_contacts_skips_linked_customers(db):
    configure(contact_nos=False)
    customers = [Customer.objects.create(name=f"C{i}") for i in range(3)]
    marketing = MarketingSetup.get_solo()
    marketing.contact_nos = make_series("CONT", "CT000001")
    marketing.save()
    br.customer_create_contact(customer=customers[0])
    made = br.customers_create_contacts(customers=customers)
    assert [c.name for c in made] == ["C1", "C2"]
    assert ContactBusinessRelation.objects.count() == 3


def test_create_contact_needs_a_contact_series(db):
    configure(contact_nos=False)
    customer = Customer.objects.create(name="Acme")
    with pytest.raises(ValidationError, match=r"Contact Nos\."):
        br.customer_create_contact(customer=customer)


# B6: common information identical both ways, no loop, no double write -------------------------------------------------
@pytest.fixture
def linked(setup):
    """A customer and a vendor linked to the same company contact."""
    customer = Customer.objects.create(name="Acme", phone_no="100", city="Oslo")
    contact = relation_of(customer).contact
    vendor = br.contact_create_vendor(contact=contact)
    return contact, customer, vendor


def test_contact_change_reaches_customer_and_vendor_without_coming_back(linked):
    contact, customer, vendor = linked
    contact = Contact.objects.get(pk=contact.pk)
    contact.phone_no, contact.home_page = "200", "https://acme.test"
    with CaptureQueriesContext(connection) as queries:
        contact.save()
    customer.refresh_from_db()
    vendor.refresh_from_db()
    assert (customer.phone_no, customer.home_page) == ("200", "https://acme.test")
    assert (vendor.phone_no, vendor.home_page) == ("200", "https://acme.test")
    # One write per side: the contact once (the caller's), the customer once, the vendor once; nothing back.
    assert len(writes_to(queries, "erp_contact")) == 1
    assert len(writes_to(queries, "erp_customer")) == 1
    assert len(writes_to(queries, "erp_vendor")) == 1


def test_customer_change_reaches_contact_and_its_vendor_but_not_back(linked):
    contact, customer, vendor = linked
    customer = Customer.objects.get(pk=customer.pk)
    customer.address, customer.post_code, customer.email = "1 Main St", "0150", "ap@acme.test"
    with CaptureQueriesContext(connection) as queries:
        customer.save()
    contact.refresh_from_db()
    vendor.refresh_from_db()
    assert (contact.address, contact.post_code, contact.email) == ("1 Main St", "0150", "ap@acme.test")
    assert (vendor.address, vendor.post_code, vendor.email) == ("1 Main St", "0150", "ap@acme.test")
    assert len(writes_to(queries, "erp_customer")) == 1  # the caller's own, never rewritten by the round trip
    assert len(writes_to(queries, "erp_contact")) == 1
    assert len(writes_to(queries, "erp_vendor")) == 1


def test_a_write_that_changes_no_common_field_costs_no_query(linked):
    _contact, customer, _vendor = linked
    customer = Customer.objects.get(pk=customer.pk)
    customer.credit_limit_lcy = Decimal("100")
    with CaptureQueriesContext(connection) as queries:
        customer.save()
    assert [q["sql"].split()[0] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))] == ["UPDATE"]


def test_no_double_write_when_the_other_side_already_has_the_value(linked):
    contact, customer, _vendor = linked
    Customer.objects.filter(pk=customer.pk).update(phone_no="300")  # update() propagates too: all sides now 300
    contact = Contact.objects.get(pk=contact.pk)
    assert contact.phone_no == "300"
    contact._br_saved = None  # an instance that does not know its stored values: every common field is a candidate
    with CaptureQueriesContext(connection) as queries:
        contact.save()
    assert writes_to(queries, "erp_customer") == [] and writes_to(queries, "erp_vendor") == []


def test_bulk_update_of_customers_propagates(linked):
    contact, customer, vendor = linked
    customers = list(Customer.objects.filter(pk=customer.pk))
    customers[0].fax_no = "FAX"
    Customer.objects.bulk_update(customers, ["fax_no"])
    contact.refresh_from_db()
    vendor.refresh_from_db()
    assert contact.fax_no == "FAX" and vendor.fax_no == "FAX"


def test_bulk_update_only_propagates_the_fields_it_writes(linked):
    contact, customer, _vendor = linked
    customers = list(Customer.objects.filter(pk=customer.pk))
    customers[0].fax_no, customers[0].city = "FAX", "NOT WRITTEN"
    Customer.objects.bulk_update(customers, ["fax_no"])
    contact.refresh_from_db()
    assert (contact.fax_no, contact.city) == ("FAX", "Oslo")


def test_queryset_update_of_contacts_propagates(linked):
    contact, customer, vendor = linked
    eur = Currency.objects.create(code="EUR")
    Contact.objects.filter(pk=contact.pk).update(currency=eur, mobile_phone_no="+47 9")
    customer.refresh_from_db()
    vendor.refresh_from_db()
    assert (customer.currency, customer.mobile_phone_no) == (eur, "+47 9")
    assert (vendor.currency, vendor.mobile_phone_no) == (eur, "+47 9")


def test_salesperson_is_shared_with_customers_not_with_vendors(linked):
    contact, customer, vendor = linked
    seller = SalespersonPurchaser.objects.create(code="SP", name="Sam")
    contact = Contact.objects.get(pk=contact.pk)
    contact.salesperson = seller
    contact.save()
    customer.refresh_from_db()
    vendor.refresh_from_db()
    assert customer.salesperson == seller
    assert vendor.purchaser is None


def test_person_customer_name_change_keeps_the_contact_name(setup):
    customer = Customer.objects.create(name="Jane Public", contact_type=Contact.Type.PERSON)
    customer = Customer.objects.get(pk=customer.pk)
    customer.name = "Jane Ann Doe"
    customer.save()
    contact = relation_of(customer).contact
    assert (contact.name, contact.first_name, contact.middle_name, contact.surname) == ("Jane Ann Doe", "Jane", "Ann", "Doe")
    contact.first_name = "Janet"
    contact.save()
    customer.refresh_from_db()
    assert customer.name == "Janet Ann Doe"


def test_save_with_update_fields_propagates_only_those(linked):
    contact, customer, _vendor = linked
    contact = Contact.objects.get(pk=contact.pk)
    contact.city, contact.county = "Bergen", "Vestland"
    contact.save(update_fields=["city"])
    customer.refresh_from_db()
    assert (customer.city, customer.county) == ("Bergen", "")


def test_renaming_a_customer_number_keeps_its_relation(linked):
    contact, customer, _vendor = linked
    customer = Customer.objects.get(pk=customer.pk)
    customer.no = "C99999"
    customer.save()
    assert br.contact_linked_record(contact=contact, kind=Kind.CUSTOMER).no == "C99999"


@pytest.mark.parametrize("model", [Customer, Vendor, BankAccount])
def test_renaming_numbers_with_queryset_update_keeps_their_relations(setup, model):
    records = [model.objects.create(name=f"Firm {i}") for i in range(3)]
    contacts = [relation_of(r).contact for r in records]
    model.objects.filter(pk=records[0].pk).update(no="X-1")
    model.objects.filter(pk__in=[r.pk for r in records[1:]]).update(no=Concat(Value("Y-"), "no"))
    kind = br.LINK_BY_MODEL[model].kind
    linked = [br.contact_linked_record(contact=c, kind=kind).no for c in contacts]
    assert linked == ["X-1", f"Y-{records[1].no}", f"Y-{records[2].no}"]
    assert not ContactBusinessRelation.objects.filter(no__in=[r.no for r in records]).exists()


def test_renaming_numbers_with_queryset_update_costs_constant_queries(setup):
    Customer.objects.bulk_create([Customer(no=f"C{i:05d}", name=f"Customer {i}") for i in range(3 * br.PROPAGATION_CHUNK_SIZE)])

    def measure(n):
        pks = list(Customer.objects.order_by("pk").values_list("pk", flat=True)[:n])
        with CaptureQueriesContext(connection) as queries:
            Customer.objects.filter(pk__in=pks).update(no=Concat("no", Value("R")))
        return len(queries.captured_queries)

    assert measure(10) == measure(br.PROPAGATION_CHUNK_SIZE)
    chunk = measure(br.PROPAGATION_CHUNK_SIZE)
    assert measure(3 * br.PROPAGATION_CHUNK_SIZE) - chunk <= 2 * 2  # at most two queries per further chunk
    assert ContactBusinessRelation.objects.filter(no__endswith="RRR").count() == br.PROPAGATION_CHUNK_SIZE


def test_a_chain_of_renumbers_in_one_update_keeps_every_relation(setup):
    first, second = Customer.objects.create(name="First"), Customer.objects.create(name="Second")
    old_first, old_second = first.no, second.no
    contact_first, contact_second = relation_of(first).contact, relation_of(second).contact
    # The relations in the other order than the customers, so that the database meets them in that order.
    ContactBusinessRelation.objects.all().delete()
    br.contact_link_customer(contact=contact_second, customer=second)
    br.contact_link_customer(contact=contact_first, customer=first)
    # One statement: the first customer leaves its number, the second takes it.
    Customer.objects.filter(pk__in=[first.pk, second.pk]).update(
        no=Case(When(pk=first.pk, then=Value("C99999")), default=Value(old_first))
    )
    assert br.contact_linked_record(contact=contact_first, kind=Kind.CUSTOMER).no == "C99999"
    assert br.contact_linked_record(contact=contact_second, kind=Kind.CUSTOMER).no == old_first
    assert not ContactBusinessRelation.objects.filter(no=old_second).exists()


def test_queryset_update_of_person_name_parts_recomputes_and_propagates_the_name(setup):
    customers = [Customer.objects.create(name=f"Jane Doe{i}", contact_type=Contact.Type.PERSON) for i in range(3)]
    contacts = [relation_of(c).contact for c in customers]
    assert contacts[0].first_name == "Jane"
    Contact.objects.filter(pk__in=[c.pk for c in contacts[:2]]).update(first_name="Janet", middle_name="Ann")
    for contact, customer in zip(contacts, customers, strict=True):
        contact.refresh_from_db()
        customer.refresh_from_db()
    assert [c.name for c in contacts] == ["Janet Ann Doe0", "Janet Ann Doe1", "Jane Doe2"]
    assert [c.search_name for c in contacts[:2]] == ["JANET ANN DOE0", "JANET ANN DOE1"]
    assert [c.name for c in customers] == ["Janet Ann Doe0", "Janet Ann Doe1", "Jane Doe2"]


def test_queryset_update_of_a_name_recomputes_the_search_name(linked):
    contact, customer, vendor = linked
    Customer.objects.filter(pk=customer.pk).update(name="Acme Holding")
    contact.refresh_from_db()
    customer.refresh_from_db()
    vendor.refresh_from_db()
    assert (customer.search_name, contact.name, contact.search_name, contact.company_name) == (
        "ACME HOLDING", "Acme Holding", "ACME HOLDING", "Acme Holding")
    assert (vendor.name, vendor.search_name) == ("Acme Holding", "ACME HOLDING")


def test_queryset_update_of_name_parts_costs_constant_queries_per_chunk(setup):
    n = 3 * br.PROPAGATION_CHUNK_SIZE
    Customer.objects.bulk_create(
        [Customer(no=f"C{i:05d}", name=f"Pat Lee{i}", contact_type=Contact.Type.PERSON) for i in range(n)]
    )

    def measure(count, first):
        pks = list(Contact.objects.order_by("pk").values_list("pk", flat=True)[:count])
        with CaptureQueriesContext(connection) as queries:
            Contact.objects.filter(pk__in=pks).update(first_name=first)
        return len([q for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))])

    one_chunk = measure(br.PROPAGATION_CHUNK_SIZE, "Kim")
    three_chunks = measure(n, "Sam")
    per_chunk, remainder = divmod(three_chunks - one_chunk, 2)
    # The contacts read, their names written, the relations, the customers read, the customers written.
    assert (per_chunk, remainder) == (5, 0), (one_chunk, three_chunks)
    assert Customer.objects.filter(name__startswith="Sam Lee").count() == n
    assert measure(10, "Al") <= one_chunk


def test_bulk_update_of_10000_contacts_propagates_in_constant_queries_per_chunk(setup):
    n = 10_000
    Customer.objects.bulk_create([Customer(no=f"C{i:06d}", name=f"Customer {i}") for i in range(n)])
    contacts = list(Contact.objects.order_by("pk"))
    assert len(contacts) == n

    def measure(objs, phone):
        for contact in objs:
            contact.phone_no = phone
        with CaptureQueriesContext(connection) as queries:
            Contact.objects.bulk_update(objs, ["phone_no"])
        # The caller's own UPDATEs of contacts are Django's batching of bulk_update; what follows is ours.
        return len([q for q in queries.captured_queries if not q["sql"].startswith('UPDATE "erp_contact"')])

    chunk = br.PROPAGATION_CHUNK_SIZE
    small_n = 2 * chunk
    small = measure(contacts[:small_n], "111")
    big = measure(contacts, "222")
    chunks_small, chunks_big = small_n // chunk, n // chunk
    per_chunk, remainder = divmod(big - small, chunks_big - chunks_small)
    assert remainder == 0, (small, big)
    overhead = small - chunks_small * per_chunk
    assert 0 <= overhead <= 4, (small, big)
    assert per_chunk <= 8, (small, big)  # relations, customers, their bulk_update (+ savepoints)
    assert Customer.objects.filter(phone_no="222").count() == n
    print(f"\n10,000 contacts: {big} queries besides the contacts' own UPDATEs; {per_chunk} per chunk of {chunk}")


def test_privacy_blocked_is_shared_with_customers_and_vendors(linked):
    contact, customer, vendor = linked
    Contact.objects.filter(pk=contact.pk).update(privacy_blocked=True)
    customer.refresh_from_db()
    vendor.refresh_from_db()
    assert customer.privacy_blocked and vendor.privacy_blocked


def test_explicit_propagation_functions_write_only_differences(linked):
    contact, customer, _vendor = linked
    # A raw write (a plain QuerySet: no hook, not even the base manager's): the sides have drifted.
    QuerySet(Customer).filter(pk=customer.pk).update(city="Drift")
    with CaptureQueriesContext(connection) as queries:
        br.contacts_propagate(contacts=[Contact.objects.get(pk=contact.pk)], fields=["city"])
    customer.refresh_from_db()
    assert customer.city == "Oslo"
    assert len(writes_to(queries, "erp_customer")) == 1 and writes_to(queries, "erp_vendor") == []


def test_a_linked_company_cannot_become_a_person(linked):
    contact, _customer, _vendor = linked
    contact = Contact.objects.get(pk=contact.pk)
    contact.type, contact.first_name, contact.surname = Contact.Type.PERSON, "Ann", "Lee"
    with pytest.raises(ValidationError, match="cannot become a person"):
        contact.save()
    assert Contact.objects.get(pk=contact.pk).type == Contact.Type.COMPANY


# B8: deleting ------------------------------------------------------------------------------------------------------------------
def test_deleting_a_linked_contact_deletes_only_the_contact_and_its_relations(linked):
    contact, customer, vendor = linked
    before = Customer.objects.get(pk=customer.pk).modified_at
    contact.delete()
    assert not ContactBusinessRelation.objects.exists()
    assert Customer.objects.get(pk=customer.pk).modified_at == before
    assert Vendor.objects.filter(pk=vendor.pk).exists()


def test_deleting_a_customer_keeps_the_contact_and_removes_the_relation(linked):
    contact, customer, _vendor = linked
    customer.delete()
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert list(ContactBusinessRelation.objects.values_list("link_to_table", flat=True)) == [Kind.VENDOR]


def test_queryset_deletes_of_customers_vendors_banks_keep_contacts(setup):
    Customer.objects.create(name="A")
    Customer.objects.create(name="B")
    Vendor.objects.create(name="V")
    BankAccount.objects.create(name="K")
    Customer.objects.filter(name="A").delete()
    assert ContactBusinessRelation.objects.filter(link_to_table=Kind.CUSTOMER).count() == 1
    Customer.objects.all().delete()
    Vendor.objects.all().delete()
    BankAccount.objects.all().delete()
    assert Contact.objects.count() == 4
    assert not ContactBusinessRelation.objects.exists()


# B9: billing and posting fields stay on the card ---------------------------------------------------------------------------
def test_billing_and_posting_fields_stay_on_the_customer(linked, template):
    contact, customer, _vendor = linked
    customer = Customer.objects.get(pk=customer.pk)
    customer.payment_terms, customer.customer_posting_group, customer.vat_registration_no = (
        template.payment_terms, "EXPORT", "NO123",
    )
    customer.blocked = Customer.Blocked.ALL
    contact_modified = Contact.objects.get(pk=contact.pk).modified_at
    customer.save()
    assert Contact.objects.get(pk=contact.pk).modified_at == contact_modified
    contact = Contact.objects.get(pk=contact.pk)
    contact.phone_no = "777"
    contact.save()
    customer.refresh_from_db()
    assert (customer.phone_no, customer.customer_posting_group, customer.vat_registration_no, customer.blocked) == (
        "777", "EXPORT", "NO123", Customer.Blocked.ALL,
    )


# B7: documents and interactions from a contact ---------------------------------------------------------------------------
def test_sales_quote_and_order_from_a_company_contact(linked):
    contact, customer, _vendor = linked
    quote = br.contact_create_sales_quote(contact=contact)
    order = br.contact_create_sales_order(contact=contact)
    assert (quote.document_type, quote.no, quote.sell_to_customer, quote.sell_to_contact) == (
        SalesHeader.DocumentType.QUOTE, "SQ1001", customer, contact,
    )
    assert (order.document_type, order.no, order.bill_to_city) == (SalesHeader.DocumentType.ORDER, "SO1001", "Oslo")
    kinds = list(contact.interactions.order_by("pk").values_list("kind", "document_no"))
    assert kinds == [(InteractionLogEntry.Kind.SALES_QUOTE, "SQ1001"), (InteractionLogEntry.Kind.SALES_ORDER, "SO1001")]


def test_a_person_contact_uses_its_company_customer(linked):
    contact, customer, _vendor = linked
    ann = person(contact)
    order = br.contact_create_sales_order(contact=ann)
    assert (order.sell_to_customer, order.sell_to_contact) == (customer, ann)
    assert ann.interactions.get().kind == InteractionLogEntry.Kind.SALES_ORDER


def test_a_contact_without_customer_gets_a_clear_error(setup):
    with pytest.raises(ValidationError, match="is not linked to a customer"):
        br.contact_create_sales_quote(contact=company())
    assert not SalesHeader.objects.exists() and not InteractionLogEntry.objects.exists()


def test_purchase_quote_and_order_from_the_vendor_contact(linked):
    contact, _customer, vendor = linked
    quote = br.contact_create_purchase_quote(contact=contact)
    order = br.contact_create_purchase_order(contact=person(contact))
    assert (quote.document_type, quote.no, quote.buy_from_vendor) == (PurchaseHeader.DocumentType.QUOTE, "PQ1001", vendor)
    assert (order.document_type, order.no, order.buy_from_vendor) == (PurchaseHeader.DocumentType.ORDER, "PO1001", vendor)
    assert InteractionLogEntry.objects.filter(kind__in=["purchase_quote", "purchase_order"]).count() == 2


def test_purchase_document_needs_a_vendor(setup):
    with pytest.raises(ValidationError, match="is not linked to a vendor"):
        br.contact_create_purchase_order(contact=company())


def test_logging_an_email_adds_an_interaction(setup):
    contact = company()
    entry = br.contact_log_email(contact=contact, subject="Price list 2027")
    assert (entry.contact, entry.kind, entry.description) == (contact, InteractionLogEntry.Kind.EMAIL, "Price list 2027")


# With the integration: a propagation is a normal write ----------------------------------------------------------------------
def test_propagated_changes_move_the_modified_timestamps(linked):
    contact, customer, vendor = linked
    customer_before = Customer.objects.get(pk=customer.pk).modified_at
    vendor_before = Vendor.objects.get(pk=vendor.pk).modified_at
    contact = Contact.objects.get(pk=contact.pk)
    contact.phone_no = "555"
    contact.save()
    assert Customer.objects.get(pk=customer.pk).modified_at > customer_before
    assert Vendor.objects.get(pk=vendor.pk).modified_at > vendor_before
    contact_before = Contact.objects.get(pk=contact.pk).modified_at
    Customer.objects.filter(pk=customer.pk).update(city="Tromsø")
    assert Contact.objects.get(pk=contact.pk).modified_at > contact_before
