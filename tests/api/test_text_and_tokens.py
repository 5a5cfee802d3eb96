"""Bounded and total doors (docs/decisions.md), through p2c's API: text that cannot be stored (a NUL, a lone surrogate)
is refused once, by the parsers and the query-string check, naming the field, in every kind of body; every opaque token
(the list cursors, the Idempotency-Key header) is checked whole before use: a 400 in the API's error shape, never a 500,
nothing written."""

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from crm.models import Account
from p2c.models import IdempotencyKey

pytestmark = pytest.mark.django_db

ACCOUNTS = "/api/crm/accounts/"


# -- text -------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, where", [
    ('{"name": "net\\ud800x"}', "body.name"),
    ('{"name": "A", "telephone1": "12\\u00003"}', "body.telephone1"),
    ('{"name": "A", "address1_city": "\\udfff"}', "body.address1_city"),
])
def test_json_fields_holding_a_nul_or_a_surrogate_are_a_400_naming_the_field(api, raw, where):
    response = api.generic("POST", ACCOUNTS, raw, content_type="application/json")
    assert response.status_code == 400
    assert where in response.json()["detail"] and "cannot be stored" in response.json()["detail"]
    assert not Account.objects.exists()


@pytest.mark.parametrize("body", ["name=a%00b", "name=A&telephone1=%00", "na%00me=A"])
def test_a_form_body_holding_a_nul_is_a_400_naming_the_field(api, body):
    response = api.generic("POST", ACCOUNTS, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400, response.content
    detail = response.json()["detail"]
    assert "form field" in detail and "cannot be stored" in detail
    assert ("na\\u0000me" if body.startswith("na%00") else body.split("&")[-1].split("=")[0]) in detail
    assert not Account.objects.exists()


def test_a_multipart_body_holding_a_nul_is_a_400_naming_the_field(api):
    response = api.post(ACCOUNTS, {"name": "a\x00b"}, format="multipart")
    assert response.status_code == 400 and "form field name" in response.json()["detail"]
    assert not Account.objects.exists()


@pytest.mark.parametrize("query, name", [("search=a%00", "search"), ("name=%00", "name"),
                                         ("ordering=na%00me", "ordering"), ("x%00y=1", "x\\u0000y")])
def test_a_query_parameter_holding_a_nul_is_a_400_naming_it(api, query, name):
    response = api.get(f"{ACCOUNTS}?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [name] and "NUL" in response.json()[name][0]


def test_a_query_string_cannot_carry_a_surrogate(api):
    # %ED%A0%80 is a surrogate's UTF-8 form, which is not UTF-8: Django decodes it as U+FFFD, text that can be
    # stored, so the search runs (and finds nothing) rather than failing.
    Account.objects.create(name="Kept")
    response = api.get(f"{ACCOUNTS}?search=%ED%A0%80")
    assert response.status_code == 200 and response.data["results"] == []


# -- cursors ----------------------------------------------------------------------------------------------------------
def _encode(payload, *, pad=False):
    text = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
    return text if pad else text.rstrip("=")


@pytest.fixture
def next_cursor(api):
    """A cursor this API gave (the second page of accounts ordered by name) and its data."""
    Account.objects.bulk_create([Account(name=f"A{i}") for i in range(5)])
    first = api.get(f"{ACCOUNTS}?ordering=name&page_size=2")
    cursor = parse_qs(urlsplit(first.data["next"]).query)["cursor"][0]
    return cursor, json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def test_a_cursor_given_is_taken(api, next_cursor):
    cursor, _data = next_cursor
    response = api.get(f"{ACCOUNTS}?ordering=name&page_size=2&cursor={cursor}")
    assert [row["name"] for row in response.data["results"]] == ["A2", "A3"]


def _mutations(cursor, data):
    yield "surrogate in the value", _encode({**data, "v": "A\ud800"})
    yield "surrogate in the key", _encode({**data, "k": "\udfff"})
    yield "NUL in the value", _encode({**data, "v": "A\x00"})
    yield "overlong", _encode({**data, "v": "A" * 3000})
    yield "standard base64 alphabet", base64.b64encode(json.dumps({**data, "v": "A??>"}).encode()).decode()
    yield "padded", _encode(data, pad=True) if len(_encode(data)) % 4 else _encode({**data, "v": "A1"}, pad=True)
    yield "a character outside base64", cursor[:4] + "!" + cursor[4:]
    yield "a space inside", cursor[:4] + " " + cursor[4:]
    yield "truncated", cursor[:-3]
    yield "JSON spaced out", base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    yield "not UTF-8", base64.urlsafe_b64encode(b'{"v":"\xff","k":"1","b":0}').decode().rstrip("=")
    yield "an extra key", _encode({**data, "x": 1})
    yield "a key missing", _encode({"v": data["v"], "k": data["k"]})
    yield "backwards 2", _encode({**data, "b": 2})
    yield "backwards true", _encode({**data, "b": True})
    yield "a number for the value", _encode({**data, "v": 12})
    yield "a key that is no UUID", _encode({**data, "k": "12"})
    yield "a list", _encode([data])
    yield "deep", _encode({**data, "v": [[[[[]]]]]})


def test_a_cursor_not_given_by_the_api_is_a_400_never_a_500(api, next_cursor):
    cursor, data = next_cursor
    for what, bad in _mutations(cursor, data):
        for ordering in ("ordering=name&", ""):
            response = api.get(f"{ACCOUNTS}?{ordering}page_size=2&cursor={bad}")
            assert response.status_code == 400, (what, response.status_code)
            assert response.json() == {"cursor": ["Invalid cursor."]}, what


# -- idempotency keys -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["a\x00b", "net\ud800x", "Ã©", "x" * 256, "", " ", "two words", "key\n", "\t"],
                         ids=["nul", "surrogate", "latin-1", "overlong", "empty", "space", "spaces", "newline", "tab"])
def test_an_idempotency_key_not_whole_is_a_400_naming_the_header(api, key):
    response = api.post(ACCOUNTS, {"name": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert list(response.json()) == ["Idempotency-Key"] and "visible ASCII" in response.json()["Idempotency-Key"][0]
    assert not Account.objects.exists() and not IdempotencyKey.objects.exists()


def test_an_idempotency_key_of_255_visible_characters_is_taken(api):
    key = "!~" + "k" * 253
    first = api.post(ACCOUNTS, {"name": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = api.post(ACCOUNTS, {"name": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert Account.objects.count() == 1


def test_the_schema_states_what_a_cursor_is(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    parameters = schema["paths"]["/api/crm/accounts/"]["get"]["parameters"]
    cursor = next(parameter for parameter in parameters if parameter["name"] == "cursor")
    assert cursor["schema"] == {"type": "string", "minLength": 1, "maxLength": 2048, "pattern": "^[A-Za-z0-9_-]+$"}
