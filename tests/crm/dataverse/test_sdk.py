"""Microsoft's own Dataverse client (PowerPlatform-Dataverse-Client) against a real p2c server over HTTPS, signed
in with OAuth 2.0 client credentials from /o/token/ as an application made with ``createapplication``."""

import time

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.management import call_command

from crm.models import Account, Contact, SystemUser

# Needs its packages (requirements-dev.txt) and a database a server process can reach (PostgreSQL, or SQLite in a
# file: the in-memory test database is skipped with the reason).
pytest.importorskip("PowerPlatform.Dataverse", reason="needs PowerPlatform-Dataverse-Client (requirements-dev.txt)")
pytest.importorskip("trustme", reason="needs trustme (requirements-dev.txt)")
pytest.importorskip("gunicorn", reason="needs gunicorn (requirements-dev.txt)")

from azure.core.credentials import AccessToken
from PowerPlatform.Dataverse.client import DataverseClient

from tests.crm.dataverse.server import https_server

pytestmark = [pytest.mark.child_process, pytest.mark.django_db(transaction=True)]


class ClientCredentials:
    """An azure-core TokenCredential that signs in at p2c's /o/token/ with client credentials, as
    azure-identity's ClientSecretCredential does at Microsoft Entra ID."""

    def __init__(self, token_url, client_id, client_secret, ca_file):
        self.token_url, self.client_id, self.client_secret, self.ca_file = token_url, client_id, client_secret, ca_file

    token = None

    def get_token(self, *scopes, **kwargs):
        if self.token is not None:  # kept until it expires, as azure-identity keeps it
            return self.token
        response = requests.post(self.token_url, data={"grant_type": "client_credentials"},
                                 auth=(self.client_id, self.client_secret), verify=self.ca_file, timeout=30)
        response.raise_for_status()
        body = response.json()

        self.token = AccessToken(body["access_token"], int(time.time()) + body["expires_in"])
        return self.token


@pytest.fixture
def application_user():
    user = get_user_model().objects.create_superuser("bc-integration", "bc@example.com", "unused")
    call_command("createapplication", "confidential", "client-credentials", "--user", str(user.pk),
                 "--client-id", "bc-client", "--client-secret", "bc-secret", "--name", "Business Central")
    return user


def test_the_official_sdk_creates_gets_pages_updates_upserts_deletes_and_batches(tmp_path, monkeypatch,
                                                                                  application_user):
    with https_server(tmp_path) as (base, ca_file):
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_file)
        credential = ClientCredentials(f"{base}/o/token/", "bc-client", "bc-secret", ca_file)
        with DataverseClient(base, credential) as client:
            account_id = client.records.create("account", {"name": "Contoso", "telephone1": "555-0100"})
            contact_ids = client.records.create("contact", [{"lastname": f"Lee {i}"} for i in range(7)])
            assert len(contact_ids) == 7
            row = client.records.retrieve("account", account_id, select=["name", "telephone1"])
            assert row["name"] == "Contoso" and row["telephone1"] == "555-0100"
            client.records.update("account", account_id,
                                  {"primarycontactid@odata.bind": f"/contacts({contact_ids[0]})"})
            pages = list(client.records.list_pages("contact", select=["lastname"], page_size=3))
            assert [len(page) for page in pages] == [3, 3, 1]
            client.records.upsert("account", [
                {"alternate_key": {"accountnumber": "BC-1"}, "record": {"name": "Upserted"}},
                {"alternate_key": {"accountnumber": "BC-2"}, "record": {"name": "Upserted too"}},
            ])
            client.records.upsert("account", [{"alternate_key": {"accountnumber": "BC-1"},
                                               "record": {"name": "Upserted again"}}])
            client.records.delete("contact", contact_ids[-1])
            batch = client.batch.new()
            batch.records.create("account", {"name": "From a batch"})
            with batch.changeset() as changeset:
                changeset.records.create("contact", {"lastname": "In a change set"})
                changeset.records.update("account", account_id, {"telephone1": "555-0199"})
            result = batch.execute()
            assert not result.has_errors, [r.error_message for r in result.responses]
    account = Account.objects.get(pk=account_id)
    assert account.primary_contact_id is not None and str(account.primary_contact_id) == contact_ids[0]
    assert account.telephone1 == "555-0199"
    assert Account.objects.get(account_number="BC-1").name == "Upserted again"
    assert Account.objects.filter(name__in=["Upserted too", "From a batch"]).count() == 2
    assert Contact.objects.filter(last_name="In a change set").exists()
    assert Contact.objects.count() == 7  # 7 created, one deleted, one in the change set
    # What the application wrote carries its user's Sales user as modifiedby.
    assert account.modifiedby == SystemUser.objects.get(user=application_user)
