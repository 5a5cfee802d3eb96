"""Bulk upsert: per-record answers, unchanged records not written, one bad record never stops the others,
nothing half-written, and a constant number of queries however many records."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.models import Account, Contact, SystemUser
from erp.models import Contact as ErpContact
from erp.models import Customer, NoSeries, SalespersonPurchaser, SalesReceivablesSetup
from p2c.api.bulk import MAX_RECORDS

pytestmark = pytest.mark.django_db

URL = "/api/crm/accounts/bulk/"


def test_created_updated_unchanged_and_errors(api):
    same = Account.objects.create(name="Same", account_number="ACC-1")
    changed = Account.objects.create(name="Before", account_number="ACC-2")
    long_ago = timezone.now() - timedelta(days=3)
    Account.objects.filter(pk__in=[same.pk, changed.pk]).update(modifiedon=long_ago)
    owner = SystemUser.objects.create(fullname="Owner")

    response = api.post(URL, [
        {"account_number": "ACC-1", "name": "Same"},
        {"account_number": "ACC-2", "name": "After", "owner": str(owner.pk)},
        {"account_number": "ACC-3", "name": "New"},
        {"account_number": "ACC-4", "name": "", "credit_limit": "lots"},
        {"name": "Numbered for me"},
        {"account_number": "ACC-5", "name": "Bad owner", "owner": "7c4a4a8e-0000-4000-8000-000000000000"},
    ], format="json")
    assert response.status_code == 200, response.data
    body = response.data
    assert [r["status"] for r in body["results"]] == ["unchanged", "updated", "created", "error", "created", "error"]
    assert (body["created"], body["updated"], body["unchanged"], body["error"]) == (2, 1, 1, 2)
    assert set(body["results"][3]["errors"]) == {"name", "credit_limit"}
    assert "owner" in body["results"][5]["errors"]
    assert body["results"][4]["key"].startswith("ACC-")

    same.refresh_from_db()
    changed.refresh_from_db()
    assert same.modifiedon == long_ago, "an unchanged record is not written"
    assert changed.modifiedon > long_ago and changed.name == "After" and changed.owner_id == owner.pk
    assert Account.objects.filter(account_number="ACC-3", name="New").exists()
    assert not Account.objects.filter(account_number__in=["ACC-4", "ACC-5"]).exists()


def test_existing_records_are_updated_partially(api):
    Account.objects.create(name="Keep", account_number="ACC-1", telephone1="123")
    api.post(URL, [{"account_number": "ACC-1", "telephone2": "456"}], format="json")
    account = Account.objects.get()
    assert (account.name, account.telephone1, account.telephone2) == ("Keep", "123", "456")


def test_envelope_errors(api):
    assert api.post(URL, {"name": "not a list"}, format="json").status_code == 400
    too_many = [{"name": f"A{i}"} for i in range(MAX_RECORDS + 1)]
    assert api.post(URL, too_many, format="json").status_code == 400
    response = api.post(URL, ["not an object", {"account_number": "K", "name": "A"}, {"account_number": "K"}],
                        format="json")
    assert [r["status"] for r in response.data["results"]] == ["error", "created", "error"]
    assert "account_number" in response.data["results"][2]["errors"]
    assert Account.objects.count() == 1


def test_nothing_half_written_when_the_batch_collides(api, monkeypatch):
    from django.db import IntegrityError

    Account.objects.create(name="Before", account_number="ACC-1")

    def collide(*args, **kwargs):
        raise IntegrityError("duplicate key")

    monkeypatch.setattr(type(Account.objects.all()), "bulk_create", collide)
    response = api.post(URL, [{"account_number": "ACC-1", "name": "After"}, {"name": "New"}], format="json")
    assert response.status_code == 409
    assert Account.objects.get().name == "Before"


def test_erp_customers_by_no_and_number_series(api):
    pat = SalespersonPurchaser.objects.create(code="PAT", name="Pat")
    url = "/api/erp/customers/bulk/"
    response = api.post(url, [{"no": "C1", "name": "One", "salesperson": "PAT"}, {"name": "No number"}],
                        format="json")
    assert [r["status"] for r in response.data["results"]] == ["created", "error"]
    assert "no" in response.data["results"][1]["errors"]
    assert Customer.objects.get(no="C1").salesperson == pat

    setup = SalesReceivablesSetup.get_solo()
    setup.customer_nos = NoSeries.objects.create(code="CUST", starting_no="C1000")
    setup.save()
    response = api.post(url, [{"name": "Numbered"}, {"no": "C1", "name": "One"}], format="json")
    assert [r["status"] for r in response.data["results"]] == ["created", "unchanged"]
    assert response.data["results"][0]["key"] == "C1000"


def test_erp_and_crm_contacts(api):
    ErpContact.objects.create(no="CT1", name="Company", type="company")
    response = api.post("/api/erp/contacts/bulk/", [
        {"no": "CT2", "type": "person", "first_name": "Ann", "surname": "Lee", "company": "CT1"},
        {"no": "CT3", "type": "company", "name": "Bad", "company": "CT1"},
    ], format="json")
    assert [r["status"] for r in response.data["results"]] == ["created", "error"]
    assert ErpContact.objects.get(no="CT2").name == "Ann Lee"

    account = Account.objects.create(name="A")
    response = api.post("/api/crm/contacts/bulk/", [
        {"last_name": "Smith", "parent_account": str(account.pk)},
        {"contact_number": "CON-X", "last_name": "Jones"},
    ], format="json")
    assert [r["status"] for r in response.data["results"]] == ["created", "created"]
    smith = Contact.objects.get(last_name="Smith")
    assert smith.is_company_an_account and smith.contact_number.startswith("CON-")


def _payload(n, owner, currency):
    return [
        {"account_number": f"ACC-{i:05d}", "name": f"Account {i}", "owner": str(owner.pk),
         "transaction_currency": str(currency.pk), "credit_limit": "1000.00"}
        for i in range(n)
    ]


def _queries(api, payload):
    with CaptureQueriesContext(connection) as queries:
        response = api.post(URL, payload, format="json")
    assert response.status_code == 200
    assert response.data["error"] == 0, response.data["results"][:3]
    return len(queries)


def test_query_count_is_constant(api):
    from crm.models import TransactionCurrency

    owner = SystemUser.objects.create(fullname="Owner")
    currency = TransactionCurrency.objects.create(iso_currency_code="EUR", currency_name="Euro")
    small, large = _payload(10, owner, currency), _payload(500, owner, currency)
    for record in large:
        record["account_number"] = record["account_number"].replace("ACC", "BIG")
    create_small, create_large = _queries(api, small), _queries(api, large)
    assert create_small == create_large
    for record in small + large:
        record["name"] += " (renamed)"
    update_small, update_large = _queries(api, small), _queries(api, large)
    assert update_small == update_large
    assert Account.objects.filter(name__endswith="(renamed)").count() == 510
    unchanged_small, unchanged_large = _queries(api, small), _queries(api, large)
    assert unchanged_small == unchanged_large


def test_a_record_whose_key_is_bulk_is_read_changed_and_deleted_at_its_own_url(api, user_with_perms):
    """``…/bulk/`` is the bulk upsert's URL and that of the record keyed "bulk": the router finds the bulk action
    first, whose other methods answer as the record's, with the record's permissions (not add and change)."""
    from tests.api.clients import client_for

    customer = Customer.objects.create(no="bulk", name="Named like the action")
    url = "/api/erp/customers/bulk/"

    reader = client_for(user_with_perms("erp.view_customer"))
    response = reader.get(url)
    assert response.status_code == 200 and response.data["name"] == "Named like the action"
    assert reader.patch(url, {"name": "Renamed"}, format="json").status_code == 403

    assert api.head(url).status_code == 200
    assert api.options(url).status_code == 200  # what may be done there: the record's methods as the upsert's
    assert api.patch(url, {"name": "Renamed"}, format="json").status_code == 200
    customer.refresh_from_db()
    assert customer.name == "Renamed"
    assert api.post(url, [{"no": "C-NEW", "name": "Still the bulk upsert"}], format="json").status_code == 200
    assert Customer.objects.filter(no="C-NEW").exists()
    assert api.delete(url).status_code == 204
    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert api.get(url).status_code == 404


def test_a_sales_record_key_is_a_uuid_so_bulk_names_none(api):
    assert api.get("/api/crm/accounts/bulk/").status_code == 404
    assert api.put("/api/crm/accounts/bulk/", {"name": "x"}, format="json").status_code == 404


def test_a_batch_the_setup_refuses_whole_is_a_409_with_its_code(api):
    """No customer number series and no number given: each record says why, with the code, and the batch is refused
    by the configuration's state (409), as one such record is (test_records.py); one record wrong as sent makes it a
    400 again."""
    response = api.post("/api/erp/customers/bulk/", [{"name": "No number"}, {"name": "Nor this"}], format="json")
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "number_series_missing" and body["error"] == 2
    assert all(result["code"] == "number_series_missing" and "no" in result["errors"] for result in body["results"])
    assert not Customer.objects.exists()
    mixed = api.post("/api/erp/customers/bulk/", [{"name": "No number"}, {"name": 5}], format="json")
    assert mixed.status_code == 400 and "code" not in mixed.json(), mixed.content


def test_a_key_blank_once_trimmed_is_no_key(api):
    """A number of white space only is no number: the record is numbered like one without, two of them are not the
    same key twice, and a record beside them with a number of its own is answered on its own."""
    setup = SalesReceivablesSetup.get_solo()
    setup.customer_nos = NoSeries.objects.create(code="CUST", starting_no="C00010", increment_by=10)
    setup.save()
    response = api.post("/api/erp/customers/bulk/", [
        {"no": " ", "name": "Spaces"}, {"no": "\u00a0\t", "name": "Other spaces"}, {"no": "C-OWN", "name": "Own"},
    ], format="json")
    assert response.status_code == 200, response.content
    assert [result["status"] for result in response.json()["results"]] == ["created", "created", "created"]
    assert sorted(Customer.objects.values_list("no", flat=True)) == ["C-OWN", "C00010", "C00020"]


def test_a_blank_key_without_number_series_is_refused_by_state_record_by_record(api):
    """Without a number series, blank numbers are each refused with the code and the others written (200); every
    record refused that way is a 409, as the bulk endpoint's description says."""
    mixed = api.post("/api/erp/customers/bulk/", [{"no": "  ", "name": "Blank"}, {"no": "C-OWN", "name": "Own"}],
                     format="json")
    assert mixed.status_code == 200, mixed.content
    assert [(r["status"], r.get("code")) for r in mixed.json()["results"]] == [
        ("error", "number_series_missing"), ("created", None)]
    refused = api.post("/api/erp/contacts/bulk/", [{"no": " ", "name": "Blank"}, {"no": "\t", "name": "Blank too"}],
                       format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "number_series_missing", refused.content
    assert refused.json()["error"] == 2
