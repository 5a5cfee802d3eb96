"""The OpenAPI schema says exactly what the API answers (docs/decisions.md#bounded-and-total-doors): text is text, blank
is refused where the schema says ``minLength: 1``, query booleans and page numbers are what the schema says or a 400,
decimals match their pattern, a bulk request that writes nothing is a 400. The whole schema is checked by
test_schemathesis.py; these are the cases it found, one by one."""

import re

import pytest

from crm.models import Account, SystemUser
from erp.models import Customer

pytestmark = pytest.mark.django_db


def component(schema, name):
    return schema["components"]["schemas"][name]["properties"]


@pytest.mark.parametrize("url, body, field", [
    ("/api/crm/system-users/", {"fullname": 0}, "fullname"),
    ("/api/crm/accounts/", {"name": 12}, "name"),
    ("/api/crm/accounts/", {"name": "A", "emailaddress1": 5}, "emailaddress1"),
    ("/api/erp/customers/", {"no": "C1", "name": ["A"]}, "name"),
    ("/api/integration/value-maps/", {"name": 1}, "name"),
])
def test_a_number_or_list_for_a_text_field_is_refused(api, url, body, field):
    response = api.post(url, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not SystemUser.objects.exists() and not Account.objects.exists() and not Customer.objects.exists()


def test_text_that_must_not_be_blank_says_so_in_the_schema(api, schema):
    users, accounts = component(schema, "CrmSystemUser"), component(schema, "CrmAccount")
    for prop in (users["fullname"], accounts["name"]):
        assert prop["minLength"] == 1 and re.search(prop["pattern"], " x ") and not re.search(prop["pattern"], "  ")
    assert "minLength" not in accounts["description"]  # blank allowed, and the schema says nothing against it
    for blank in ("", "   "):
        response = api.post("/api/crm/system-users/", {"fullname": blank}, format="json")
        assert response.status_code == 400 and "fullname" in response.json()
    assert api.post("/api/crm/accounts/", {"name": "A", "description": ""}, format="json").status_code == 201


def test_a_required_reference_by_key_is_not_empty_in_the_schema_as_in_the_answer(api, schema):
    """DRF reads "" as null in a relation: a reference that may not be null refuses it, and the schema says so."""
    headers, purchases = component(schema, "ErpSalesHeader"), component(schema, "ErpPurchaseHeader")
    for prop in (headers["sell_to_customer"], purchases["buy_from_vendor"]):
        assert prop["minLength"] == 1 and not re.search(prop["pattern"], "C\u0000")
    response = api.post("/api/erp/sales-headers/", {"sell_to_customer": ""}, format="json")
    assert response.status_code == 400 and "sell_to_customer" in response.json()
    contacts = component(schema, "CrmContact")
    assert contacts["parent_account"].get("nullable") and "minLength" not in contacts["parent_account"]


def test_decimal_patterns_need_a_digit(api, schema):
    pattern = component(schema, "CrmAccount")["revenue"]["pattern"]
    for text in ("-", ".", "-.", ""):
        assert not re.search(pattern, text), text
    for text in ("12", "-12.5", ".5", "7."):
        assert re.search(pattern, text), text
        assert api.post("/api/crm/accounts/", {"name": f"A{text}", "revenue": text}, format="json").status_code == 201
    assert api.post("/api/crm/accounts/", {"name": "B", "revenue": "-"}, format="json").status_code == 400


@pytest.mark.parametrize("query", ["coupled=1", "coupled=yes", "coupled=", "is_company_an_account=6563",
                                   "transaction_currency__isnull=0"])
def test_query_booleans_are_true_or_false(api, query):
    response = api.get(f"/api/crm/contacts/?{query}")
    assert response.status_code == 400, response.content
    assert query.split("=")[0] in response.json()


def test_query_booleans_filter(api):
    assert api.get("/api/crm/contacts/?coupled=true").status_code == 200
    assert api.get("/api/integration/table-mappings/?is_enabled=false").status_code == 200
    assert api.get("/api/integration/table-mappings/?is_enabled=1").status_code == 400


@pytest.mark.parametrize("url", ["/api/erp/payment-terms/", "/api/crm/accounts/", "/api/integration/jobs/"])
@pytest.mark.parametrize("query", ["page_size=", "page_size=0", "page_size=-3", "page_size=1001", "page_size=x"])
def test_page_sizes_outside_the_documented_range_are_a_400(api, url, query):
    response = api.get(f"{url}?{query}")
    assert response.status_code == 400 and response.json() == {"page_size": ["Give a whole number from 1 to 1,000."]}


def test_page_numbers(api, schema):
    assert api.get("/api/erp/payment-terms/?page=").status_code == 400
    assert api.get("/api/erp/payment-terms/?page=0").status_code == 400
    assert api.get("/api/erp/payment-terms/?page=1&page_size=1000").status_code == 200
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/erp/payment-terms/"]["get"]["parameters"]}
    assert parameters["page"]["minimum"] == 1
    assert (parameters["page_size"]["minimum"], parameters["page_size"]["maximum"]) == (1, 1000)


def test_a_bulk_request_that_writes_nothing_is_a_400_with_the_reasons(api):
    response = api.post("/api/crm/accounts/bulk/", [{"name": 5}, {"name": ""}], format="json")
    assert response.status_code == 400
    assert [r["status"] for r in response.json()["results"]] == ["error", "error"]
    partial = api.post("/api/crm/accounts/bulk/", [{"name": 5}, {"name": "Fine"}], format="json")
    assert partial.status_code == 200 and (partial.json()["created"], partial.json()["error"]) == (1, 1)
