"""Browser tests (Playwright + Debian's Chromium, skipped without it): at 1400x900 the admin index leads to the
set-up wizard, the full synchronisation review and the synchronisation log, and the wide tables (jobs, job errors,
failed inserts, field mappings, F&O project runs) stay inside the page with a long message: cut to a few lines, the
full text in its tooltip. Screenshots go to ``var/screenshots/`` (git-ignored) to look at.
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from tests.e2e.browser import PASSWORD, log_in

LONG = ("The related record is not coupled: salesperson JR (Jim Olive) of customer C00042 has no coupled Sales user; "
        "couple the salesperson first, or clear the field, then synchronise again. ") * 4

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def long_messages(db):
    """The default mappings, a failed job and its error with a long message, a failed insert, an F&O run."""
    from integration.defaults import integration_setup_reset
    from integration.models import Direction, FailedInsert, SyncJob, SyncJobError

    integration_setup_reset()
    User.objects.create_superuser("admin", "admin@example.com", PASSWORD)
    job = SyncJob.objects.create(mapping_name="CUSTOMER", direction=Direction.TO_INTEGRATION, status="error",
                                 failed=2, inserted=3, message=LONG)
    SyncJobError.objects.create(job=job, source_model="erp.Customer", source_id="1", message=LONG)
    from integration.fo.templates import ACCOUNTS_TEMPLATE
    from integration.models import IntegrationProjectRun, IntegrationProjectTaskRun
    from tests.integration.fo_helpers import make_project

    run = IntegrationProjectRun.objects.create(project=make_project(ACCOUNTS_TEMPLATE), status="warning", message=LONG)
    IntegrationProjectTaskRun.objects.create(run=run, task_name="Accounts - Customers", status="warning", failed=1,
                                             sync_job=job, message=LONG, skip_reasons={LONG: 3}, skipped=3)
    job.project_run = run
    FailedInsert.objects.create(erp_model="erp.Customer", crm_model="crm.Account", direction=Direction.TO_INTEGRATION,
                                source_id="1", message=LONG, job=job, failed_at=timezone.now())
    return job


def screenshots():
    folder = Path(settings.VAR_DIR) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shot(page, name):
    page.screenshot(path=str(screenshots() / f"{name}.png"), full_page=True)


def scrolls_sideways(page):
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


def test_the_index_leads_to_the_integration_pages_and_wide_tables_fit(page, live_server, long_messages):
    log_in(page, live_server)
    page.wait_for_selector("#p2c-start-here")
    shot(page, "findable-01-index")
    assert not scrolls_sideways(page)
    for link, heading in (("#p2c-link-full-sync", "Full synchronisation review"),
                          ("#p2c-link-log", "Integration Synch. Job"), ("#p2c-link-health", "Synchronisation health")):
        page.click(link)
        assert heading.lower() in page.inner_text("#content h1, #content h2").lower()
        page.go_back()
    page.click("#p2c-link-wizard")
    page.wait_for_selector("#p2c-wizard")

    page.goto(f"{live_server.url}/admin/integration/")
    assert page.locator("#p2c-start-here a").count() == 4  # the Integration app page too

    for name, url in (("jobs", "/admin/integration/syncjob/"), ("job-errors", "/admin/integration/syncjoberror/"),
                      ("failed-inserts", "/admin/integration/failedinsert/")):
        page.goto(live_server.url + url)
        page.wait_for_selector("#result_list")
        shot(page, f"findable-02-{name}")
        assert not scrolls_sideways(page), name
        message = page.locator("#result_list .p2c-long").first
        assert message.get_attribute("title") == LONG  # the full text, one hover away
        box = message.bounding_box()
        assert box["width"] < 500 and box["height"] < 90, name  # cut to four lines, not 1,000 px of text
        table = page.locator("#changelist-form .results")  # the whole table in view: no column behind a scroll
        assert table.evaluate("e => e.scrollWidth <= e.clientWidth"), (name, table.evaluate(
            "e => [e.scrollWidth, e.clientWidth, [...e.querySelectorAll('thead th')].map(t => t.className + ':' + "
            "Math.round(t.getBoundingClientRect().width))]"))

    page.goto(f"{live_server.url}/admin/integration/syncjob/{long_messages.pk}/change/")
    assert LONG.strip()[:200] in page.inner_text("#content")  # and one click away, in full
    page.goto(f"{live_server.url}/admin/integration/integrationprojectrun/{long_messages.project_run.pk}/change/")
    page.wait_for_selector(".inline-group")
    shot(page, "findable-04-project-run-failed-rows")
    assert not scrolls_sideways(page)
    assert page.locator(".inline-group td.field-message_text .p2c-long").first.is_visible()
    failed_row = page.locator(".inline-group td.field-error_text .p2c-long").first
    assert failed_row.get_attribute("title") == LONG and failed_row.bounding_box()["height"] < 90

    from integration.models import IntegrationTableMapping

    customer = IntegrationTableMapping.objects.get(name="CUSTOMER")
    page.goto(f"{live_server.url}/admin/integration/integrationtablemapping/{customer.pk}/change/")
    page.wait_for_selector(".inline-group")
    shot(page, "findable-03-field-mappings")
    assert not scrolls_sideways(page)
