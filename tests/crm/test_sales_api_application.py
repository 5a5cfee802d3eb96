"""``sales_api_application`` (docs/decisions.md#sales-over-http; `make run-two` runs it on its Sales instance): the
application user another p2c signs in as, made once and brought up to date when run again; its client credentials get a
token at /o/token/ that reads Sales's Web API and WhoAmI names it."""

import base64

import pytest
from django.core.management import CommandError, call_command
from oauth2_provider.models import get_application_model

from crm.models import SystemUser

pytestmark = pytest.mark.django_db

SECRET = "a-long-enough-secret-for-tests"


def token(client, secret):
    basic = base64.b64encode(f"p2c-integration:{secret}".encode()).decode()
    return client.post("/o/token/", {"grant_type": "client_credentials"}, secure=True,
                       HTTP_AUTHORIZATION=f"Basic {basic}")


def test_made_once_and_its_credentials_sign_in(client, monkeypatch, capsys):
    monkeypatch.setenv("SALES_API_CLIENT_SECRET", SECRET)
    call_command("sales_api_application")
    assert "was created: client id p2c-integration" in capsys.readouterr().out
    call_command("sales_api_application")  # again: nothing doubled
    assert "is up to date" in capsys.readouterr().out
    assert get_application_model().objects.filter(client_id="p2c-integration").count() == 1
    user = SystemUser.objects.get(fullname="p2c integration")
    assert user.is_integration_user
    answer = token(client, SECRET)
    assert answer.status_code == 200, answer.content
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {answer.json()['access_token']}"}
    who = client.get("/api/data/v9.2/WhoAmI", secure=True, **bearer).json()
    assert who["UserId"] == str(user.pk)
    assert client.get("/api/data/v9.2/accounts?$top=1", secure=True, **bearer).status_code == 200
    assert token(client, "not-the-secret").status_code == 401


def test_a_new_secret_replaces_the_old_one(client, monkeypatch):
    monkeypatch.setenv("SALES_API_CLIENT_SECRET", SECRET)
    call_command("sales_api_application")
    monkeypatch.setenv("SALES_API_CLIENT_SECRET", SECRET + "-2")
    call_command("sales_api_application")
    assert token(client, SECRET).status_code == 401 and token(client, SECRET + "-2").status_code == 200


def test_no_secret_or_a_short_one_is_refused(monkeypatch):
    monkeypatch.delenv("SALES_API_CLIENT_SECRET", raising=False)
    with pytest.raises(CommandError, match="SALES_API_CLIENT_SECRET"):
        call_command("sales_api_application")
    monkeypatch.setenv("SALES_API_CLIENT_SECRET", "short")
    with pytest.raises(CommandError, match="16 characters"):
        call_command("sales_api_application")
