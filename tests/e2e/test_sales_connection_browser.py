"""Browser test (docs/decisions.md#sales-over-http): the assisted set-up pointed at another p2c instance whose Sales
answers over HTTPS, then *Test connection* naming the Sales user the integration signs in as, then the connection
setup's page and the Sales admin of this instance saying where Sales lives.

The Sales instance is a real gunicorn process (tests.crm.dataverse.server.https_server, a trustme certificate) on
a database of its own (a SQLite file under the test's tmp directory: migrated, a small demo seeded and its
application user made by ``sales_api_application``, as `make run-two` does), so it runs on any test database.
Then a full synchronisation from the review page, and one customer synchronised both ways from the admin: renamed
here and sent (the Sales instance's own admin shows it), renamed there and got back.
Screenshots at 1,400 px go to var/screenshots/ (git-ignored): sales-connection-*.png.
"""

import os
import subprocess
import sys

import pytest

from tests.concurrency import REPO
from tests.crm.dataverse.server import https_server
from tests.e2e.browser import PASSWORD, log_in, run_list_action

SCREENSHOTS = REPO / "var" / "screenshots"


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLIENT_ID, SECRET = "p2c-integration", "e2e-sales-instance-secret"
NAMES = ("SALES_API_URL", "SALES_API_TOKEN_URL", "SALES_API_TENANT_ID", "SALES_API_CLIENT_ID",
         "SALES_API_CLIENT_SECRET", "SALES_DATABASE_URL", "DATABASE_URL", "P2C_TEST_SQLITE_NAME")


@pytest.fixture(scope="module")
def sales_instance(tmp_path_factory):
    """Another p2c serving Sales over HTTPS on its own database: (base URL, CA file)."""
    tmp = tmp_path_factory.mktemp("sales-instance")
    # Its own file alone: a SALES_DATABASE_URL of this run (CI's PostgreSQL pass) would be read by its server too.
    database = {"DATABASE_URL": f"sqlite:///{tmp / 'sales.sqlite3'}", "SALES_DATABASE_URL": ""}
    # Its own cookies (the browser keeps one jar per host, whatever the port) and a superuser of its own.
    cookies = {"P2C_SESSION_COOKIE_NAME": "p2c-sales-session", "P2C_CSRF_COOKIE_NAME": "p2c-sales-csrf"}
    env = {**{k: v for k, v in os.environ.items() if k not in NAMES}, **database, "P2C_VAR_DIR": str(tmp),
           "DJANGO_DEBUG": "true", "SALES_API_CLIENT_SECRET": SECRET, "PYTHONPATH": str(REPO),
           "DJANGO_SUPERUSER_PASSWORD": PASSWORD, **cookies}
    for command in (["migrate_all", "--noinput"], ["seed_demo", "--scale", "20"], ["sales_api_application"],
                    ["ensure_superuser"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=REPO, env=env, check=True, capture_output=True,
                       timeout=600)
    with https_server(tmp, env={"P2C_VAR_DIR": str(tmp), **cookies}, database_env=database) as (base, ca_file):
        yield base, ca_file


@pytest.fixture
def admin_user(db):
    """This instance's administrator, and its ERP as `make run-two` leaves it (the demo: currencies, payment terms…
    that the Sales accounts name)."""
    from django.contrib.auth.models import User

    from integration.demo import demo_seed

    demo_seed(scale=4, seed=7)

    User.objects.create_superuser("admin", "admin@example.com", PASSWORD)


def test_the_assisted_set_up_reaches_another_instance_and_test_connection_names_its_user(
        page, live_server, admin_user, sales_instance, monkeypatch):
    from integration.models import ConnectionSetup

    base, ca_file = sales_instance
    for name in NAMES[:5]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)  # the Sales instance's certificate, as a company's own CA
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/integration/connectionsetup/assisted-setup/?restart=1")
    page.wait_for_selector("#p2c-wizard")
    # This database: no address to give, no connection to test.
    assert not page.is_visible("#id_sales-sales_api_url") and not page.is_visible("#p2c-wizard-test")
    page.check("input[name=sales-sales_location][value=web_api]")
    page.check("input[name=sales-sales_api_sign_in][value=token_url]")
    assert page.is_visible("#id_sales-sales_api_token_url") and not page.is_visible("#id_sales-sales_api_tenant_id")
    page.fill("#id_sales-sales_api_url", base)
    page.fill("#id_sales-sales_api_token_url", f"{base}/o/token/")
    page.fill("#id_sales-sales_api_client_id", CLIENT_ID)
    page.fill("#id_sales-sales_api_client_secret", "not-the-secret")
    shot(page, "sales-connection-1-step")

    # A wrong secret: red, naming what failed; nothing kept.
    page.click("input[name=test]")
    page.wait_for_selector(".messagelist .error")
    assert "Sales refused the credentials" in page.inner_text(".messagelist .error")
    assert page.get_attribute("#id_sales-sales_api_client_secret", "value") in (None, "")  # never shown back
    shot(page, "sales-connection-2-refused")

    page.fill("#id_sales-sales_api_client_secret", SECRET)
    page.click("input[name=test]")
    page.wait_for_selector(".messagelist .success")
    told = page.inner_text(".messagelist .success")
    assert f"Signed in to Sales at {base} as p2c integration" in told and SECRET not in page.content()
    shot(page, "sales-connection-3-signed-in")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400

    # Next keeps the secret entered (the session holds it encrypted), through to Finish.
    page.click("input[name=next]")
    page.wait_for_selector("#id_connection-is_enabled")
    page.click("input[name=next]")
    page.click("input[name=next]")
    page.click("input[name=next]")
    page.uncheck("#id_finish-run_full_sync")
    shot(page, "sales-connection-4-finish")
    page.click("input[name=next]")
    page.wait_for_selector("#p2c-sales-test")
    setup = ConnectionSetup.get_solo()
    assert (setup.sales_location, setup.sales_api_url, setup.sales_api_client_secret) == ("web_api", base, SECRET)

    # The connection setup's page: where Sales is, and Test connection again.
    assert base in page.inner_text("#content")
    page.click("#p2c-sales-test")
    page.wait_for_selector(".messagelist .success")
    assert "as p2c integration" in page.inner_text(".messagelist .success")
    shot(page, "sales-connection-5-setup-page")

    # This instance's Sales admin says where Sales lives.
    page.goto(f"{live_server.url}/admin/crm/account/")
    page.wait_for_selector("#p2c-sales-remote")
    assert f"Sales lives at {base}" in page.inner_text("#p2c-sales-remote")
    assert page.get_attribute("#p2c-sales-remote a", "href") == f"{base}/admin/crm/"
    shot(page, "sales-connection-6-sales-admin")

    # A full synchronisation from the review page (Celery eager: to its end in the request), over HTTPS.
    from integration.models import Coupling, FullSyncRun, SyncJob

    page.set_default_timeout(300_000)
    from django.urls import reverse

    page.goto(f"{live_server.url}{reverse('admin:integration_full_sync_review')}")
    page.click("#p2c-start")
    page.wait_for_selector("#p2c-run-state")
    page.wait_for_function("document.querySelector('#p2c-run-state').textContent.trim() !== 'In Process'")
    shot(page, "sales-connection-7-full-sync")
    run = FullSyncRun.objects.latest("pk")
    assert run.status == FullSyncRun.Status.FINISHED, run.message
    assert page.locator('#p2c-review-lines tr[data-name="CUSTOMER"] .p2c-state').inner_text() == "Finished"

    # One customer synchronised both ways from this admin: renamed here and sent, renamed in Sales and got back.
    from erp.models import Customer
    from integration.models import SyncJobError

    coupling = Coupling.objects.filter(erp_model="erp.Customer", crm_model="crm.Account").order_by("pk").first()
    assert coupling is not None, [e.message_text for e in SyncJobError.objects.all()[:3]]
    customer = Customer.objects.get(pk=coupling.erp_id)
    page.goto(f"{live_server.url}/admin/erp/customer/{customer.pk}/change/")
    page.fill("#id_name", "Renamed in the ERP")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")
    synchronise_now(page, live_server, customer.pk, "send")
    shot(page, "sales-connection-8-sent")
    sales = page.context.browser.new_context(viewport={"width": 1400, "height": 900}, ignore_https_errors=True)
    other = sales.new_page()
    other.set_default_timeout(60_000)
    other.goto(f"{base}/admin/login/")
    other.fill("#id_username", "admin")
    other.fill("#id_password", PASSWORD)
    other.click("input[type=submit]")
    other.wait_for_selector("#site-name")
    other.goto(f"{base}/admin/crm/account/{coupling.crm_id}/change/")
    assert other.input_value("#id_name") == "Renamed in the ERP"  # it reached the other instance
    other.fill("#id_name", "Renamed in Sales")
    other.click("input[name=_save]")
    other.wait_for_selector(".messagelist")
    shot(other, "sales-connection-9-renamed-in-sales")
    sales.close()
    synchronise_now(page, live_server, customer.pk, "get")
    shot(page, "sales-connection-10-got")
    customer.refresh_from_db()
    assert customer.name == "Renamed in Sales"
    job = SyncJob.objects.filter(mapping_name="CUSTOMER", direction="from_integration").latest("pk")
    assert job.status == SyncJob.Status.SUCCESS and job.modified == 1, job.message


def synchronise_now(page, live_server, pk, direction):
    """The customers list's *Synchronise now* for one customer, in ``direction`` (send or get)."""
    page.goto(f"{live_server.url}/admin/erp/customer/?q=")
    run_list_action(page, pk, "synchronize_now")
    page.wait_for_selector("#p2c-action-form")
    page.check(f'input[name="p2c-direction"][value="{direction}"]')
    page.click('input[name="p2c-submit"]')
    page.wait_for_selector(".messagelist")
    message = page.inner_text(".messagelist")
    assert "1 done" in message, message
