"""The integration's configuration as a file (docs/decisions.md#configuration-as-a-file, integration.configuration):
export → import into an empty configuration → export gives the same bytes (JSON and YAML); an invalid file changes
nothing and names the line or the key at fault; a dry run changes nothing; the difference field by field; partial files;
couplings and logs are never touched; from the commands (good and bad arguments), the admin (upload, preview, confirm)
and the API."""

import json

import jsonschema
import pytest
import yaml
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask

from integration.background.schedules import schedules_create
from integration.configuration import (
    ConfigurationInvalid,
    configuration_data,
    configuration_export,
    configuration_import,
)
from integration.fo.templates import ACCOUNTS_TEMPLATE
from integration.models import (
    ConnectionSetup,
    Coupling,
    IntegrationFieldMapping,
    IntegrationProject,
    IntegrationTableMapping,
    IntegrationTemplate,
    SyncJob,
    ValueMap,
)
from tests.integration.fo_helpers import make_project


@pytest.fixture
def configured(mappings):
    """The default mappings, a value map with entries, a conflict policy, schedules, an F&O project, a coupling
    and a job (which an import must leave alone)."""
    payment = ValueMap.objects.get(name="PAYMENT TERMS")
    payment.entries.create(erp_value="30D", crm_value="net30")
    payment.entries.create(erp_value="14D", crm_value="net14")
    customer = mappings["CUSTOMER"]
    customer.update_conflict_resolution = "send_update"
    customer.erp_filter = {"name__startswith": "A", "blocked": ""}
    customer.save()
    schedules_create(every_minutes=15)
    make_project(ACCOUNTS_TEMPLATE)
    Coupling.objects.create(erp_model="erp.Customer", crm_model="crm.Account", erp_id=1,
                            crm_id="00000000-0000-0000-0000-000000000001")
    SyncJob.objects.create(mapping_name="CUSTOMER", direction="to_integration", status="success")
    return mappings


def configuration_wipe():
    """An empty configuration, as a new database has it (the Sales users stay: they are data, not configuration)."""
    IntegrationProject.objects.all().delete()
    IntegrationTableMapping.objects.all().delete()
    ValueMap.objects.all().delete()
    IntegrationTemplate.objects.all().delete()
    PeriodicTask.objects.all().delete()
    ConnectionSetup.objects.all().delete()


def untouched():
    return list(Coupling.objects.values_list("pk", "erp_id", "crm_id")), list(SyncJob.objects.values_list("pk"))


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_export_import_into_an_empty_configuration_export_gives_the_same_bytes(configured, fmt):
    first = configuration_export(fmt=fmt)
    assert configuration_export(fmt=fmt) == first  # stable
    assert '"id"' not in first and "pk" not in first  # names, never database ids
    kept = untouched()
    configuration_wipe()
    outcome = configuration_import(text=first, fmt=fmt)
    assert outcome.counts["done"] and not outcome.exit_code
    assert configuration_export(fmt=fmt) == first
    assert untouched() == kept
    # Imported again: nothing to do.
    assert configuration_import(text=first, fmt=fmt).changes == []


def test_the_file_holds_the_whole_configuration_in_a_reviewable_order(configured):
    data = configuration_data()
    assert [m["name"] for m in data["mappings"]] == sorted(m["name"] for m in data["mappings"])
    customer = next(m for m in data["mappings"] if m["name"] == "CUSTOMER")
    assert customer["update_conflict_resolution"] == "send_update"
    assert list(customer["erp_filter"]) == ["blocked", "name__startswith"]  # sorted keys, whatever the database
    assert customer["schedule"] == {"every_minutes": 15, "enabled": True}
    assert "crm_field" in customer["fields"][0] and "table_mapping" not in customer["fields"][0]
    assert [e["erp_value"] for e in data["value_maps"][0]["entries"]] == ["14D", "30D"]
    assert data["connection"]["integration_user"] == "Business Central Integration"
    project = data["projects"][0]
    assert project["template"] == ACCOUNTS_TEMPLATE
    assert project["tasks"][0]["table_mapping"] in {m["name"] for m in data["mappings"]}
    assert {d["erp_field"] for d in project["tasks"][0]["defaults"]} >= {"customer_group"}


def edited(data, **changes):
    data = json.loads(json.dumps(data))
    for path, value in changes.items():
        target = data
        *steps, last = path.split("/")
        for step in steps:
            target = next(m for m in target if m.get("name") == step) if isinstance(target, list) and not \
                step.isdigit() else target[int(step) if step.isdigit() else step]
        target[int(last) if last.isdigit() else last] = value
    return data


def test_the_difference_is_told_field_by_field(configured):
    data = configuration_data()
    data = edited(data, **{"mappings/CUSTOMER/direction": "to_integration",
                           "mappings/CUSTOMER/fields/2/create_only": True})
    data["value_maps"][0]["entries"].append({"erp_value": "60D", "crm_value": "net60"})
    data["mappings"] = [m for m in data["mappings"] if m["name"] != "OPPORTUNITY"]
    for m in data["mappings"]:
        m["dependencies"] = [d for d in m["dependencies"] if d != "OPPORTUNITY"]
    customer_fields = IntegrationFieldMapping.objects.filter(table_mapping__name="CUSTOMER").order_by("id")
    third = customer_fields[2]
    outcome = configuration_import(data=data, dry_run=True)
    lines = [c.text() for c in outcome.changes]
    assert '~ mappings[CUSTOMER].direction: "bidirectional" → "to_integration"' in lines
    assert (f"~ mappings[CUSTOMER].fields[{third.erp_field} ↔ {third.crm_field}].create_only: "
            "false → true") in lines
    assert "+ value_maps[PAYMENT TERMS].entries[60D]" in lines
    assert "- mappings[OPPORTUNITY]" in lines
    assert outcome.counts_by_action()["removed"] == 1
    assert "nothing was written" in outcome.summary()


def test_a_dry_run_changes_nothing(configured):
    before = configuration_export()
    data = edited(configuration_data(), **{"mappings/CUSTOMER/direction": "to_integration",
                                           "connection/log_retention_days": 7})
    data["mappings"] = [m for m in data["mappings"] if m["name"] != "SALESORDER-ORDER"]
    outcome = configuration_import(data=data, dry_run=True)
    assert len(outcome.changes) == 3 and outcome.dry_run
    assert configuration_export() == before


def test_an_import_applies_the_difference_and_leaves_couplings_and_logs(configured):
    kept = untouched()
    data = edited(configuration_data(), **{"mappings/CUSTOMER/direction": "to_integration",
                                           "mappings/CUSTOMER/schedule": None})
    data["mappings"] = [m for m in data["mappings"] if m["name"] != "SALESORDER-ORDER"]
    configuration_import(data=data)
    assert IntegrationTableMapping.objects.get(name="CUSTOMER").direction == "to_integration"
    assert not IntegrationTableMapping.objects.filter(name="SALESORDER-ORDER").exists()
    assert not PeriodicTask.objects.filter(name="Synchronize CUSTOMER").exists()
    assert untouched() == kept


@pytest.mark.parametrize("change, where", [
    ({"mappings/CUSTOMER/fields/3/crm_field": "nosuchfield"}, "mappings[CUSTOMER].fields[3].crm_field"),
    ({"mappings/CUSTOMER/direction": "sideways"}, "mappings[CUSTOMER].direction"),
    ({"mappings/CUSTOMER/erp_model": "auth.User"}, "mappings[CUSTOMER].erp_model"),
    ({"mappings/CUSTOMER/erp_filter": {"nosuchfield": 1}}, "mappings[CUSTOMER].erp_filter"),
    ({"mappings/CUSTOMER/dependencies": ["CONTACT"]}, "mappings[CUSTOMER].dependencies"),  # CONTACT needs CUSTOMER
    ({"mappings/CUSTOMER/dependencies": ["NOSUCH"]}, "mappings[CUSTOMER].dependencies"),
    ({"mappings/CUSTOMER/is_enabled": "maybe"}, "mappings[CUSTOMER].is_enabled"),
    ({"mappings/CUSTOMER/colour": "red"}, "mappings[CUSTOMER].colour"),
    ({"mappings/CUSTOMER/fields/0/value_map": "NOSUCH"}, "mappings[CUSTOMER].fields[0].value_map"),
    ({"connection/integration_user": "Nobody"}, "connection.integration_user"),
    ({"version": 2}, "version"),
])
def test_an_invalid_file_changes_nothing_and_names_the_key(configured, change, where):
    before = configuration_export()
    data = edited(configuration_data(), **change)
    data["value_maps"][0]["description"] = "changed too, and rolled back"
    with pytest.raises(ConfigurationInvalid) as refused:
        configuration_import(data=data)
    assert where in [w for w, _ in refused.value.errors], refused.value.errors
    assert refused.value.status == 400
    assert configuration_export() == before


@pytest.mark.parametrize("fmt, text, line", [
    ("json", '{\n  "format": "p2c-integration-configuration",\n  "version": 1,,\n}', "line 3"),
    ("yaml", "format: p2c-integration-configuration\nmappings:\n  - name: [unclosed\n", "line 4"),
])
def test_a_file_that_does_not_parse_names_its_line(configured, fmt, text, line):
    before = configuration_export()
    with pytest.raises(ConfigurationInvalid) as refused:
        configuration_import(text=text, fmt=fmt)
    assert refused.value.errors[0][0].startswith(line), refused.value.errors
    assert configuration_export() == before


def test_a_partial_file_adds_and_changes_but_removes_nothing(configured):
    data = configuration_data(mappings=["CUSTOMER"])
    assert data["partial"] and [m["name"] for m in data["mappings"]] == ["CUSTOMER"]
    assert "connection" not in data and "projects" not in data
    assert {vm["name"] for vm in data["value_maps"]} == {"PAYMENT TERMS", "SHIPMENT METHOD", "SHIPPING AGENT"}
    count = IntegrationTableMapping.objects.count()
    data["mappings"][0]["realtime_sync"] = True
    outcome = configuration_import(data=data)
    assert [c.text() for c in outcome.changes] == ["~ mappings[CUSTOMER].realtime_sync: false → true"]
    assert IntegrationTableMapping.objects.count() == count
    with pytest.raises(Exception, match="No table mapping named NOSUCH"):
        configuration_data(mappings=["NOSUCH"])


# -- commands ---------------------------------------------------------------------------------------------------------
def test_commands_export_and_import(configured, tmp_path, capsys):
    path = tmp_path / "integration.yaml"
    call_command("integration_export", "--format", "yaml", "-o", str(path))
    text = path.read_text()
    assert yaml.safe_load(text)["format"] == "p2c-integration-configuration"
    call_command("integration_export")
    assert json.loads(capsys.readouterr().out) == yaml.safe_load(text)
    path.write_text(text.replace("log_retention_days: 30", "log_retention_days: 9"))
    call_command("integration_import", str(path), "--dry-run")
    out = capsys.readouterr().out
    assert "~ connection.log_retention_days: 30 → 9" in out and "nothing was written" in out
    assert ConnectionSetup.get_solo().log_retention_days == 30
    call_command("integration_import", str(path))
    assert ConnectionSetup.get_solo().log_retention_days == 9


def test_commands_bad_arguments_say_what_is_wrong(configured, tmp_path, capsys):
    with pytest.raises(CommandError, match="No file"):
        call_command("integration_import", str(tmp_path / "missing.json"))
    with pytest.raises(CommandError, match="is a directory"):
        call_command("integration_import", str(tmp_path))
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("integration_import", str(binary))
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": ')
    with pytest.raises(CommandError, match="not valid"):
        call_command("integration_import", str(broken))
    assert "line 1" in capsys.readouterr().err
    with pytest.raises(CommandError, match="No table mapping named NOSUCH"):
        call_command("integration_export", "--mapping", "NOSUCH")
    with pytest.raises(CommandError, match="Cannot write"):
        call_command("integration_export", "-o", str(tmp_path / "no" / "such" / "dir.json"))
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("integration_export", "--format", "xml")


def test_commands_exit_codes_from_the_shell(configured, tmp_path):
    """No traceback for any argument: manage.py exits 1 with the reason on stderr."""
    import subprocess
    import sys

    from django.conf import settings

    missing = subprocess.run([sys.executable, str(settings.BASE_DIR / "manage.py"), "integration_import",
                              str(tmp_path / "missing.json")], capture_output=True, text=True)
    assert missing.returncode == 1 and "No file" in missing.stderr and "Traceback" not in missing.stderr


# -- admin ------------------------------------------------------------------------------------------------------------
@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("cfg-admin", "a@example.com", "pw"))
    return client


def test_admin_export_import_preview_confirm(configured, admin_client):
    changelist = admin_client.get("/admin/integration/integrationtablemapping/")
    assert b'id="p2c-export-json"' in changelist.content and b'id="p2c-import"' in changelist.content
    download = admin_client.get("/admin/integration/integrationtablemapping/export/?format=yaml")
    assert download["Content-Disposition"] == 'attachment; filename="integration.yaml"'
    text = download.content.decode()
    assert text == configuration_export(fmt="yaml")

    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("integration.yaml", text.replace("log_retention_days: 30",
                                                                 "log_retention_days: 12").encode())
    preview = admin_client.post("/admin/integration/integrationtablemapping/import/", {"file": upload})
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "connection" in page and "log_retention_days" in page and 'id="p2c-changes"' in page
    assert ConnectionSetup.get_solo().log_retention_days == 30  # a preview writes nothing
    confirmed = admin_client.post("/admin/integration/integrationtablemapping/import/",
                                  {"content": preview.context["content"], "format": "yaml", "p2c-submit": "Import"},
                                  follow=True)
    assert ConnectionSetup.get_solo().log_retention_days == 12
    assert "Import configuration: 1 done" in confirmed.content.decode()
    upload = SimpleUploadedFile("integration.yaml", text.replace("realtime_sync: false\n  sort_order: 70",
                                                                 "realtime_sync: true\n  sort_order: 70").encode())
    preview = admin_client.post("/admin/integration/integrationtablemapping/import/", {"file": upload})
    admin_client.post("/admin/integration/integrationtablemapping/import/",
                      {"content": preview.context["content"], "format": "yaml", "p2c-submit": "Import"})
    from django.contrib.admin.models import LogEntry

    entry = LogEntry.objects.get(object_repr="CUSTOMER")
    assert entry.user.username == "cfg-admin" and "realtime_sync" in entry.get_change_message()


def test_admin_an_invalid_upload_names_the_key_and_changes_nothing(configured, admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    before = configuration_export()
    data = edited(configuration_data(), **{"mappings/CUSTOMER/direction": "sideways"})
    upload = SimpleUploadedFile("bad.json", json.dumps(data).encode())
    page = admin_client.post("/admin/integration/integrationtablemapping/import/", {"file": upload})
    assert page.status_code == 200 and "mappings[CUSTOMER].direction" in page.content.decode()
    assert 'id="p2c-changes"' not in page.content.decode()
    assert configuration_export() == before


def test_admin_pages_need_their_permissions(configured, client, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_integrationtablemapping"))
    client.force_login(user)
    page = client.get("/admin/integration/integrationtablemapping/")
    assert b'id="p2c-export-json"' in page.content and b'id="p2c-import"' not in page.content
    assert client.get("/admin/integration/integrationtablemapping/export/").status_code == 200
    assert client.get("/admin/integration/integrationtablemapping/import/").status_code == 403


# -- API --------------------------------------------------------------------------------------------------------------
URL = "/api/integration/configuration/"


def test_api_export_and_import(configured, api):
    answer = api.get(URL)
    assert answer.status_code == 200 and answer.json() == configuration_data()
    assert [m["name"] for m in api.get(URL, {"mapping": "CUSTOMER"}).json()["mappings"]] == ["CUSTOMER"]
    assert api.get(URL, {"mapping": "NOSUCH"}).status_code == 400
    data = edited(answer.json(), **{"mappings/CUSTOMER/realtime_sync": True})
    dry = api.post(URL + "import/", {"configuration": data, "dry_run": True}, format="json")
    assert dry.status_code == 200 and dry.json()["dry_run"] is True
    assert dry.json()["changes"] == [{"action": "changed", "path": "mappings[CUSTOMER]", "key": "realtime_sync",
                                      "old": False, "new": True}]
    assert not IntegrationTableMapping.objects.get(name="CUSTOMER").realtime_sync
    done = api.post(URL + "import/", {"configuration": data}, format="json")
    assert done.status_code == 200 and IntegrationTableMapping.objects.get(name="CUSTOMER").realtime_sync


def test_api_an_invalid_configuration_is_a_400_naming_the_key(configured, api):
    before = configuration_export()
    data = edited(configuration_data(), **{"mappings/CUSTOMER/fields/3/crm_field": "nosuchfield"})
    answer = api.post(URL + "import/", {"configuration": data}, format="json")
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_configuration"
    assert "mappings[CUSTOMER].fields[3].crm_field" in [e["where"] for e in answer.json()["errors"]]
    assert api.post(URL + "import/", {"configuration": "text"}, format="json").status_code == 400
    assert configuration_export() == before


def json_schema(schema):
    """An OpenAPI 3.0 schema as JSON Schema (Draft 4's keywords): ``nullable`` as a type of its own."""
    if isinstance(schema, list):
        return [json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: json_schema(value) for key, value in schema.items() if key != "nullable"}
    if schema.get("nullable") and "type" in schema:
        converted["type"] = [schema["type"], "null"]
    return converted


def test_the_schema_states_what_an_import_reads(configured, api):
    """The schema of an import's configuration holds every file the export writes, and refuses what the import
    refuses as it reads the file: a key it does not know, a value of the wrong type or out of its choices."""
    stated = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    body = stated["paths"]["/api/integration/configuration/import/"]["post"]["requestBody"]["content"]
    schema = json_schema({**body["application/json"]["schema"], "components": stated["components"]})
    validator = jsonschema.Draft4Validator(schema)
    exported = configuration_data()
    assert not [error.message for error in validator.iter_errors({"configuration": exported})]
    for change in ({"mappings/CUSTOMER/nosuchkey": 1}, {"mappings/CUSTOMER/direction": "sideways"},
                   {"mappings/CUSTOMER/fields/3/status": "maybe"}, {"value_maps/PAYMENT TERMS/entries/0/erp_value": ""},
                   {"connection/log_retention_days": 0}):
        data = edited(exported, **change)
        assert list(validator.iter_errors({"configuration": data})), change
        answer = api.post(URL + "import/", {"configuration": data, "dry_run": True}, format="json")
        assert answer.status_code == 400 and answer.json()["code"] == "invalid_configuration", (change, answer.content)


def test_api_permissions(configured, user_with_perms):
    from tests.api.clients import client_for

    assert client_for(user_with_perms()).get(URL).status_code == 403
    viewer = client_for(user_with_perms("integration.view_integrationtablemapping"))
    assert viewer.get(URL).status_code == 200
    assert viewer.post(URL + "import/", {"configuration": {}}, format="json").status_code == 403


def test_odd_values_are_named_not_crashed_on(configured, tmp_path):
    text = configuration_export(fmt="yaml").replace("log_retention_days: 30", "log_retention_days: 2026-01-01")
    with pytest.raises(ConfigurationInvalid) as refused:
        configuration_import(text=text, fmt="yaml")
    assert refused.value.errors == [("connection.log_retention_days", 'expected a whole number, got "2026-01-01"')]
    with pytest.raises(ConfigurationInvalid, match="expected a mapping"):
        configuration_import(text="", fmt="yaml")
    bom = tmp_path / "bom.json"
    bom.write_text("\ufeff" + configuration_export(), encoding="utf-8")
    call_command("integration_import", str(bom), "--dry-run")  # a byte-order mark is no error


def test_a_mapping_a_project_task_runs_is_kept_unless_the_project_goes_too(configured):
    data = configuration_data()
    task_mapping = data["projects"][0]["tasks"][0]["table_mapping"]
    data["mappings"] = [m for m in data["mappings"] if m["name"] != task_mapping]
    with pytest.raises(ConfigurationInvalid) as refused:
        configuration_import(data=data)
    assert refused.value.errors[0][0] == f"mappings[{task_mapping}]"
    data["projects"] = []
    lines = [c.text() for c in configuration_import(data=data).changes]
    assert f"- mappings[{task_mapping}]" in lines and "- projects[Accounts]" in lines


def test_parent_loops_and_reordered_field_mappings(configured):
    data = edited(configuration_data(), **{"mappings/CUSTOMER/parent": "CONTACT", "mappings/CONTACT/parent": "CUSTOMER",
                                           "mappings/CUSTOMER/schedule": None, "mappings/CONTACT/schedule": None})
    with pytest.raises(ConfigurationInvalid) as refused:
        configuration_import(data=data)
    assert "mappings[CUSTOMER].parent" in [w for w, _ in refused.value.errors]
    data = configuration_data()
    customer = next(m for m in data["mappings"] if m["name"] == "CUSTOMER")
    customer["fields"][0], customer["fields"][1] = customer["fields"][1], customer["fields"][0]
    changes = configuration_import(data=data).changes
    assert [(c.path, c.key) for c in changes] == [("mappings[CUSTOMER].fields", "order")]
    assert configuration_data()["mappings"] == data["mappings"]


def test_an_empty_section_key_is_no_order_to_remove_everything(configured):
    text = configuration_export(fmt="yaml")
    start = text.index("mappings:\n")
    end = text.index("\ntemplates:")
    with pytest.raises(ConfigurationInvalid) as refused:
        configuration_import(text=text[:start] + "mappings:" + text[end:], fmt="yaml")
    assert refused.value.errors == [("mappings", "expected a list (an empty one is [])")]
