"""Browser tests: Playwright (Python) driving Debian's Chromium against ``live_server`` on the demo data.

One journey, as an administrator lives it: log in, run the assisted set-up, couple a Sales account to its ERP
customer by match from the accounts list, synchronise it and see the coupling column change, then start a full
synchronisation on the review page and see it finish. Celery runs eagerly in tests, so a started run completes
in-process. Screenshots go to tests/e2e/screenshots/ (git-ignored).
"""

import re

import pytest

from tests.e2e.browser import log_in, run_list_action, run_setup_wizard, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def account_with_one_match():
    """A demo account coupled to the one ERP customer with its e-mail (after the full synchronisation)."""
    from crm.models import Account
    from erp.models import Customer
    from integration.coupling.couplings import coupling_for

    for account in Account.objects.filter(customer_type_code="customer", state_code="active").exclude(
        emailaddress1=""
    ).order_by("name"):
        email = account.emailaddress1
        customers = list(Customer.objects.filter(email__iexact=email))
        coupling = coupling_for(account)
        if (len(customers) == 1 and Account.objects.filter(emailaddress1__iexact=email).count() == 1
                and coupling is not None and coupling.erp_id == customers[0].pk):
            return account, customers[0]
    raise AssertionError("the demo data has no account coupled to a customer of the same e-mail")


def account_row(page, account):
    return page.locator("#result_list tbody tr", has_text=account.account_number).inner_text()


def test_full_synchronisation_then_uncouple_couple_by_match_and_synchronise(page, live_server, demo):
    from integration.models import FullSyncRun, SyncJob

    log_in(page, live_server)
    run_setup_wizard(page, live_server)
    shot(page, "04-review-before-start")
    assert page.locator("#p2c-review-lines tbody tr").count() > 5

    # Full synchronisation from the review page (Celery eager: it runs to the end in the request).
    page.click("#p2c-start")
    page.wait_for_selector("#p2c-run-state")
    page.wait_for_function("document.querySelector('#p2c-run-state').textContent.trim() !== 'In Process'")
    shot(page, "05-review-finished")
    run = FullSyncRun.objects.latest("pk")
    assert page.inner_text("#p2c-run-state") == run.get_status_display()
    # Every mapping of the demo data runs: the run finishes; its few bad demo records are named as a warning.
    assert run.status == FullSyncRun.Status.FINISHED, run.message
    if run.message:
        assert run.message in page.inner_text("#p2c-run-message")
        assert "errornote" not in page.get_attribute("#p2c-run-message", "class")
    assert re.search(r"\d+ of \d+ mappings done", page.inner_text("#p2c-progress-text"))
    assert page.locator('#p2c-review-lines tr[data-name="CUSTOMER"] .p2c-state').inner_text() == "Finished"

    # Uncouple one account, couple it again by match, synchronise it: the coupling column follows.
    account, customer = account_with_one_match()
    page.goto(f"{live_server.url}/admin/crm/account/?q={account.account_number}")
    assert "Coupled to" in account_row(page, account)
    shot(page, "06-accounts-coupled")
    run_list_action(page, account.pk, "coupling_remove")
    page.wait_for_selector("#p2c-action-form")
    shot(page, "07-delete-coupling-confirm")
    page.click('input[name="p2c-submit"]')
    page.wait_for_selector(".messagelist")
    assert "Not coupled" in account_row(page, account)
    shot(page, "08-not-coupled")

    run_list_action(page, account.pk, "couple_by_match")
    page.wait_for_selector("#p2c-action-form")
    assert page.is_checked(f"#id_p2c-use_{customer_email_mapping_pk()}")
    shot(page, "09-match-based-coupling-form")
    page.click('input[name="p2c-submit"]')
    page.wait_for_selector(".messagelist")
    message = page.inner_text(".messagelist")
    assert "1 coupled" in message, message
    shot(page, "10-coupled-by-match")
    row = account_row(page, account)
    assert "Coupled to" in row and customer.no in row

    run_list_action(page, account.pk, "synchronize_now")
    page.wait_for_selector("#p2c-action-form")
    page.check('input[name="p2c-direction"][value="send"]')
    shot(page, "11-synchronise-now-direction")
    page.click('input[name="p2c-submit"]')
    page.wait_for_selector(".messagelist")
    message = page.inner_text(".messagelist")
    assert "scheduled for 1 of 1 record" in message, message
    shot(page, "12-synchronised")
    job = SyncJob.objects.filter(mapping_name="CUSTOMER", direction="to_integration").latest("pk")
    assert job.status == SyncJob.Status.SUCCESS and job.failed == 0, [e.message for e in job.errors.all()]
    assert job.unchanged + job.modified == 1 and "Synchronise now: 1 done." in message
    row = account_row(page, account)
    assert "Coupled to" in row and "failed" not in row.lower()
    page.click(f'.messagelist a[href$="/integration/syncjob/{job.pk}/change/"]')
    page.wait_for_selector("#content")
    shot(page, "13-job")

    page.goto(f"{live_server.url}/admin/crm/account/?coupling=uncoupled")
    shot(page, "14-accounts-filter-not-coupled")

    # The integration's own lists: jobs (with their errors), errors (both records linked), couplings, mappings.
    for name, path in (("20-jobs", "integration/syncjob/?status__exact=error"),
                       ("21-errors", "integration/syncjoberror/"),
                       ("22-couplings", "integration/coupling/?pair=erp.Customer%7Ccrm.Account"),
                       ("23-mappings", "integration/integrationtablemapping/")):
        page.goto(f"{live_server.url}/admin/{path}")
        assert page.is_visible("#changelist"), name
        shot(page, name)
    error_link = page.goto(f"{live_server.url}/admin/integration/syncjoberror/") and page.locator(
        "#result_list tbody tr th a").first
    if error_link.count():
        error_link.click()
        page.wait_for_selector("#content-main")
        shot(page, "24-error")


def customer_email_mapping_pk():
    from integration.models import IntegrationFieldMapping

    return IntegrationFieldMapping.objects.get(table_mapping__name="CUSTOMER", erp_field="email").pk


def test_review_page_polls_a_running_synchronisation_until_it_finishes(page, live_server, demo):
    """The page refreshes itself: a run finishing elsewhere (a worker) shows up without a click."""
    import threading

    from django.db import connection
    from django.utils import timezone

    from integration.defaults import integration_setup_reset
    from integration.models import ConnectionSetup, FullSyncLine, FullSyncRun

    mappings = integration_setup_reset()
    ConnectionSetup.objects.filter(pk=ConnectionSetup.get_solo().pk).update(is_enabled=True)
    run = FullSyncRun.objects.create(status=FullSyncRun.Status.RUNNING)
    names = ["SALESPEOPLE", "CURRENCY"]
    for position, name in enumerate(names):  # a worker is on SALESPEOPLE; CURRENCY waits for its turn
        FullSyncLine.objects.create(run=run, mapping=next(m for m in mappings if m.name == name), mapping_name=name,
                                    position=position, recommendation=FullSyncLine.Recommendation.FULL,
                                    state=FullSyncLine.State.RUNNING if position == 0 else FullSyncLine.State.WAITING)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/integration/connectionsetup/full-synchronization/")
    assert page.inner_text("#p2c-run-state") == "In Process"
    assert page.inner_text('tr[data-name="SALESPEOPLE"] .p2c-state') == "In Process"
    shot(page, "15-review-running")

    def in_thread(work):
        """Run ``work`` as a worker would, in its own thread and database connection (closed afterwards)."""

        def run_and_close():
            try:
                work()
            finally:
                connection.close()

        threading.Timer(1, run_and_close).start()

    def first_line_done():
        FullSyncLine.objects.filter(run=run, mapping_name="SALESPEOPLE").update(state=FullSyncLine.State.FINISHED)

    in_thread(first_line_done)
    page.wait_for_function(
        "document.querySelector('tr[data-name=\"SALESPEOPLE\"] .p2c-state').textContent.trim() === 'Finished'",
        timeout=30_000)
    assert "1 of 2 mappings done" in page.inner_text("#p2c-progress-text")
    shot(page, "16-review-progress-by-polling")

    def finish():
        FullSyncLine.objects.filter(run=run).update(state=FullSyncLine.State.FINISHED)
        FullSyncRun.objects.filter(pk=run.pk).update(status=FullSyncRun.Status.FINISHED, finished_at=timezone.now())

    in_thread(finish)
    page.wait_for_function("document.querySelector('#p2c-run-state').textContent.trim() === 'Finished'",
                           timeout=30_000)
    assert page.is_visible("#p2c-start") and page.is_enabled("#p2c-start")
    shot(page, "16b-review-finished-by-polling")


def test_set_up_coupling_by_hand_with_the_search_box(page, live_server, demo):
    """From the ERP customers list: pick the Sales account to couple to by searching for it."""
    from crm.models import Account
    from erp.models import Customer
    from integration.coupling.couplings import coupling_for
    from integration.defaults import integration_setup_reset
    from integration.models import ConnectionSetup

    integration_setup_reset()
    ConnectionSetup.objects.filter(pk=ConnectionSetup.get_solo().pk).update(is_enabled=True)  # coupling needs it
    customer = Customer.objects.create(name="Handpicked Trading")
    account = Account.objects.create(name="Handpicked Trading Ltd", customer_type_code="customer")
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/erp/customer/?q=Handpicked")
    run_list_action(page, customer.pk, "couple_set_up")
    page.wait_for_selector("#p2c-action-form")
    page.fill('input[name="p2c-search"]', "Handpicked")
    page.click('input[name="p2c-find"]')
    page.wait_for_selector('input[name="p2c-counterpart"]')
    shot(page, "17-set-up-coupling-search")
    page.check(f'input[name="p2c-counterpart"][value$=":{account.pk}"]')
    page.click('input[name="p2c-submit"]')
    page.wait_for_selector(".messagelist")
    assert "is coupled to" in page.inner_text(".messagelist")
    assert "Coupled to" in page.locator("#result_list tbody tr", has_text="Handpicked").inner_text()
    shot(page, "18-set-up-coupling-done")
    assert coupling_for(customer).crm_id == account.pk
