"""The conflict inbox from every door (docs/decisions.md#the-conflict-inbox): the admin (bulk action and the
side-by-side page), the API and the `conflicts_resolve` command call the same operation and tell the same outcome; the
API lists and filters the inbox, the admin's first page reads in a constant number of queries; the command names bad
arguments."""

import re
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Account
from erp.models import Customer
from integration.models import ConnectionSetup, SyncConflict, SyncJob
from tests.databases import rolled_back
from tests.integration.helpers import pairs_in_conflict

pytestmark = pytest.mark.django_db

LEVELS = {25: "success", 30: "warning", 40: "error", 20: "info"}
CHANGELIST = "/admin/integration/syncconflict/"


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


@pytest.fixture
def conflicts(mappings, salesperson_pair):
    return pairs_in_conflict(mappings["CUSTOMER"], salesperson_pair[0], 2)


def said_by_admin(response):
    messages = list(get_messages(response.wsgi_request))
    assert len(messages) == 1, [str(m) for m in messages]
    text = re.sub(r"<[^>]+>", "", str(messages[0])).split(" Jobs: ")[0].strip()
    return text, LEVELS[messages[0].level]


def said_by_command(*args):
    out, err = StringIO(), StringIO()
    code = 0
    try:
        call_command("conflicts_resolve", *args, "--by", "root", stdout=out, stderr=err)
    except CommandError as exc:
        code = exc.returncode
        if "Resolve conflicts" not in out.getvalue() + err.getvalue():
            return str(exc), code
    line = next(line for line in (out.getvalue() + err.getvalue()).splitlines() if line.startswith("Resolve"))
    return line.strip(), code


def phones():
    return sorted([*Customer.objects.values_list("phone_no", flat=True),
                   *Account.objects.filter(telephone1__contains=" ").values_list("telephone1", flat=True)])


def each_door(doors):
    told = {}
    for name, start in doors.items():
        with rolled_back():
            said = start()
            told[name] = (said, phones(), SyncConflict.objects.count())
    return told


def test_take_the_erp_side_from_every_door(conflicts, admin_client, api):
    first = conflicts[0]
    doors = {
        "admin action": lambda: said_by_admin(admin_client.post(CHANGELIST, {
            "action": "take_erp", "_selected_action": [str(first.pk)], "index": "0"}, follow=True)),
        "admin page": lambda: said_by_admin(admin_client.post(f"{CHANGELIST}{first.pk}/change/",
                                                              {"resolution": "erp"}, follow=True)),
        "api": lambda: (lambda r: (r.json()["summary"], r.status_code))(
            api.post(f"/api/integration/conflicts/{first.pk}/resolve/", {"resolution": "erp"}, format="json")),
        "command": lambda: said_by_command("--take", "erp", str(first.pk)),
    }
    told = each_door(doors)

    texts = {name: said[0].split(" Jobs: ")[0] for name, (said, _, _) in told.items()}
    assert len(set(texts.values())) == 1, texts
    assert texts["api"].startswith("Resolve conflicts: 1 done")
    assert {name: said[1] for name, (said, _, _) in told.items()} == {
        "admin action": "success", "admin page": "success", "api": 200, "command": 0}
    assert len({repr(effects) for _, effects, _ in told.values()}) == 1
    assert {left for _, _, left in told.values()} == {1}


def test_a_refusal_is_told_the_same_way_by_every_door(conflicts, admin_client, api):
    ConnectionSetup.objects.update(is_enabled=False)
    pk = conflicts[0].pk
    admin_text, admin_level = said_by_admin(admin_client.post(CHANGELIST, {
        "action": "take_crm", "_selected_action": [str(pk)], "index": "0"}, follow=True))
    response = api.post(f"/api/integration/conflicts/{pk}/resolve/", {"resolution": "crm"}, format="json")
    command_text, code = said_by_command("--take", "crm", str(pk))
    assert admin_text == response.json()["detail"] == command_text and "connection is not enabled" in admin_text
    assert (admin_level, response.status_code, code) == ("error", 409, 1)
    assert SyncConflict.objects.count() == 2


def test_field_by_field_on_the_side_by_side_page(conflicts, admin_client):
    conflict = conflicts[0]
    page = admin_client.get(f"{CHANGELIST}{conflict.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200 and 'data-field="phone_no"' in html and "<details" in html
    coupling = conflict.coupling
    assert f"ERP {coupling.erp_id}" in html and f"Sales {coupling.erp_id}" in html

    response = admin_client.post(f"{CHANGELIST}{conflict.pk}/change/",
                                 {"resolution": "fields", "field_phone_no": "crm"}, follow=True)

    assert said_by_admin(response)[1] == "success"
    assert Customer.objects.get(pk=coupling.erp_id).phone_no == f"Sales {coupling.erp_id}"
    assert not SyncConflict.objects.filter(pk=conflict.pk).exists()
    assert SyncJob.objects.filter(message__contains="decided by root").exists()


def test_the_api_lists_filters_shows_and_resolves_many(conflicts, api):
    listed = api.get("/api/integration/conflicts/", {"mapping": "CUSTOMER", "kind": "update"}).json()
    assert listed["count"] == 2 and listed["results"][0]["fields"] == ["phone_no"]
    assert api.get("/api/integration/conflicts/", {"older_than_days": 1}).json()["count"] == 0
    assert api.get("/api/integration/conflicts/", {"older_than_days": "soon"}).status_code == 400
    detail = api.get(f"/api/integration/conflicts/{conflicts[0].pk}/").json()
    phone = next(row for row in detail["sides"] if row["erp_field"] == "phone_no")
    assert phone["in_conflict"] and phone["erp_changed"] and phone["crm_changed"]
    assert api.post(f"/api/integration/conflicts/{conflicts[0].pk}/resolve/", {"resolution": "left"},
                    format="json").status_code == 400
    bad_field = api.post(f"/api/integration/conflicts/{conflicts[0].pk}/resolve/",
                         {"resolution": "fields", "fields": {"nope": "erp"}}, format="json")
    assert bad_field.status_code == 400 and "nope" in bad_field.json()["detail"]
    # Field by field names at least one field, each with a side: the request's shape, as the schema states it.
    for fields in ({}, None, {"phone_no": "left"}):
        body = {"resolution": "fields", **({} if fields is None else {"fields": fields})}
        refused = api.post(f"/api/integration/conflicts/{conflicts[0].pk}/resolve/", body, format="json")
        assert refused.status_code == 400 and list(refused.json()) == ["fields"], refused.content
    assert api.post("/api/integration/conflicts/999999/resolve/", {"resolution": "erp"},
                    format="json").status_code == 404

    many = api.post("/api/integration/conflicts/resolve/", {"ids": [c.pk for c in conflicts], "resolution": "crm"},
                    format="json")

    assert many.status_code == 200 and many.json()["counts"]["done"] == 2
    assert not SyncConflict.objects.exists()


@pytest.mark.parametrize(("args", "says"), [
    ((), "one of the arguments --take --field --restore --remove-coupling is required"),
    (("--take", "erp"), "give conflict ids or --mapping"),
    (("--take", "left", "1"), "invalid choice: 'left'"),
    (("--take", "erp", "x"), "argument ID: 'x' is not a whole number"),
    (("--field", "phone_no", "1"), "invalid FIELD=erp|crm choice"),
    (("--take", "erp", "--mapping", "NOPE"), "No mapping named 'NOPE'"),
    (("--field", "nope=erp", "1"), "Unknown field 'nope'"),
])
def test_command_argument_errors_name_what_is_wrong(conflicts, args, says):
    with pytest.raises(CommandError, match=re.escape(says)):
        call_command("conflicts_resolve", *args, stdout=StringIO(), stderr=StringIO())
    assert SyncConflict.objects.count() == 2


def test_command_resolves_every_conflict_of_a_mapping_and_sync_status_counts_them(conflicts):
    out = StringIO()
    call_command("sync_status", stdout=out)
    line = next(line for line in out.getvalue().splitlines() if line.startswith("CUSTOMER "))
    assert line.split()[5] == "2" and "Conflicts waiting in the inbox: 2" in out.getvalue()

    said, code = said_by_command("--take", "sales", "--mapping", "CUSTOMER")

    assert code == 0 and said.startswith("Resolve conflicts: 2 done")
    assert not SyncConflict.objects.exists()


def test_the_inbox_index_count_and_first_page_in_constant_queries(mappings, salesperson_pair, admin_client):
    pairs_in_conflict(mappings["CUSTOMER"], salesperson_pair[0], 3)
    index = admin_client.get("/admin/")
    assert 'id="p2c-conflicts-count">3<' in index.content.decode()

    def page_queries():
        with CaptureQueriesContext(connection) as ctx:
            response = admin_client.get(CHANGELIST)
        assert response.status_code == 200
        return len(ctx.captured_queries), response.content.decode().count("Compare #")

    few, rows = page_queries()
    assert rows == 3
    pairs_in_conflict(mappings["CUSTOMER"], salesperson_pair[0], 12)
    many, rows = page_queries()
    assert rows > 3 and many == few
