"""Browser test (issue 61): the assisted set-up pointed at another p2c instance whose Sales answers over HTTPS, then
*Test connection* naming the Sales user the integration signs in as, then the connection setup's page and the Sales
admin of this instance saying where Sales lives.

The Sales instance is a real gunicorn process (tests.crm.dataverse.server.https_server, a trustme certificate) on
a database of its own (a SQLite file under the test's tmp directory: migrated, a small demo seeded and its
application user made by ``sales_api_application``, as `make run-two` does), so it runs on any test database.
Screenshots at 1,400 px go to tests/e2e/screenshots/ (git-ignored): sales-connection-*.png.
"""

import os
import subprocess
import sys

import pytest

from tests.concurrency import REPO
from tests.crm.dataverse.server import https_server
from tests.e2e.browser import PASSWORD, log_in, shot

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
    env = {**{k: v for k, v in os.environ.items() if k not in NAMES}, **database, "P2C_VAR_DIR": str(tmp),
           "DJANGO_DEBUG": "true", "SALES_API_CLIENT_SECRET": SECRET, "PYTHONPATH": str(REPO)}
    for command in (["migrate_all", "--noinput"], ["seed_demo", "--scale", "20"], ["sales_api_application"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=REPO, env=env, check=True, capture_output=True,
                       timeout=600)
    with https_server(tmp, env={"P2C_VAR_DIR": str(tmp)}, database_env=database) as (base, ca_file):
        yield base, ca_file


@pytest.fixture
def admin_user(db):
    from django.contrib.auth.models import User

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
