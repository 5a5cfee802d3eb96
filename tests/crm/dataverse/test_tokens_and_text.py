"""Bounded and total doors (docs/decisions.md), through the Dataverse Web API: skip tokens (``@odata.nextLink``) and
delta tokens (``@odata.deltaLink``) are checked whole before use, and text that cannot be stored is refused in every
call, those of a $batch included: a 400 in Dataverse's error shape, never a 500 and never a page read from the wrong
place."""

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from crm.models import Account
from tests.crm.dataverse.batches import batch_body, http_part, post_batch

pytestmark = pytest.mark.django_db

PAGE = {"Prefer": "odata.maxpagesize=2"}
TRACK = {"Prefer": "odata.track-changes,odata.maxpagesize=2"}


def _token(data, *, pad=False):
    text = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()
    return text if pad else text.rstrip("=")


def _option(link, name):
    return parse_qs(urlsplit(link).query)[name][0]


def _decoded(token):
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def assert_refused(response, what):
    assert response.status_code == 400, (what, response.status_code, response.content[:300])
    error = response.json_body["error"]
    assert error["code"].startswith("0x") and error["message"], what


def _spoiled(token, data):
    """Tokens this service did not give, made from one it gave (``token``, holding ``data``)."""
    yield "surrogate in the key", _token({**data, "k": "\ud800"})
    yield "NUL in the key", _token({**data, "k": "\x00"})
    yield "a key of no row's shape", _token({**data, "k": "nope"})
    yield "overlong", "A" * 100_000
    yield "a character outside base64", token[:4] + "!" + token[4:]
    yield "standard base64 alphabet", base64.b64encode(json.dumps(data).encode()).decode()
    yield "padded", _token(data, pad=True) if len(_token(data)) % 4 else _token({**data, "x": 1}, pad=True)
    yield "truncated", token[:-3]
    yield "not UTF-8", base64.urlsafe_b64encode(b'{"k":"\xff"}').decode().rstrip("=")
    yield "a list", _token([data])
    yield "an extra key", _token({**data, "x": 1})
    yield "a key missing", _token(dict(list(data.items())[1:]))
    for name in data:
        yield f"{name} as text", _token({**data, name: "1"})
        yield f"{name} negative", _token({**data, name: -5})
        yield f"{name} huge", _token({**data, name: 10**30})
        yield f"{name} true", _token({**data, name: True})
        yield f"{name} a list", _token({**data, name: [1]})


@pytest.fixture
def accounts():
    return [Account.objects.create(name=f"A{i}") for i in range(5)]


def test_a_skip_token_given_is_taken(dv, accounts):
    first = dv.get("accounts?$select=name", headers=PAGE)
    second = dv.get(first.json_body["@odata.nextLink"], headers=PAGE)
    assert second.status_code == 200 and len(second.json_body["value"]) == 2


@pytest.mark.parametrize("orderby", ["", "&$orderby=name"], ids=["by key", "ordered"])
def test_a_skip_token_not_given_is_a_400(dv, accounts, orderby):
    first = dv.get(f"accounts?$select=name{orderby}", headers=PAGE)
    token = _option(first.json_body["@odata.nextLink"], "$skiptoken")
    for what, bad in _spoiled(token, _decoded(token)):
        assert_refused(dv.get(f"accounts?$select=name{orderby}&$skiptoken={bad}", headers=PAGE), what)
    # a token of one kind of read is not taken by the other
    other = "" if orderby else "&$orderby=name"
    assert_refused(dv.get(f"accounts?$select=name{other}&$skiptoken={token}", headers=PAGE), "other kind")


def test_a_delta_skip_token_not_given_is_a_400(dv, accounts):
    start = dv.get("accounts?$select=name", headers=TRACK)
    while "@odata.nextLink" in start.json_body:
        start = dv.get(start.json_body["@odata.nextLink"], headers=TRACK)
    delta = start.json_body["@odata.deltaLink"]
    Account.objects.bulk_update(accounts, ["name"])  # each row changed: the delta read pages
    for account in accounts:
        account.save()
    changed = dv.get(delta, headers=TRACK)
    assert changed.status_code == 200 and "@odata.nextLink" in changed.json_body
    next_link = changed.json_body["@odata.nextLink"]
    token, delta_token = _option(next_link, "$skiptoken"), _option(next_link, "$deltatoken")
    assert dv.get(next_link, headers=TRACK).status_code == 200
    for what, bad in _spoiled(token, _decoded(token)):
        response = dv.get(f"accounts?$select=name&$deltatoken={delta_token}&$skiptoken={bad}", headers=TRACK)
        assert_refused(response, what)
    for what, bad in (("deleted phase of another kind", _token({"u": 1, "phase": "changed"})),
                      ("a paging token of a plain read", _token({"k": str(accounts[0].pk), "r": None, "t": 1}))):
        response = dv.get(f"accounts?$select=name&$deltatoken={delta_token}&$skiptoken={bad}", headers=TRACK)
        assert_refused(response, what)


@pytest.mark.parametrize("token", ["x", "1_000", " 12", "12 ", "+12", "-1", "١٢٣", "9" * 5000, "1e5", "0x10",
                                   "99999999999999999999", "253402300800000000", "%00", "%ED%A0%80"])
def test_a_delta_token_not_given_is_a_400(dv, token):
    assert_refused(dv.get(f"accounts?$deltatoken={token}"), token)


def test_unstorable_text_is_refused_in_every_call(dv):
    nul_name = dv.request("POST", "accounts", raw=b'{"na\\u0000me": "A"}')
    assert_refused(nul_name, "NUL in a property name")
    surrogate = dv.request("POST", "accounts", raw=b'{"name": "net\\ud800x"}')
    assert_refused(surrogate, "surrogate in a value")
    nul_option = dv.get("accounts?$select=name&$filter=name eq 'a%00'")
    assert_refused(nul_option, "NUL in an option")
    assert "$filter" in nul_option.json_body["error"]["message"]
    # the same in a call of a $batch: its own answer is the 400, and the batch goes on when asked to
    response = post_batch(dv, batch_body("batch_t", http_part("GET", "accounts?$filter=name%20eq%20'a%00'"),
                                         http_part("GET", "accounts?$select=name")), batch="batch_t",
                          headers={"Prefer": "odata.continue-on-error"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "HTTP/1.1 400" in text and "$filter" in text and "HTTP/1.1 200" in text
    assert not Account.objects.exists()


@pytest.mark.parametrize("top", ["9" * 5000, "9007199254740993", "-1", "x", "١٢", "1.5"])
def test_a_top_out_of_bounds_is_a_400(dv, accounts, top):
    """``$top`` is a whole number a table can hold: more digits than Python reads were a 500."""
    assert_refused(dv.get(f"accounts?$select=name&$top={top}"), top)


def test_a_top_within_bounds_reads_that_many(dv, accounts):
    response = dv.get("accounts?$select=name&$top=2")
    assert response.status_code == 200 and len(response.json_body["value"]) == 2
