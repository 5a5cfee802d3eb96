"""The full synchronisation review page (integration/views.py): lines in dependency order with recommendations,
Start and Restart, the JSON the page polls, and permissions."""

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from crm.models import Account, TransactionCurrency
from erp.models import Currency, Customer
from integration.models import FullSyncRun

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
