"""The API does what its schema says, in both directions (docs/decisions.md#the-two-apis): one test per kind of
disagreement that schemathesis found (tests/api/test_schemathesis.py runs the whole schema)."""

import json
import re

import jsonschema_rs
import pytest
from django.test import Client
from rest_framework.test import APIClient

from crm.models import Account
from erp.models import Currency
from p2c.api.schema import TEXT_PATTERN
from p2c.idempotency import KEY_PATTERN

pytestmark = pytest.mark.django_db


def parameters(schema, path, method):
    return {p["name"]: p for p in schema["paths"][path][method]["parameters"]}


def test_idempotency_key_accepted_within_the_schemas_rule_and_a_400_naming_the_header_outside(api, schema):
    header = parameters(schema, "/api/crm/accounts/", "post")["Idempotency-Key"]["schema"]
    assert header["pattern"] == KEY_PATTERN and (header["minLength"], header["maxLength"]) == (1, 255)
    for n, key in enumerate(["k", "a" * 255, "Order-2024/05:7~!", "550e8400-e29b-41d4-a716-446655440000"]):
        assert re.search(header["pattern"], key)
        response = api.post("/api/crm/accounts/", {"name": f"A{n}"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert response.status_code == 201, (key, response.content)
    for key in ["", "has space", "clé", "a" * 256, "tab\there"]:
        assert not re.search(header["pattern"], key)
        response = api.post("/api/crm/accounts/", {"name": "B"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert response.status_code == 400 and "Idempotency-Key" in response.json(), key
    assert not Account.objects.filter(name="B").exists()


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "x\udfffy"])
def test_nul_or_lone_surrogate_is_a_400_and_the_schema_says_so(api, schema, text):
    """A NUL breaks the text fields' pattern; a lone surrogate, which no pattern every validator compiles can name
    (p2c.api.schema), is in the 400's description. Either is refused, naming where it is."""
    name = schema["components"]["schemas"]["CrmAccount"]["properties"]["name"]
    description = schema["components"]["schemas"]["CrmAccount"]["properties"]["description"]
    if "\x00" in text:
        assert not re.search(name["pattern"], text) and not re.search(description["pattern"], text)
    else:
        refusal = schema["paths"]["/api/crm/accounts/"]["post"]["responses"]["400"]["description"]
        assert "lone UTF-16 surrogate" in refusal and "property names included" in refusal
    assert re.search(name["pattern"], "Adatum") and re.search(description["pattern"], "")
    assert re.search(name["pattern"], "Adatum \U0001f600") and not re.search(name["pattern"], " \t")
    body = json.dumps({"name": "A", "description": text})  # escaped as \\u0000, \\ud800: JSON can carry them
    response = api.post("/api/crm/accounts/", body, content_type="application/json")
    assert response.status_code == 400 and "body.description" in response.json()["detail"]


def test_every_text_pattern_compiles_in_the_validators_clients_use(schema):
    """Python's ``re`` and Rust's ``regex`` (jsonschema-rs, schemathesis' validator) both compile every pattern of
    the schema: one they cannot is dropped, and the rule is lost to the client."""
    patterns = set(re.findall(r'"pattern": ("(?:[^"\\]|\\.)*")', json.dumps(schema)))
    assert patterns
    for pattern in map(json.loads, patterns):
        re.compile(pattern)
        jsonschema_rs.validator_for({"type": "string", "pattern": pattern})


def test_nul_in_a_query_string_is_a_400_naming_the_parameter(api, schema):
    search = parameters(schema, "/api/crm/accounts/", "get")["search"]["schema"]
    assert search["pattern"] == TEXT_PATTERN and not re.search(search["pattern"], "a\x00")
    response = api.get("/api/crm/accounts/?search=a%00b")
    assert response.status_code == 400 and "search" in response.json()


def test_a_direction_the_mapping_lacks_is_a_409_with_its_code(api, mappings):
    currency = mappings["CURRENCY"]
    assert currency.direction == "to_integration"
    euro = Currency.objects.create(code="EUR")
    for url, body in [
        (f"/api/integration/table-mappings/{currency.pk}/couple/", {"from_side": "crm"}),
        (f"/api/erp/currencies/{euro.code}/synchronize/", {"direction": "get"}),  # Sales → ERP: not in CURRENCY
    ]:
        response = api.post(url, body, format="json")
        assert response.status_code == 409, (url, response.content)
        assert response.json()["code"] == "direction_not_allowed"


def test_synchronising_one_record_not_coupled_is_a_409_with_its_code(api, mappings):
    account = Account.objects.create(name="Adatum")
    response = api.post(f"/api/crm/accounts/{account.pk}/synchronize/", {"direction": "send"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "not_coupled", response.content
    assert "Adatum" in response.json()["detail"]


def test_the_record_synchronize_schema_lists_the_409(schema):
    responses = schema["paths"]["/api/erp/customers/{no}/synchronize/"]["post"]["responses"]
    assert "409" in responses and "direction_not_allowed" in responses["409"]["description"]


@pytest.mark.parametrize("url, parameter", [
    ("/api/crm/quote-details/", "uom"),  # a UUID
    ("/api/integration/table-mappings/", "crm_model"),  # an enum
    ("/api/crm/accounts/", "revenue__gte"),  # a number
])
def test_an_empty_filter_means_no_filter_and_the_schema_allows_it(api, schema, mappings, url, parameter):
    found = parameters(schema, url, "get")[parameter]["schema"]
    assert "" in found.get("enum", []) or {"type": "string", "maxLength": 0} in found.get("anyOf", []), found
    Account.objects.create(name="Adatum", revenue="10")
    plain, empty = api.get(url), api.get(f"{url}?{parameter}=")
    assert empty.status_code == plain.status_code == 200
    assert empty.json() == plain.json()


def test_an_invalid_token_is_a_401_naming_the_token_scheme():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = client.get("/api/crm/accounts/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"


def test_no_credentials_is_a_401_for_an_api_client():
    for method in ("get", "post"):
        response = getattr(APIClient(), method)("/api/crm/accounts/")
        assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"


def test_the_admin_and_the_browsable_api_keep_their_session_login(superuser):
    client = Client(enforce_csrf_checks=True)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(superuser)
    assert client.get("/admin/").status_code == 200
    page = client.get("/api/crm/accounts/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and b"Adatum" not in page.content
    # A session's unsafe request still needs its CSRF token; a token client needs none.
    refused = client.post("/api/crm/accounts/", {"name": "Adatum"}, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert not Account.objects.exists()


def test_text_longer_than_its_max_length_as_sent_is_a_400_though_trimmed_it_would_fit(api, schema):
    """The schema's maxLength counts the text as sent; DRF trims white space first, so the length is checked
    before (a leading U+001D, white space to Python, made 21 characters fit 20)."""
    nos = schema["components"]["schemas"]["CreateCustomersRequest"]["properties"]["nos"]["items"]
    assert nos["maxLength"] == 20
    response = api.post("/api/erp/contacts/create-customers/", {"nos": ["\x1d" + "C" * 20]}, format="json")
    assert response.status_code == 400 and "nos" in response.json(), response.content
    fits = api.post("/api/erp/contacts/create-customers/", {"nos": [" " + "C" * 19]}, format="json")
    assert fits.status_code == 200, fits.content
