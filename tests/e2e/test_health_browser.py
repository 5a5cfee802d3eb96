"""Browser test: the health page after the demo's full synchronisation, and the coupling column in sight.

After the assisted set-up and a full synchronisation of the demo data (Celery eager: it runs in the request), the
health page shows the connection, the two charts drawn on the server (inline SVG: no script, no CDN), and a row
per mapping and direction with its last run's result; a failed job then shows on its row. At 1,400 px, on the ERP
customer list, every record's coupling state is inside the visible part of the table: nobody scrolls sideways to
see it. Screenshots go to tests/e2e/screenshots/ (git-ignored).
"""

import pytest

from tests.e2e.browser import log_in, run_setup_wizard, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEALTH = "/admin/integration/connectionsetup/health/"


def test_health_page_after_the_demo_full_synchronisation(page, live_server, demo):
    from integration.models import FullSyncRun, SyncJob

    log_in(page, live_server)
    run_setup_wizard(page, live_server)
    page.click("#p2c-start")
    page.wait_for_function("document.querySelector('#p2c-run-state').textContent.trim() !== 'In Process'")
    assert FullSyncRun.objects.latest("pk").status == FullSyncRun.Status.FINISHED

    page.goto(f"{live_server.url}/admin/")
    page.click("#p2c-link-health")
    page.wait_for_selector("#p2c-health-mappings")
    shot(page, "health-1-after-full-sync")
    assert page.locator("#p2c-health-enabled").inner_text().endswith("enabled")
    for chart in ("#p2c-chart-jobs svg", "#p2c-chart-records svg"):
        assert page.locator(chart).count() == 1
        assert page.locator(f"{chart} rect[fill='#2e7d32'], {chart} rect[fill='#417690']").count() >= 1  # bars drawn
    customer = page.locator('#p2c-health-mappings tr[data-mapping="CUSTOMER"][data-direction="to_integration"]')
    assert "Success" in customer.locator(".p2c-result").inner_text()
    assert customer.locator("svg").count() == 2
    # The page fits 1,400 px: no sideways scrolling, in the longer words of French, Swedish and Dutch too.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    for language in ("fr", "sv", "nl", "en"):
        with page.expect_navigation():
            page.select_option("#p2c-language-select", language)
        page.wait_for_selector("#p2c-health-mappings")
        assert page.evaluate("document.documentElement.lang") == language
        if language in ("fr", "sv"):
            shot(page, f"health-1b-after-full-sync-{language}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1400, language
        result = page.locator('#p2c-health-mappings tr[data-mapping="CUSTOMER"] .p2c-result').first.bounding_box()
        assert result["x"] + result["width"] <= 1400, language  # each mapping's result in sight

    job = SyncJob.objects.filter(mapping_name="CUSTOMER", direction="to_integration").first()
    SyncJob.objects.filter(pk=job.pk).update(status=SyncJob.Status.FAILED, message="The job failed: ERP offline")
    page.reload()
    assert "Failed" in customer.locator(".p2c-result").inner_text()
    assert customer.locator(".p2c-result span").get_attribute("title") == "The job failed: ERP offline"
    shot(page, "health-2-failed-job")


def test_the_coupling_column_is_in_sight_at_1400_px_on_the_erp_customer_list(page, live_server, demo):
    from erp.models import Customer
    from integration.models import Coupling

    log_in(page, live_server)
    run_setup_wizard(page, live_server)
    page.click("#p2c-start")
    page.wait_for_function("document.querySelector('#p2c-run-state').textContent.trim() !== 'In Process'")
    # One customer failed with a long message: the widest state there is.
    customer = Customer.objects.order_by("no").first()
    Coupling.objects.filter(erp_model="erp.Customer", erp_id=customer.pk).update(last_crm_result="failure")

    page.goto(f"{live_server.url}/admin/erp/customer/")
    page.wait_for_selector("#result_list")
    assert page.viewport_size["width"] == 1400
    shot(page, "customers-coupling-column-1400")
    cells = page.locator("#result_list td.field-coupling_state")
    assert cells.count() > 5
    visible = page.evaluate("""() => {
        const box = document.querySelector('#changelist .results').getBoundingClientRect();
        const right = Math.min(box.right, window.innerWidth);
        return [...document.querySelectorAll('#result_list td.field-coupling_state')].map(td => {
            const r = td.getBoundingClientRect();
            return r.left >= box.left && r.right <= right && td.innerText.trim().length > 0;
        });
    }""")
    assert all(visible), visible
    header = page.locator("#result_list thead th.column-coupling_state")
    assert header.bounding_box()["x"] + header.bounding_box()["width"] <= 1400
