"""Browser test: the conflict inbox (docs/decisions.md#the-conflict-inbox). The admin index counts the conflicts; the
inbox lists them; the pair side by side shows the field in conflict with both values and the one at the last
synchronisation, the others folded away; a choice per field settles one pair, a bulk action the others. Screenshots go
to var/screenshots/ (git-ignored)."""

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from playwright.sync_api import expect

from tests.e2e.browser import PASSWORD, log_in
from tests.integration.helpers import pairs_in_conflict

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = settings.VAR_DIR / "screenshots"


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"conflict-inbox-{name}.png"), full_page=True)


def test_compare_a_pair_choose_per_field_then_take_a_side_for_the_rest(page, live_server, mappings, salesperson_pair):
    from erp.models import Customer
    from integration.models import SyncConflict

    User.objects.create_superuser("admin", "admin@example.com", PASSWORD)
    conflicts = pairs_in_conflict(mappings["CUSTOMER"], salesperson_pair[0], 3)

    log_in(page, live_server)
    assert page.inner_text("#p2c-conflicts-count") == "3"
    page.click("#p2c-link-conflicts")
    expect(page.locator("#result_list tbody tr")).to_have_count(3)  # waits for the list to load
    shot(page, "01-inbox")

    first = conflicts[0]
    page.click(f"text=Compare #{first.pk}")
    row = page.locator('#p2c-conflict-fields tr[data-field="phone_no"]')
    erp_id = first.coupling.erp_id
    assert f"ERP {erp_id}" in row.inner_text() and f"Sales {erp_id}" in row.inner_text()
    assert not page.locator("#p2c-other-fields").get_attribute("open")  # the unchanged fields folded away
    shot(page, "02-side-by-side")
    row.locator('input[value="crm"]').check()
    page.click("#p2c-take-fields")
    expect(page.locator(".messagelist")).to_contain_text("Resolve conflicts: 1 done")
    assert Customer.objects.get(pk=erp_id).phone_no == f"Sales {erp_id}"

    page.check("#action-toggle")
    page.select_option('select[name="action"]', "take_erp")
    page.click('button[name="index"]')
    expect(page.locator(".messagelist")).to_contain_text("Resolve conflicts: 2 done")
    shot(page, "03-resolved")
    assert not SyncConflict.objects.exists()
