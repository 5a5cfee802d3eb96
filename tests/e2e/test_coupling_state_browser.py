"""Browser test: a job that fails after a green "queued" shows as *failed* on the list the user comes back to.

"Create in Sales" on an ERP customer whose salesperson is not coupled: the message says the job is queued and the
row says *Queued*; the worker runs the job (here: the captured task, run as a worker would run it), it fails the
record; back on the list the row says *Failed* with the error's text, truncated with the whole on hover, and one
click lands on that error. Screenshots go to var/screenshots/ (git-ignored).
"""

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from tests.e2e.browser import PASSWORD, log_in, run_list_action

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = settings.VAR_DIR / "screenshots"
@pytest.fixture
def worker(monkeypatch):
    """No worker yet: the tasks the request queues are kept, and `run()` runs them as a worker would."""
    from integration import queue

    kept = []
    monkeypatch.setattr(queue, "_enqueue", lambda task, countdown=None, **kwargs: kept.append((task, kwargs)))

    def run():
        while kept:
            task, kwargs = kept.pop(0)
            task.apply(kwargs=kwargs)

    run.kept = kept
    return run


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"coupling-state-{name}.png"), full_page=True)


def test_a_job_failing_after_queued_shows_as_failed_on_the_list(page, live_server, mappings, worker):
    from erp.models import Customer, SalespersonPurchaser
    from integration.models import SyncJob, SyncJobError

    User.objects.create_superuser("admin", "admin@example.com", PASSWORD)
    nobody = SalespersonPurchaser.objects.create(code="ZZ", name="Not Coupled Anywhere")
    customer = Customer.objects.create(name="Contoso Pharmaceuticals", salesperson=nobody)
    Customer.objects.create(name="Fabrikam", salesperson=nobody)

    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/erp/customer/")
    row = page.locator("#result_list tbody tr", has_text="Contoso")
    assert "Not coupled" in row.inner_text()
    run_list_action(page, customer.pk, "create_in_counterpart")
    page.wait_for_selector("#p2c-action-form")
    page.click('input[name="p2c-submit"]')
    page.wait_for_selector(".messagelist")
    job = SyncJob.objects.get(mapping_name="CUSTOMER", direction="to_integration")
    assert job.status == SyncJob.Status.QUEUED and worker.kept
    message = page.locator(".messagelist li").first
    assert "success" in message.get_attribute("class"), message.inner_text()  # green: it was queued
    assert message.locator(f'a[href$="/integration/syncjob/{job.pk}/change/"]').count() == 1
    assert "Queued" in row.inner_text() and f"job #{job.pk}" in row.inner_text()
    shot(page, "1-queued")

    worker()
    job.refresh_from_db()
    assert (job.status, job.failed) == (SyncJob.Status.ERROR, 1)
    error = SyncJobError.objects.get(job=job)

    page.goto(f"{live_server.url}/admin/erp/customer/")
    cell = row.locator(".p2c-error")
    assert "Failed" in row.inner_text()
    assert cell.get_attribute("title") == error.message  # the whole text on hover
    assert "is not coupled" in cell.inner_text() and len(cell.inner_text()) <= 60 < len(error.message)
    assert "Not coupled" in page.locator("#result_list tbody tr", has_text="Fabrikam").inner_text()
    cell.hover()
    shot(page, "2-failed")
    box = row.locator("td.field-coupling_state").bounding_box()
    assert box["width"] <= 350, box  # a narrow column: the long message does not widen the list

    page.goto(f"{live_server.url}/admin/erp/customer/?coupling=failed")
    assert page.locator("#result_list tbody tr").count() == 1 and "Contoso" in page.inner_text("#result_list")
    page.goto(f"{live_server.url}/admin/erp/customer/")
    row.locator(".p2c-error").click()
    page.wait_for_selector("#content-main")
    assert page.url.endswith(f"/integration/syncjoberror/{error.pk}/change/")
    assert error.message in page.inner_text("#content-main")
    shot(page, "3-error")

    # The same failure again: skipped, with a Restore of that one record.
    page.goto(f"{live_server.url}/admin/erp/customer/")
    run_list_action(page, customer.pk, "create_in_counterpart")
    page.wait_for_selector("#p2c-action-form")
    page.click('input[name="p2c-submit"]')
    page.wait_for_selector(".messagelist")
    worker()
    page.goto(f"{live_server.url}/admin/erp/customer/")
    assert "Skipped" in row.inner_text() and "Restore" in row.inner_text()
    shot(page, "4-skipped")
    row.locator("a.p2c-restore").click()
    page.wait_for_selector("#p2c-restore-submit")
    shot(page, "5-restore")
    page.click("#p2c-restore-submit")
    page.wait_for_selector(".messagelist")
    assert "restored" in page.inner_text(".messagelist")
    assert "Failed" in row.inner_text() and "Skipped" not in row.inner_text()  # the next run tries it again


def test_synchronise_now_from_a_records_page_comes_back_to_it_and_its_job_reads_in_french(page, live_server,
                                                                                          mappings, worker):
    """From an account's page: Synchronise now, the direction, back on the account's page with the outcome; the job
    is a one-record run, and its row error (written in English by the worker) reads in French on a French page."""
    from crm.models import Account
    from erp.models import Customer, SalespersonPurchaser
    from integration.coupling.couplings import coupling_create
    from integration.models import SyncJob

    User.objects.create_superuser("admin", "admin@example.com", PASSWORD)
    salesperson = SalespersonPurchaser.objects.create(code="SP01", name="Nancy")
    customer = Customer.objects.create(name="Proseware", phone_no="1", salesperson=salesperson)
    account = Account.objects.create(name="Proseware", telephone1="+46 8 555 " + "1" * 40,
                                     customer_type_code="customer", state_code="active")
    coupling_create(erp_record=customer, crm_record=account)

    log_in(page, live_server)
    record_page = f"{live_server.url}/admin/crm/account/{account.pk}/change/"
    page.goto(record_page)
    page.click("button.p2c-record-tool-synchronize_now")
    page.wait_for_selector("#p2c-action-form")
    shot(page, "2-record-direction")
    page.check('input[name="p2c-direction"][value="get"]')
    page.click('input[name="p2c-submit"]')
    page.wait_for_selector(".messagelist")
    assert page.url == record_page  # back on the record, not on the list
    shot(page, "3-record-back")

    worker()
    job = SyncJob.objects.get(mapping_name="CUSTOMER", direction="from_integration")
    assert (job.records_given, job.full, job.failed) == (1, False, 1)
    page.goto(f"{live_server.url}/admin/")
    with page.expect_navigation():
        page.select_option("#p2c-language-select", "fr")
    page.goto(f"{live_server.url}/admin/integration/syncjob/{job.pk}/change/")
    body = page.locator("#content").inner_text()
    assert "Exécution de 1 enregistrement sélectionné" in body, body
    assert "Compte" in body and "Ensure this value" not in body, body
    shot(page, "4-job-french")
