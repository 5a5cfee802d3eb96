"""A real p2c process serving Sales's Dataverse Web API (tests.crm.dataverse.server: gunicorn, HTTPS with a trustme
certificate, on a free loopback port, on this test run's databases), its application user, and a `Transport` signed
in to it with client credentials."""

from contextlib import contextmanager
from dataclasses import dataclass

from tests.crm.dataverse.server import https_server_process

CLIENT_ID, CLIENT_SECRET = "p2c-integration", "integration-secret"


OTHER_ID, OTHER_SECRET = "someone-else", "someone-else-secret"


def logins_create():
    """The logins the server is signed in to with (the integration's application user and someone else's) and their
    OAuth applications, made in this process: committed if it holds no transaction (else `serving` makes them in a
    child process)."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    for name, client_id, secret in ((NAMES["integration"], CLIENT_ID, CLIENT_SECRET),
                                    ("someone-else", OTHER_ID, OTHER_SECRET)):
        user = get_user_model().objects.create_superuser(name, name + "@example.com", None)
        call_command("createapplication", "confidential", "client-credentials", "--user", str(user.pk),
                     "--client-id", client_id, "--client-secret", secret, "--name", name)


# Run in a child process (committed, whatever transaction the test holds): the logins and their OAuth applications.
_USERS = "from tests.integration.sales_api.server import logins_create\nlogins_create()\n"
_CLEAN = """
from django.contrib.auth import get_user_model
from oauth2_provider.models import AccessToken, Application
from crm.models import Account, Contact, DataverseRequestCount, DeletedRecord, SystemUser
from erp.models import DeletedRecord as ErpDeletedRecord
Contact.objects.all().delete()
Account.objects.all().delete()
DataverseRequestCount.objects.all().delete()
AccessToken.objects.all().delete()
Application.objects.all().delete()
users = get_user_model().objects.filter(username__in=[%(integration)r, "someone-else"])
SystemUser.objects.filter(user__in=list(users.values_list("pk", flat=True))).delete()
users.delete()
# Last: the deletions above are logged too, and later tests count the log's entries.
DeletedRecord.objects.all().delete()
ErpDeletedRecord.objects.all().delete()
"""
NAMES = {"integration": "sales-integration", "client_id": CLIENT_ID, "secret": CLIENT_SECRET, "other_id": OTHER_ID,
         "other_secret": OTHER_SECRET}


@dataclass
class Served:
    base: str
    ca_file: str
    process: object = None  # its GunicornServer (tests.crm.dataverse.server), which a test may kill and start again

    def transport(self, monkeypatch, *, client_id=CLIENT_ID, secret=CLIENT_SECRET, **options):
        from integration.engine.sides.dataverse_http import SalesApiConfig, Transport

        monkeypatch.setenv("SSL_CERT_FILE", self.ca_file)
        config = SalesApiConfig(url=self.base, client_id=client_id, secret=secret,
                                token_url=f"{self.base}/o/token/", **options).checked()
        return Transport(config)

    def someone_else(self, monkeypatch):
        """A transport signed in as another Sales user than the integration's."""
        return self.transport(monkeypatch, client_id=OTHER_ID, secret=OTHER_SECRET)

    def environment(self, *, secret=CLIENT_SECRET):
        """The ``SALES_API_*`` environment that points p2c at this server (and trusts its certificate)."""
        return {"SALES_API_URL": self.base, "SALES_API_TOKEN_URL": f"{self.base}/o/token/",
                "SALES_API_CLIENT_ID": CLIENT_ID, "SALES_API_CLIENT_SECRET": secret, "SSL_CERT_FILE": self.ca_file}

    def point_at(self, monkeypatch, **options):
        """Configure this process with Sales over the Web API of this server; returns that environment."""
        env = self.environment(**options)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return env


def accounts_delete(transport):
    """Delete every account through the Web API (what a test left)."""
    ids = [row["accountid"] for row in transport.get("accounts?$select=accountid", what="test").json()["value"]]
    for account_id in ids:
        transport.request("DELETE", f"accounts({account_id})", what="test")


def accounts_delete_all(tmp_path):
    """Delete every account in a child process (committed): for thousands, where one request each would take
    minutes."""
    from tests.concurrency import run_in_processes

    (tmp_path / "go").unlink(missing_ok=True)
    run_in_processes("from crm.models import Account\nAccount.objects.all().delete()\n", processes=1,
                     tmp_path=tmp_path)


@contextmanager
def serving(tmp_path, **options):
    """A server (`https_server_process`) and its logins (the integration's application user and someone else's), made
    in a child process (committed, whatever the test's transaction), all taken away afterwards."""
    from tests.concurrency import run_in_processes

    run_in_processes(_USERS, processes=1, tmp_path=tmp_path)
    try:
        with https_server_process(tmp_path, **options) as server:
            yield Served(server.base, server.ca_file, server)
    finally:
        (tmp_path / "go").unlink(missing_ok=True)
        run_in_processes(_CLEAN % NAMES, processes=1, tmp_path=tmp_path)
