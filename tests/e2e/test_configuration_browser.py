"""Browser test (Playwright + Debian's Chromium, skipped without it) of the configuration as a file: from the table
mappings list, export the configuration (a download), edit it, import it (upload → preview of the difference →
confirm) and see the change made; an invalid file shows the key at fault and changes nothing. Screenshots go to
``var/screenshots/`` (git-ignored) to look at."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from tests.e2e.browser import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def configured(db):
    from integration.defaults import integration_setup_reset

    integration_setup_reset()
    User.objects.create_superuser("admin", "admin@example.com", PASSWORD)


def shot(page, name):
    folder = Path(settings.VAR_DIR) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_export_edit_import_with_preview_and_confirm(page, live_server, configured, tmp_path):
    from integration.configuration import configuration_export
    from integration.models import IntegrationTableMapping, ValueMap

    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/integration/integrationtablemapping/")
    with page.expect_download() as download:
        page.click("#p2c-export-json")
    exported = tmp_path / "integration.json"
    download.value.save_as(exported)
    assert exported.read_text() == configuration_export()

    data = json.loads(exported.read_text())
    customer = next(m for m in data["mappings"] if m["name"] == "CUSTOMER")
    customer["direction"] = "to_integration"
    customer["update_conflict_resolution"] = "send_update"
    data["value_maps"][0]["entries"].append({"erp_value": "30D", "crm_value": "net30"})
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data, indent=2))

    page.click("#p2c-import")
    page.set_input_files("input[type=file]", str(edited))
    page.click("input[type=submit][value=Preview]")
    page.wait_for_selector("#p2c-changes")
    shot(page, "configuration-01-preview")
    preview = page.inner_text("#p2c-configuration-preview")
    assert "2 changed" in preview and "1 added" in preview
    assert "mappings[CUSTOMER]" in preview and "update_conflict_resolution" in preview
    assert "value_maps[PAYMENT TERMS].entries[30D]" in preview
    assert IntegrationTableMapping.objects.get(name="CUSTOMER").direction == "bidirectional"  # not yet

    page.click("input[name=p2c-submit]")
    page.wait_for_selector("ul.messagelist")
    shot(page, "configuration-02-imported")
    assert "Import configuration: 3 done" in page.inner_text("ul.messagelist")
    customer = IntegrationTableMapping.objects.get(name="CUSTOMER")
    assert (customer.direction, customer.update_conflict_resolution) == ("to_integration", "send_update")
    assert ValueMap.objects.get(name="PAYMENT TERMS").entries.filter(erp_value="30D").exists()

    customer = next(m for m in data["mappings"] if m["name"] == "CUSTOMER")
    customer["fields"][2]["crm_field"] = "nosuchfield"
    edited.write_text(json.dumps(data, indent=2))
    before = configuration_export()
    page.click("#p2c-import")
    page.set_input_files("input[type=file]", str(edited))
    page.click("input[type=submit][value=Preview]")
    page.wait_for_selector("#p2c-configuration-errors")
    shot(page, "configuration-03-invalid")
    assert "mappings[CUSTOMER].fields[2].crm_field" in page.inner_text("#p2c-configuration-errors")
    assert configuration_export() == before
