"""The full synchronisation review page (integration/views.py): lines in dependency order with recommendations,
Start and Restart, the JSON the page polls, and permissions."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from crm.models import Account, TransactionCurrency
from erp.models import Currency, Customer
from integration.engine.locks import STALE_AFTER, holding
from integration.models import FullSyncLine, FullSyncRun, IntegrationTableMapping
from tests.concurrency import dead_holder_token

pytestmark = pytest.mark.django_db

REVIEW = "admin:integration_full_sync_review"
STATUS = "admin:integration_full_sync_status"


@pytest.fixture
def superuser_client(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def test_review_lists_every_mapping_in_dependency_order_with_recommendations(superuser_client, mappings):
    Customer.objects.create(name="Only in the ERP")
    response = superuser_client.get(reverse(REVIEW))
    assert response.status_code == 200
    names = [line.name for line in response.context["lines"]]
    assert names.index("SALESPEOPLE") < names.index("CUSTOMER") < names.index("CONTACT")
    assert names.index("CURRENCY") < names.index("CUSTOMER")
    html = response.content.decode()
    assert "Full Synchronization" in html and 'id="p2c-start"' in html
    assert "POSTEDSALESLINE-INV" not in names  # a child mapping is not a line


def test_start_runs_the_lines_and_the_page_shows_progress(superuser_client, mappings, salesperson_pair,
                                                          django_capture_on_commit_callbacks):
    Currency.objects.create(code="EUR", iso_code="EUR", description="Euro")
    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post(reverse(REVIEW), {"start": "Start"})
    assert response.status_code == 302
    run = FullSyncRun.objects.get()
    status = superuser_client.get(reverse(STATUS)).json()
    assert status["run"]["id"] == run.pk and status["finished"] is True
    assert status["progress"]["percent"] == 100 or status["progress"]["failed"]
    currency = next(line for line in status["lines"] if line["name"] == "CURRENCY")
    assert currency["state"] == "finished" and currency["to_job"]["status"] == "success"
    assert TransactionCurrency.objects.filter(iso_currency_code="EUR").exists()
    page = superuser_client.get(reverse(REVIEW))
    assert f"Run #{run.pk}" in page.content.decode()


def test_a_failed_run_offers_restart(superuser_client, mappings):
    FullSyncRun.objects.create(status=FullSyncRun.Status.FAILED, message="Failed: CUSTOMER.")
    page = superuser_client.get(reverse(REVIEW))
    html = page.content.decode()
    assert 'id="p2c-restart"' in html and "Failed: CUSTOMER." in html


def test_a_running_run_polls_and_cannot_be_started_twice(superuser_client, mappings):
    FullSyncRun.objects.create(status=FullSyncRun.Status.RUNNING)
    html = superuser_client.get(reverse(REVIEW)).content.decode()
    assert 'data-running="1"' in html and "setTimeout(poll, 2000)" in html
    assert '<input type="submit" value="Start" disabled' in html


def run_with_a_line_claimed_by(mapping, *, claim, locked_at, started_at):
    """A run in process whose CUSTOMER line the worker ``claim`` (a holder token) claimed at ``started_at``; that
    worker holds the mapping's lock as last refreshed at ``locked_at`` (None: the lock is free)."""
    run = FullSyncRun.objects.create(status=FullSyncRun.Status.RUNNING)
    FullSyncRun.objects.filter(pk=run.pk).update(started_at=started_at)
    line = FullSyncLine.objects.create(run=run, mapping=mapping, mapping_name=mapping.name,
                                       recommendation="full_synchronization", state="running", claim=claim,
                                       started_at=started_at)
    IntegrationTableMapping.objects.filter(pk=mapping.pk).update(
        locked_by=claim if locked_at else "", locked_at=locked_at)
    return run, line


@pytest.mark.parametrize("lock", ["held by the dead worker", "free"])
def test_a_running_run_whose_worker_died_offers_restart_at_once_and_says_why(superuser_client, mappings, lock):
    # Its worker was killed a few seconds ago: no need to wait for anything to go stale.
    seconds_ago = timezone.now() - timedelta(seconds=5)
    run, line = run_with_a_line_claimed_by(mappings["CUSTOMER"], claim=dead_holder_token(), started_at=seconds_ago,
                                           locked_at=seconds_ago if lock != "free" else None)

    html = superuser_client.get(reverse(REVIEW)).content.decode()
    assert 'id="p2c-restart"' in html and '<input type="submit" value="Start" disabled' not in html
    assert "The worker running CUSTOMER stopped (killed or crashed)" in html
    assert 'data-running="1"' in html  # still polls: the periodic check queues the line again
    status = superuser_client.get(reverse(STATUS)).json()
    assert status["can_restart"] is True and status["finished"] is False
    assert "stopped (killed or crashed)" in status["stalled"]["message"]

    out = StringIO()
    call_command("full_sync", stdout=out)
    assert "stopped (killed or crashed)" in out.getvalue() and "full_sync --restart" in out.getvalue()

    response = superuser_client.post(reverse(REVIEW), {"restart": "Restart"})
    assert response.status_code == 302
    run.refresh_from_db()
    line.refresh_from_db()
    assert (run.status, run.restarts) == ("running", 1)
    assert (line.state, line.claim) == ("", "")  # taken from the dead worker, queued again by the run's advance
    # Just restarted: not offered again until the restart itself has gone STALE_AFTER without progress.
    status = superuser_client.get(reverse(STATUS)).json()
    assert status["stalled"] is None and status["can_restart"] is False


def test_a_running_run_whose_worker_is_alive_offers_no_restart(superuser_client, mappings):
    long_ago = timezone.now() - STALE_AFTER - timedelta(minutes=5)
    # The line started long ago and its worker's process is alive: it is still at work.
    with holding() as worker:
        run_with_a_line_claimed_by(mappings["CUSTOMER"], claim=worker.token, started_at=long_ago,
                                   locked_at=timezone.now() - timedelta(seconds=10))
        html = superuser_client.get(reverse(REVIEW)).content.decode()
        assert 'id="p2c-restart"' not in html and '<input type="submit" value="Start" disabled' in html
        assert "stopped" not in html
        status = superuser_client.get(reverse(STATUS)).json()
        assert status["can_restart"] is False and status["stalled"] is None


def test_a_run_that_just_started_offers_no_restart_before_a_worker_picks_it_up(superuser_client, mappings):
    # Lines queued a minute ago and no worker yet: not stalled (the message is still in the queue).
    run, line = run_with_a_line_claimed_by(mappings["CUSTOMER"], claim="", locked_at=None,
                                           started_at=timezone.now() - timedelta(minutes=1))
    FullSyncLine.objects.filter(pk=line.pk).update(state="waiting", claim="", started_at=None)
    assert superuser_client.get(reverse(STATUS)).json()["can_restart"] is False
    # The same, an hour later: the message was lost with its worker.
    FullSyncRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(hours=1))
    status = superuser_client.get(reverse(STATUS)).json()
    assert status["can_restart"] is True and status["stalled"]["since"]
    assert "the worker may have stopped" in status["stalled"]["message"]


def test_start_refused_while_the_connection_is_disabled(superuser_client, mappings):
    from integration.models import ConnectionSetup

    ConnectionSetup.objects.update(is_enabled=False)
    response = superuser_client.post(reverse(REVIEW), {"start": "Start"}, follow=True)
    assert "not enabled" in response.content.decode() and not FullSyncRun.objects.exists()


def test_review_and_status_are_refused_without_run_synchronization(client, mappings):
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_syncjob", "change_connectionsetup"]))
    client.force_login(user)
    assert client.get(reverse(REVIEW)).status_code == 403
    assert client.post(reverse(REVIEW), {"start": "Start"}).status_code == 403
    assert client.get(reverse(STATUS)).status_code == 403
    assert not FullSyncRun.objects.exists()
    user.user_permissions.add(Permission.objects.get(codename="run_synchronization"))
    client.force_login(User.objects.get(pk=user.pk))
    assert client.get(reverse(REVIEW)).status_code == 200


def test_an_account_only_in_sales_is_recommended_full_synchronisation(superuser_client, mappings):
    Account.objects.create(name="Only in Sales", customer_type_code="customer")
    status = superuser_client.get(reverse(STATUS)).json()
    customer = next(line for line in status["lines"] if line["name"] == "CUSTOMER")
    assert customer["recommendation"] in ("full_synchronization", "dependency_not_satisfied")
