"""The configuration's history (integration/configuration/history.py): every change, from the admin, the API,
integration_import (command, admin, API), integration_setup, integration_connection and the assisted set-up, is
kept with its author, door and difference key by key; shown on the mapping's page and in one list; exportable."""

import csv
import io
import json

import pytest
from django.contrib.auth.models import User

from integration.configuration import configuration_export
from integration.models import ConfigurationChange, ConnectionSetup, IntegrationTableMapping, ValueMap
from tests.admin_helpers import admin_form_data, admin_url
from tests.integration.helpers import call

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def admin_client(client, root):
    client.force_login(root)
    return client


def changes(**filters):
    return list(ConfigurationChange.objects.filter(**filters).order_by("id"))


def one(**filters):
    found = changes(**filters)
    assert len(found) == 1, found
    return found[0]


def test_a_mapping_changed_in_the_admin_is_kept_with_its_author_and_shown_on_its_page(admin_client, root, mappings):
    customer = mappings["CUSTOMER"]
    ConfigurationChange.objects.all().delete()
    page = admin_client.get(admin_url(IntegrationTableMapping, "change", customer.pk))
    data = admin_form_data(page)
    data["direction"] = "to_integration"
    data["field_mappings-0-default_value"] = "n/a"
    response = admin_client.post(admin_url(IntegrationTableMapping, "change", customer.pk), data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    change = one(key="direction")
    assert (change.user, change.username, change.door, change.action) == (root, "root", "admin", "changed")
    assert (change.path, change.old, change.new, change.mapping_name) == (
        "mappings[CUSTOMER]", "bidirectional", "to_integration", "CUSTOMER")
    default = one(key="default_value")
    assert default.path.startswith("mappings[CUSTOMER].fields[") and (default.old, default.new) == ("", "n/a")

    html = admin_client.get(admin_url(IntegrationTableMapping, "change", customer.pk)).content.decode()
    assert "~ mappings[CUSTOMER].direction: &quot;bidirectional&quot; → &quot;to_integration&quot;" in html
    assert "?mapping_name=CUSTOMER" in html


def test_the_api_and_its_import_are_kept_as_their_user(api, superuser, mappings):
    ConfigurationChange.objects.all().delete()
    customer = mappings["CUSTOMER"]
    response = api.patch(f"/api/integration/table-mappings/{customer.pk}/", {"realtime_sync": True}, format="json")
    assert response.status_code == 200, response.content
    change = one(key="realtime_sync")
    assert (change.door, change.user, change.old, change.new) == ("api", superuser, False, True)
    response = api.post("/api/integration/value-maps/", {"name": "COUNTRIES"}, format="json")
    assert response.status_code == 201, response.content
    assert one(path="value_maps[COUNTRIES]", action="added").user == superuser

    data = json.loads(configuration_export())
    data["connection"]["log_retention_days"] = 9
    response = api.post("/api/integration/configuration/import/", {"configuration": data}, format="json")
    assert response.status_code == 200, response.content
    change = one(key="log_retention_days")
    assert (change.door, change.user, change.old, change.new) == ("api", superuser, 30, 9)
    response = api.get("/api/integration/table-mappings/")  # reads are not changes
    assert ConfigurationChange.objects.filter(key="realtime_sync").count() == 1


def test_integration_import_setup_and_connection_commands_are_kept(number_series, tmp_path):
    from crm.models import SystemUser

    SystemUser.objects.create(fullname="ERP Integration", access_mode="integration")
    assert call("integration_setup")[0] == 0
    added = one(path="mappings[CUSTOMER]", action="added")
    assert added.door == "command" and added.user is None
    # An added record is kept with each of its keys, its field mappings too.
    assert one(path="mappings[CUSTOMER]", key="erp_model").new == "erp.Customer"
    assert changes(path__startswith="mappings[CUSTOMER].fields[", action="added")

    assert call("integration_connection", "enable")[0] == 0
    change = one(path="connection", key="is_enabled")
    assert (change.door, change.old, change.new) == ("command", False, True)

    data = json.loads(configuration_export())
    data["value_maps"].append({"name": "FREIGHT", "description": "Freight terms", "entries": [
        {"erp_value": "EXW", "crm_value": "pickup"}]})
    path = tmp_path / "integration.json"
    path.write_text(json.dumps(data))
    assert call("integration_import", str(path), "--dry-run")[0] == 0
    assert not changes(path__startswith="value_maps[FREIGHT]")  # a dry run changes nothing, so keeps nothing
    assert call("integration_import", str(path))[0] == 0
    assert one(path="value_maps[FREIGHT]", action="added").door == "import"
    assert one(path="value_maps[FREIGHT].entries[EXW]", key="crm_value").new == "pickup"
    assert ValueMap.objects.filter(name="FREIGHT").exists()


def test_the_admin_import_the_connection_setup_and_a_deletion(admin_client, root, mappings):
    setup = ConnectionSetup.get_solo()
    page = admin_client.get(admin_url(ConnectionSetup, "change", setup.pk))
    data = admin_form_data(page)
    data["alert_recipients"] = "ops@example.com"
    assert admin_client.post(admin_url(ConnectionSetup, "change", setup.pk), data).status_code == 302
    change = one(key="alert_recipients")
    assert (change.door, change.user, change.old, change.new) == ("admin", root, "", "ops@example.com")

    text = configuration_export(fmt="yaml").replace("log_retention_days: 30", "log_retention_days: 12")
    response = admin_client.post("/admin/integration/integrationtablemapping/import/",
                                 {"p2c-submit": "1", "content": text, "format": "yaml"})
    assert response.status_code == 302
    change = one(key="log_retention_days")
    assert (change.door, change.user, change.new) == ("import", root, 12)

    salesorder = mappings["SALESORDER-ORDER"]
    response = admin_client.post(admin_url(IntegrationTableMapping, "delete", salesorder.pk), {"post": "yes"})
    assert response.status_code == 302
    removed = one(path="mappings[SALESORDER-ORDER]", action="removed")
    assert removed.user == root and one(path="mappings[SALESORDER-ORDER]", key="erp_model").old == "erp.SalesHeader"


def test_one_list_filtered_and_exported_as_csv_json_and_by_command(admin_client, root, mappings):
    setup = ConnectionSetup.get_solo()
    page = admin_client.get(admin_url(ConnectionSetup, "change", setup.pk))
    data = admin_form_data(page)
    data["log_retention_days"] = "14"
    admin_client.post(admin_url(ConnectionSetup, "change", setup.pk), data)

    listing = admin_client.get(admin_url(ConfigurationChange, "changelist"), {"door": "admin"})
    assert listing.status_code == 200 and "log_retention_days" in listing.content.decode()
    assert 'id="p2c-history-export-csv"' in listing.content.decode()
    exported = admin_client.get(admin_url(ConfigurationChange, "export"), {"door": "admin"})
    assert exported["Content-Disposition"] == 'attachment; filename="configuration-history.csv"'
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert [(r["username"], r["door"], r["path"], r["key"], r["old"], r["new"]) for r in rows] == [
        ("root", "admin", "connection", "log_retention_days", "30", "14")]
    as_json = admin_client.get(admin_url(ConfigurationChange, "export"), {"door": "admin", "format": "json"}).json()
    assert as_json[0]["old"] == 30 and as_json[0]["new"] == 14

    code, out, _err = call("integration_history", "--format", "json", "--mapping", "CUSTOMER")
    assert code == 0 and all(row["path"].startswith("mappings[CUSTOMER]") for row in json.loads(out))
    code, out, _err = call("integration_history", "--days", "1")
    assert code == 0 and "log_retention_days" in out
    assert call("integration_history", "--days", "-1")[0] == 1


def test_match_criteria_kept_by_couple_are_in_the_history(mappings):
    ConfigurationChange.objects.all().delete()
    code, _out, err = call("couple", "CUSTOMER", "--match-on", "name")
    assert code in (0, 1), err
    # The defaults match on e-mail then name; --match-on name leaves name alone.
    email = one(key="use_for_match_coupling")
    assert (email.door, email.path, email.old, email.new) == (
        "command", "mappings[CUSTOMER].fields[email ↔ emailaddress1]", True, False)
    assert one(path="mappings[CUSTOMER].fields[name ↔ name]", key="match_priority").new == 1
    call("couple", "CUSTOMER")  # no criteria given: nothing changes, nothing is kept
    assert ConfigurationChange.objects.count() == 3
