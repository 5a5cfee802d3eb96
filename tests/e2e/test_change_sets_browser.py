"""Browser test: the configuration history as change sets after one Finish of the assisted set-up, at 1,400 px in
French: one line, the connection enabled first; its page lists each field's change. Screenshots go to
var/screenshots/ (git-ignored)."""

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from tests.e2e.browser import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = settings.VAR_DIR / "screenshots"


def test_one_finish_reads_as_one_change_set_in_french(page, live_server):
    from crm.models import SystemUser
    from integration.models import ConfigurationChangeSet
    from tests.integration.helpers import walk

    User.objects.create_superuser("admin", "admin@example.com", PASSWORD)
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username="admin"))
    walk(client, SystemUser.objects.create(fullname="Integration", access_mode="integration"))
    assert ConfigurationChangeSet.objects.count() == 1

    log_in(page, live_server)
    with page.expect_navigation():
        page.select_option("#p2c-language-select", "fr")
    page.goto(f"{live_server.url}/admin/integration/configurationchangeset/")
    first = page.locator("#result_list tbody tr").first.locator(".field-summary").inner_text()
    assert first.startswith("Connexion activée\u00a0; "), first
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "change-sets-1-list.png"), full_page=True)
    page.locator("#result_list tbody tr").first.locator("a").first.click()
    page.wait_for_selector("table.p2c-change-set")
    assert "is_enabled" in page.locator("table.p2c-change-set").inner_text()
    table = page.locator("table.p2c-change-set").bounding_box()
    assert table["x"] + table["width"] <= 1400, table
    page.screenshot(path=str(SCREENSHOTS / "change-sets-2-page.png"))
