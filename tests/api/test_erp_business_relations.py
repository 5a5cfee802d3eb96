"""The API doors of the business relations (``erp/api/business_relations.py``, docs/features.md B2-B4, B7) and the
read-only ``/api/erp/contact-business-relations/``."""

import pytest

from erp.models import (
    BankAccount,
    Contact,
    ContactBusinessRelation,
    Customer,
    CustomerTemplate,
    InteractionLogEntry,
    PurchaseHeader,
    SalesHeader,
    SalespersonPurchaser,
    Vendor,
)
from tests.api.clients import client_for
from tests.erp.business_relations_setup import configure

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(db):
    return configure()


def company(name="Fabrikam", **kwargs):
    return Contact.objects.create(type=Contact.Type.COMPANY, name=name, **kwargs)


def person(company_contact=None, first="Ann", surname="Lee"):
    return Contact.objects.create(type=Contact.Type.PERSON, company=company_contact, first_name=first, surname=surname)


def relation(contact, kind):
    return ContactBusinessRelation.objects.filter(contact=contact, link_to_table=kind).first()


def post(client, url, data=None, **kwargs):
    return client.post(url, data if data is not None else {}, format="json", **kwargs)


# Create as customer / vendor / bank account --------------------------------------------------------------------------
def test_create_customer_makes_and_links_the_customer(api, setup):
    contact = company(city="Oslo", phone_no="+47 1")
    response = post(api, f"/api/erp/contacts/{contact.no}/create-customer/")
    assert response.status_code == 201, response.data
    assert (response.data["no"], response.data["name"], response.data["city"]) == ("C00010", "Fabrikam", "Oslo")
    assert relation(contact, "customer").no == "C00010"


def test_create_customer_with_a_template_takes_its_billing_information(api, setup):
    CustomerTemplate.objects.create(code="DOM", contact_type="company", customer_group="10", credit_limit_lcy=500)
    contact = company()
    response = post(api, f"/api/erp/contacts/{contact.no}/create-customer/", {"template": "DOM"})
    assert response.status_code == 201, response.data
    customer = Customer.objects.get(no=response.data["no"])
    assert (customer.customer_group, customer.credit_limit_lcy) == ("10", 500)


def test_create_customer_refuses_a_template_for_the_other_contact_type(api, setup):
    CustomerTemplate.objects.create(code="PRIV", contact_type="person")
    contact = company()
    response = post(api, f"/api/erp/contacts/{contact.no}/create-customer/", {"template": "PRIV"})
    assert response.status_code == 400
    assert response.data["template"] == [
        f"Customer template PRIV is for person contacts; contact {contact.no} is a company."
    ]
    unknown = post(api, f"/api/erp/contacts/{contact.no}/create-customer/", {"template": "NOPE"})
    assert unknown.status_code == 400 and "template" in unknown.data
    assert not Customer.objects.exists()


def test_create_customer_without_the_setup_code_names_the_setup_field(api, db):
    configure(codes=("", "VEND", "BANK"))
    contact = company()
    response = post(api, f"/api/erp/contacts/{contact.no}/create-customer/")
    assert response.status_code == 400
    (message,) = response.data["bus_rel_code_for_customers"]
    assert message.startswith("Bus. Rel. Code for Customers must have a value in Marketing Setup")
    assert not Customer.objects.exists() and not ContactBusinessRelation.objects.exists()


def test_create_customer_twice_names_the_contact_and_its_customer(api, setup):
    contact = company()
    assert post(api, f"/api/erp/contacts/{contact.no}/create-customer/").status_code == 201
    again = post(api, f"/api/erp/contacts/{contact.no}/create-customer/")
    assert again.status_code == 400
    assert again.data == {"contact": [f"Contact {contact.no} already has a business relation with customer C00010."]}
    assert Customer.objects.count() == 1


def test_create_vendor_and_bank_account(api, setup):
    contact = company(salesperson=SalespersonPurchaser.objects.create(code="PP", name="Pat"))
    vendor = post(api, f"/api/erp/contacts/{contact.no}/create-vendor/")
    bank = post(api, f"/api/erp/contacts/{contact.no}/create-bank-account/")
    assert (vendor.status_code, bank.status_code) == (201, 201), (vendor.data, bank.data)
    assert (vendor.data["no"], vendor.data["name"], vendor.data["purchaser"]) == ("V00010", "Fabrikam", "PP")
    assert (bank.data["no"], bank.data["name"]) == ("B010", "Fabrikam")
    assert {r.link_to_table for r in contact.business_relations.all()} == {"vendor", "bank_account"}


def test_a_person_without_company_cannot_become_a_vendor(api, setup):
    loner = person()
    response = post(api, f"/api/erp/contacts/{loner.no}/create-vendor/")
    assert response.status_code == 400
    assert response.data["contact"][0].startswith(f"Contact {loner.no} is a person without a company")
    assert not Vendor.objects.exists()


def test_operations_on_an_unknown_contact_are_404(api, setup):
    assert post(api, "/api/erp/contacts/NOPE/create-customer/").status_code == 404
    assert post(api, "/api/erp/customers/NOPE/create-contact/").status_code == 404


# Link and unlink ---------------------------------------------------------------------------------------------------------
@pytest.fixture
def unlinked(db):
    """Marketing Setup without a contact series, so records made here get no contact of their own."""
    configure(contact_nos=False)
    contact = Contact.objects.create(no="K1", name="Contact name", city="Oslo")
    customer = Customer.objects.create(no="C1", name="Customer name", city="Bergen")
    return contact, customer


def test_link_copies_the_contact_to_the_customer(api, unlinked):
    _contact, customer = unlinked
    response = post(api, "/api/erp/contacts/K1/link/", {"link_to_table": "customer", "no": "C1"})
    assert response.status_code == 201, response.data
    assert (response.data["contact"], response.data["link_to_table"], response.data["no"]) == ("K1", "customer", "C1")
    customer.refresh_from_db()
    assert (customer.name, customer.city) == ("Contact name", "Oslo")


def test_link_with_the_record_as_master_copies_the_customer_to_the_contact(api, unlinked):
    contact, _customer = unlinked
    response = post(api, "/api/erp/contacts/K1/link/", {"link_to_table": "customer", "no": "C1", "master": "record"})
    assert response.status_code == 201, response.data
    contact.refresh_from_db()
    assert (contact.name, contact.city) == ("Customer name", "Bergen")


def test_link_refusals_name_the_record_and_the_field(api, unlinked):
    Contact.objects.create(no="K2", name="Other")
    assert post(api, "/api/erp/contacts/K1/link/", {"link_to_table": "customer", "no": "C1"}).status_code == 201
    taken = post(api, "/api/erp/contacts/K2/link/", {"link_to_table": "customer", "no": "C1"})
    assert taken.status_code == 400
    assert taken.data == {"no": ["Customer C1 is already linked to contact K1."]}
    Customer.objects.create(no="C2", name="Second")
    second = post(api, "/api/erp/contacts/K1/link/", {"link_to_table": "customer", "no": "C2"})
    assert second.status_code == 400
    assert second.data == {"contact": ["Contact K1 already has a business relation with customer C1."]}
    unknown = post(api, "/api/erp/contacts/K2/link/", {"link_to_table": "vendor", "no": "V9"})
    assert unknown.status_code == 400 and unknown.data == {"no": ["No vendor V9."]}
    bad_kind = post(api, "/api/erp/contacts/K2/link/", {"link_to_table": "item", "no": "C1"})
    assert bad_kind.status_code == 400 and "link_to_table" in bad_kind.data
    assert ContactBusinessRelation.objects.count() == 1


def test_unlink_removes_only_the_relation(api, unlinked):
    post(api, "/api/erp/contacts/K1/link/", {"link_to_table": "customer", "no": "C1"})
    response = post(api, "/api/erp/contacts/K1/unlink/", {"link_to_table": "customer"})
    assert response.status_code == 200, response.data
    assert (response.data["contact"], response.data["no"]) == ("K1", "C1")
    assert not ContactBusinessRelation.objects.exists()
    assert Customer.objects.filter(no="C1").exists() and Contact.objects.filter(no="K1").exists()
    again = post(api, "/api/erp/contacts/K1/unlink/", {"link_to_table": "customer"})
    assert again.status_code == 400
    assert again.data == {"link_to_table": ["Contact K1 has no business relation with a customer."]}


# Documents and interactions ------------------------------------------------------------------------------------------
@pytest.fixture
def linked(api, setup):
    contact = company(city="Oslo")
    post(api, f"/api/erp/contacts/{contact.no}/create-customer/")
    post(api, f"/api/erp/contacts/{contact.no}/create-vendor/")
    return contact


def test_sales_quote_and_order_for_the_contacts_customer(api, linked):
    quote = post(api, f"/api/erp/contacts/{linked.no}/create-sales-quote/")
    assert quote.status_code == 201, quote.data
    assert (quote.data["no"], quote.data["document_type"], quote.data["sell_to_customer"]) == (
        "SQ1001", "quote", "C00010")
    ann = person(linked)
    order = post(api, f"/api/erp/contacts/{ann.no}/create-sales-order/")
    assert order.status_code == 201, order.data
    assert (order.data["document_type"], order.data["sell_to_customer"], order.data["sell_to_contact"]) == (
        "order", "C00010", ann.no)
    assert list(InteractionLogEntry.objects.order_by("pk").values_list("contact__no", "document_no")) == [
        (linked.no, "SQ1001"), (ann.no, "SO1001"),
    ]


def test_purchase_quote_and_order_for_the_contacts_vendor(api, linked):
    quote = post(api, f"/api/erp/contacts/{linked.no}/create-purchase-quote/")
    order = post(api, f"/api/erp/contacts/{linked.no}/create-purchase-order/")
    assert (quote.status_code, order.status_code) == (201, 201), (quote.data, order.data)
    assert (quote.data["no"], quote.data["buy_from_vendor"]) == ("PQ1001", "V00010")
    assert (order.data["no"], order.data["document_type"]) == ("PO1001", "order")
    assert InteractionLogEntry.objects.filter(kind__in=["purchase_quote", "purchase_order"]).count() == 2


def test_documents_need_a_linked_customer_or_vendor(api, setup):
    contact = company()
    response = post(api, f"/api/erp/contacts/{contact.no}/create-sales-order/")
    assert response.status_code == 400
    assert response.data["contact"][0].startswith(f"Contact {contact.no} is not linked to a customer")
    purchase = post(api, f"/api/erp/contacts/{contact.no}/create-purchase-quote/")
    assert purchase.status_code == 400 and "is not linked to a vendor" in purchase.data["contact"][0]
    assert not SalesHeader.objects.exists() and not PurchaseHeader.objects.exists()
    assert not InteractionLogEntry.objects.exists()


def test_log_email(api, setup):
    contact = company()
    SalespersonPurchaser.objects.create(code="PS", name="Pat")
    response = post(api, f"/api/erp/contacts/{contact.no}/log-email/", {"subject": "Prices 2026", "salesperson": "PS"})
    assert response.status_code == 201, response.data
    assert (response.data["contact"], response.data["kind"], response.data["description"]) == (
        contact.no, "email", "Prices 2026")
    assert response.data["salesperson"] == "PS"
    unknown = post(api, f"/api/erp/contacts/{contact.no}/log-email/", {"salesperson": "NOPE"})
    assert unknown.status_code == 400 and "salesperson" in unknown.data
    blocked = company("Hidden", privacy_blocked=True)
    refused = post(api, f"/api/erp/contacts/{blocked.no}/log-email/", {"subject": "Hi"})
    assert refused.status_code == 400 and "blocked due to privacy" in refused.data["contact"][0]
    assert InteractionLogEntry.objects.count() == 1


def test_a_retried_create_with_the_same_idempotency_key_creates_once(api, setup):
    contact = company()
    url = f"/api/erp/contacts/{contact.no}/create-customer/"
    first = post(api, url, HTTP_IDEMPOTENCY_KEY="k-1")
    retry = post(api, url, HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry["Idempotent-Replayed"] == "true" and retry.data["no"] == first.data["no"]
    assert Customer.objects.count() == 1


# Create contact from customers, vendors, bank accounts -------------------------------------------------------------
@pytest.mark.parametrize("prefix, model, kind", [
    ("customers", Customer, "customer"), ("vendors", Vendor, "vendor"), ("bank-accounts", BankAccount, "bank_account"),
])
def test_create_contact_from_a_record(api, db, prefix, model, kind):
    configure(contact_nos=False)
    record = model.objects.create(no="R1", name="Northwind", city="Oslo")
    # The contact's number comes from the series, which exists only now: records made before got no contact.
    configure_contact_series()
    response = post(api, f"/api/erp/{prefix}/R1/create-contact/")
    assert response.status_code == 201, response.data
    assert (response.data["name"], response.data["city"], response.data["type"]) == ("Northwind", "Oslo", "company")
    assert ContactBusinessRelation.objects.get(link_to_table=kind, no=record.no).contact.no == response.data["no"]
    again = post(api, f"/api/erp/{prefix}/R1/create-contact/")
    assert again.status_code == 400
    assert again.data == {"no": [f"{model._meta.verbose_name} R1 is already linked to contact {response.data['no']}."]}


def configure_contact_series():
    from erp.models import MarketingSetup
    from tests.erp.business_relations_setup import make_series

    setup = MarketingSetup.get_solo()
    setup.contact_nos = make_series("CONT", "CT000001")
    setup.save()


def test_create_contact_without_the_setup_code_names_the_setup_field(api, db):
    configure(contact_nos=False, codes=("CUST", "", "BANK"))
    Vendor.objects.create(no="V1", name="Supplier")
    response = post(api, "/api/erp/vendors/V1/create-contact/")
    assert response.status_code == 400
    assert response.data["bus_rel_code_for_vendors"][0].startswith("Bus. Rel. Code for Vendors must have a value")


# Batches ------------------------------------------------------------------------------------------------------------------
def test_create_customers_for_a_list_reports_each_refusal_by_no(api, setup):
    CustomerTemplate.objects.create(code="DOM", contact_type="company", customer_group="10")
    first, taken, second = company("First"), company("Taken"), company("Second")
    post(api, f"/api/erp/contacts/{taken.no}/create-customer/")
    nos = [first.no, taken.no, "NOPE", second.no]
    response = post(api, "/api/erp/contacts/create-customers/", {"nos": nos, "template": "DOM"})
    assert response.status_code == 200, response.data
    assert (response.data["created"], response.data["error"]) == (2, 2)
    results = {r["key"]: r for r in response.data["results"]}
    assert [r["key"] for r in response.data["results"]] == nos
    assert results[first.no]["status"] == "created" and results[first.no]["record"]["name"] == "First"
    assert results[second.no]["record"]["customer_group"] == "10"
    assert results[taken.no]["errors"] == {
        "contact": [f"Contact {taken.no} already has a business relation with customer C00010."]}
    assert results["NOPE"]["errors"] == {"no": ["No contact NOPE."]}
    assert set(Customer.objects.values_list("name", flat=True)) == {"First", "Taken", "Second"}


def test_create_customers_refused_by_the_setup_reports_every_contact(api, db):
    configure(codes=("", "VEND", "BANK"))
    contacts = [company(f"Firm {i}") for i in range(2)]
    response = post(api, "/api/erp/contacts/create-customers/", {"nos": [c.no for c in contacts]})
    assert response.status_code == 200
    assert (response.data["created"], response.data["error"]) == (0, 2)
    assert all("bus_rel_code_for_customers" in r["errors"] for r in response.data["results"])


def test_create_contacts_for_a_list_of_customers(api, db):
    configure(contact_nos=False)
    for no in ("C1", "C2"):
        Customer.objects.create(no=no, name=f"Customer {no}")
    configure_contact_series()
    assert post(api, "/api/erp/customers/C1/create-contact/").status_code == 201
    response = post(api, "/api/erp/customers/create-contacts/", {"nos": ["C1", "C2", "C9"]})
    assert response.status_code == 200, response.data
    assert (response.data["created"], response.data["error"]) == (1, 2)
    c1, c2, c9 = response.data["results"]
    assert c1["status"] == "error" and c1["errors"]["no"][0].startswith("Customer C1 is already linked to contact")
    assert c2["status"] == "created" and c2["record"]["name"] == "Customer C2"
    assert c9["errors"] == {"no": ["No customer C9."]}
    assert ContactBusinessRelation.objects.filter(link_to_table="customer").count() == 2


def test_batches_need_a_list_of_at_most_1000_nos(api, setup):
    assert post(api, "/api/erp/contacts/create-customers/", {"nos": []}).status_code == 400
    too_many = post(api, "/api/erp/customers/create-contacts/", {"nos": [f"C{i}" for i in range(1001)]})
    assert too_many.status_code == 400 and "nos" in too_many.data


# Permissions ---------------------------------------------------------------------------------------------------------------
CONTACT_OPERATIONS = [
    ("create-customer", {}, "erp.add_customer"),
    ("create-vendor", {}, "erp.add_vendor"),
    ("create-bank-account", {}, "erp.add_bankaccount"),
    ("link", {"link_to_table": "customer", "no": "C1"}, "erp.add_contactbusinessrelation"),
    ("unlink", {"link_to_table": "customer"}, "erp.delete_contactbusinessrelation"),
    ("create-sales-quote", {}, "erp.add_salesheader"),
    ("create-sales-order", {}, "erp.add_salesheader"),
    ("create-purchase-quote", {}, "erp.add_purchaseheader"),
    ("create-purchase-order", {}, "erp.add_purchaseheader"),
    ("log-email", {"subject": "Hi"}, "erp.add_interactionlogentry"),
]


@pytest.mark.parametrize("slug, body, needed", CONTACT_OPERATIONS, ids=[o[0] for o in CONTACT_OPERATIONS])
def test_contact_operations_need_view_contact_and_the_right_to_add_what_they_make(
    slug, body, needed, db, user_with_perms
):
    configure(contact_nos=False)
    contact = Contact.objects.create(no="K1", name="Firm")
    Customer.objects.create(no="C1", name="Firm")
    url = f"/api/erp/contacts/K1/{slug}/"
    # Adding and changing contacts is not the right to add a customer (or a quote …).
    assert post(client_for(user_with_perms("erp.view_contact", "erp.add_contact", "erp.change_contact")),
                url, body).status_code == 403
    assert post(client_for(user_with_perms(needed)), url, body).status_code == 403
    if slug == "unlink":
        ContactBusinessRelation.objects.create(contact=contact, business_relation_id=_customer_code(),
                                               link_to_table="customer", no="C1")
    response = post(client_for(user_with_perms("erp.view_contact", needed)), url, body)
    # Allowed: the function runs and answers (a 400 from the business rules is not a permission refusal).
    assert response.status_code in (200, 201, 400), response.data
    assert response.status_code in (200, 201) or slug.startswith(("create-sales", "create-purchase"))


def _customer_code():
    from erp.models import MarketingSetup

    return MarketingSetup.get_solo().bus_rel_code_for_customers_id


@pytest.mark.parametrize("prefix, view", [
    ("customers", "erp.view_customer"), ("vendors", "erp.view_vendor"), ("bank-accounts", "erp.view_bankaccount"),
])
def test_create_contact_needs_view_of_the_record_and_add_contact(prefix, view, db, user_with_perms):
    configure(contact_nos=False)
    {"customers": Customer, "vendors": Vendor, "bank-accounts": BankAccount}[prefix].objects.create(no="R1", name="X")
    configure_contact_series()
    for perms in ((view,), ("erp.add_contact",), (view, f"erp.add_{view.split('_', 1)[1]}")):
        client = client_for(user_with_perms(*perms))
        assert post(client, f"/api/erp/{prefix}/R1/create-contact/").status_code == 403, perms
        assert post(client, f"/api/erp/{prefix}/create-contacts/", {"nos": ["R1"]}).status_code == 403, perms
    allowed = client_for(user_with_perms(view, "erp.add_contact"))
    assert post(allowed, f"/api/erp/{prefix}/create-contacts/", {"nos": ["R1"]}).data["created"] == 1
    assert post(allowed, f"/api/erp/{prefix}/R1/create-contact/").status_code == 400  # linked by the batch


def test_create_customers_batch_needs_add_customer(setup, user_with_perms):
    contact = company()
    body = {"nos": [contact.no]}
    refused = client_for(user_with_perms("erp.view_contact", "erp.add_contact", "erp.change_contact"))
    assert post(refused, "/api/erp/contacts/create-customers/", body).status_code == 403
    allowed = client_for(user_with_perms("erp.view_contact", "erp.add_customer"))
    assert post(allowed, "/api/erp/contacts/create-customers/", body).data["created"] == 1


# /api/erp/contact-business-relations/ is read-only -----------------------------------------------------------------------
def test_contact_business_relations_are_listed_and_filtered(api, setup):
    first, second = company("First"), company("Second")
    post(api, f"/api/erp/contacts/{first.no}/create-customer/")
    post(api, f"/api/erp/contacts/{first.no}/create-vendor/")
    post(api, f"/api/erp/contacts/{second.no}/create-customer/")

    def listed(**params):
        response = api.get("/api/erp/contact-business-relations/", params)
        assert response.status_code == 200, response.data
        return sorted((r["contact"], r["link_to_table"], r["no"]) for r in response.data["results"])

    assert listed(contact=first.no) == [(first.no, "customer", "C00010"), (first.no, "vendor", "V00010")]
    assert listed(link_to_table="customer") == [(first.no, "customer", "C00010"), (second.no, "customer", "C00011")]
    assert listed(no="C00011") == [(second.no, "customer", "C00011")]
    one = ContactBusinessRelation.objects.get(no="V00010")
    detail = api.get(f"/api/erp/contact-business-relations/{one.pk}/")
    assert detail.status_code == 200 and detail.data["business_relation"] == "VEND"


def test_contact_business_relations_cannot_be_written_directly(api, setup):
    contact = company()
    post(api, f"/api/erp/contacts/{contact.no}/create-customer/")
    existing = ContactBusinessRelation.objects.get()
    other = company("Other")
    url = "/api/erp/contact-business-relations/"
    body = {"contact": other.no, "business_relation": "CUST", "link_to_table": "customer", "no": "C00010"}
    assert post(api, url, body).status_code == 405
    assert api.patch(f"{url}{existing.pk}/", {"contact": other.no}, format="json").status_code == 405
    assert api.put(f"{url}{existing.pk}/", body, format="json").status_code == 405
    assert api.delete(f"{url}{existing.pk}/").status_code == 405
    assert list(ContactBusinessRelation.objects.values_list("contact__no", "no")) == [(contact.no, "C00010")]
