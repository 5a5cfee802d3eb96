"""Single-record endpoints: natural keys, read-only system fields, 400 naming the field, 404, 409."""

import uuid

import pytest

from crm.models import Account, Contact, SystemUser
from erp.models import Contact as ErpContact
from erp.models import Customer, PaymentTerms, SalespersonPurchaser

pytestmark = pytest.mark.django_db


def test_create_account_numbers_it_and_ignores_system_fields(api):
    response = api.post(
        "/api/crm/accounts/",
        {"name": "Fabrikam", "modifiedon": "2000-01-01T00:00:00Z", "id": str(uuid.uuid4())},
        format="json",
    )
    assert response.status_code == 201, response.data
    account = Account.objects.get()
    assert response.data["id"] == str(account.pk)
    assert account.account_number.startswith("ACC-")
    assert account.modifiedon.year > 2000


def test_sales_foreign_keys_are_uuids(api):
    owner = SystemUser.objects.create(fullname="Owner")
    response = api.post("/api/crm/accounts/", {"name": "A", "owner": str(owner.pk)}, format="json")
    assert response.status_code == 201
    assert response.data["owner"] == str(owner.pk)
    unknown = api.post("/api/crm/accounts/", {"name": "B", "owner": str(uuid.uuid4())}, format="json")
    assert unknown.status_code == 400 and "owner" in unknown.data
    malformed = api.post("/api/crm/accounts/", {"name": "B", "owner": "not-a-uuid"}, format="json")
    assert malformed.status_code == 400 and "owner" in malformed.data


def test_erp_foreign_keys_are_natural_keys(api):
    SalespersonPurchaser.objects.create(code="PS-01", name="Pat")
    PaymentTerms.objects.create(code="14D")
    response = api.post(
        "/api/erp/customers/",
        {"no": "C0001", "name": "Contoso", "salesperson": "PS-01", "payment_terms": "14D"},
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["salesperson"] == "PS-01"
    assert Customer.objects.get(no="C0001").salesperson.code == "PS-01"
    detail = api.get("/api/erp/customers/C0001/")
    assert detail.status_code == 200 and detail.data["payment_terms"] == "14D"
    bad = api.patch("/api/erp/customers/C0001/", {"salesperson": "NOPE"}, format="json")
    assert bad.status_code == 400 and "salesperson" in bad.data


def test_field_errors_name_the_field(api):
    response = api.post("/api/crm/accounts/", {"name": "", "credit_limit": "lots", "emailaddress1": "x"}, format="json")
    assert response.status_code == 400
    assert {"name", "credit_limit", "emailaddress1"} <= set(response.data)


def test_model_refusal_by_the_setup_is_a_409_not_a_500(api):
    # No customer number series configured and no number given: the model says so, the API passes it on as a
    # refusal by the configuration's state (docs/decisions.md#the-two-apis), naming the field, with its code.
    response = api.post("/api/erp/customers/", {"name": "No number"}, format="json")
    assert response.status_code == 409
    assert "no" in response.data and response.data["code"] == "number_series_missing"


def test_unknown_ids_are_404(api):
    assert api.get(f"/api/crm/accounts/{uuid.uuid4()}/").status_code == 404
    assert api.get("/api/crm/accounts/not-a-uuid/").status_code == 404
    assert api.get("/api/erp/customers/NOPE/").status_code == 404
    assert api.get("/api/erp/customers/%00/").status_code == 404
    assert api.delete("/api/erp/vendors/NOPE/").status_code == 404


def test_check_constraints_are_field_errors(api):
    account = Account.objects.create(name="A")
    company = Contact.objects.create(last_name="Company")
    response = api.post(
        "/api/crm/contacts/",
        {"last_name": "X", "parent_account": str(account.pk), "parent_contact": str(company.pk)},
        format="json",
    )
    assert response.status_code == 400 and "parent_contact" in response.data
    ErpContact.objects.create(no="CT1", name="Company", type="company")
    response = api.post("/api/erp/contacts/", {"no": "CT2", "name": "Co 2", "company": "CT1"}, format="json")
    assert response.status_code == 400 and "company" in response.data
    response = api.post(
        "/api/erp/contacts/", {"no": "CT3", "type": "person", "first_name": "Ann", "company": "CT1"}, format="json"
    )
    assert response.status_code == 201, response.data
    assert response.data["company"] == "CT1"


def test_deleting_a_referenced_record_is_a_409(api):
    SalespersonPurchaser.objects.create(code="PS-01", name="Pat")
    Customer.objects.create(no="C1", name="C", salesperson=SalespersonPurchaser.objects.get())
    response = api.delete("/api/erp/salespeople-purchasers/PS-01/")
    assert response.status_code == 409
    assert response.data["related"]


def test_writes_record_the_sales_user_of_the_login(api, superuser):
    me = SystemUser.objects.create(fullname="Me", user=superuser)
    response = api.post("/api/crm/accounts/", {"name": "Mine"}, format="json")
    assert Account.objects.get(pk=response.data["id"]).modifiedby_id == me.pk
    assert response.data["modifiedby"] == str(me.pk)


def test_singleton_setup_is_read_and_changed(api):
    from erp.models import NoSeries

    NoSeries.objects.create(code="CUST", starting_no="C0001")
    listing = api.get("/api/erp/sales-receivables-setup/")
    assert listing.status_code == 200 and len(listing.data) == 1
    response = api.patch("/api/erp/sales-receivables-setup/1/", {"customer_nos": "CUST"}, format="json")
    assert response.status_code == 200, response.data
    created = api.post("/api/erp/customers/", {"name": "Numbered"}, format="json")
    assert created.status_code == 201 and created.data["no"] == "C0001"
    assert created.data["no_series"] == "CUST"


def test_delete_that_the_database_refuses_is_not_a_500(api):
    account = Account.objects.create(name="A")
    Contact.objects.create(last_name="X", parent_account=account)
    # crm.Contact's SET_NULL leaves is_company_an_account true, which its check constraint refuses: the API
    # answers 409 and keeps both (or 204 once the model clears the flag itself).
    response = api.delete(f"/api/crm/accounts/{account.pk}/")
    assert response.status_code in (204, 409)
    assert Contact.objects.count() == 1
