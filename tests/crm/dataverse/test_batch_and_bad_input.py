"""$batch, and bad input: Dataverse's error and status, never a 500, nothing half-written."""

import uuid

import pytest

from crm.models import Account
from tests.crm.dataverse.batches import batch_body, http_part, post_batch

pytestmark = pytest.mark.django_db


def test_batch_runs_a_change_set_and_plain_requests(dv):
    account = Account.objects.create(name="Read me")
    body = batch_body("batch_1", [
        http_part("POST", "accounts", {"name": "In a change set"}, content_id="1"),
        http_part("PATCH", "$1", {"telephone1": "42"}, content_id="2"),
    ], http_part("GET", f"accounts({account.pk})?$select=name"))
    response = post_batch(dv, body)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("multipart/mixed; boundary=batchresponse_")
    text = response.content.decode()
    assert text.count("HTTP/1.1 204") == 2 and "HTTP/1.1 200" in text and '"name":"Read me"' in text
    assert Account.objects.get(name="In a change set").telephone1 == "42"


def test_a_change_set_failing_part_way_leaves_nothing_written(dv):
    existing = Account.objects.create(name="Existing")
    body = batch_body("batch_2", [
        http_part("POST", "accounts", {"name": "Would be new"}),
        http_part("PATCH", f"accounts({existing.pk})", {"name": "Would be renamed"}),
        http_part("PATCH", f"accounts({existing.pk})", {"nosuch": 1}),
    ])
    response = post_batch(dv, body, batch="batch_2")
    assert response.status_code == 200
    text = response.content.decode()
    assert "HTTP/1.1 400" in text and "nosuch" in text and "HTTP/1.1 204" not in text
    assert list(Account.objects.values_list("name", flat=True)) == ["Existing"]


def test_batch_of_1001_requests_is_refused_and_writes_nothing(dv):
    body = batch_body("batch_3", *[http_part("POST", "accounts", {"name": f"N{i}"}) for i in range(1001)])
    response = post_batch(dv, body, batch="batch_3")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"]["code"].startswith("0x") and "1000" in response.json()["error"]["message"]
    assert not Account.objects.exists()


def test_bad_input_gets_dataverse_errors(dv, settings):
    nul = dv.post("accounts", {"name": "a\x00b"})
    assert nul.status_code == 400 and nul.json_body["error"]["code"] == "0x80048d19"
    nul_query = dv.get("accounts?$filter=name eq 'a%00'")
    assert nul_query.status_code == 400 and nul_query.json_body["error"]["code"].startswith("0x")
    huge = dv.request("POST", "accounts", raw=b'{"name": "' + b"x" * (10 * 1024 * 1024) + b'"}')
    assert huge.status_code == 413 and huge.json_body["error"]["code"].startswith("0x")
    not_json = dv.request("POST", "accounts", raw=b"{not json")
    assert not_json.status_code == 400 and not_json.json_body["error"]["code"] == "0x80048d19"
    wrong_bind = dv.post("accounts", {"name": "A", "primarycontactid@odata.bind": "/accounts(1)"})
    assert wrong_bind.status_code == 400
    missing_bind = dv.post("accounts", {"name": "A", "primarycontactid@odata.bind": f"/contacts({uuid.uuid4()})"})
    assert missing_bind.status_code in (400, 404, 412) and missing_bind.json_body["error"]["code"].startswith("0x")
    bad_choice = dv.post("accounts", {"name": "A", "statecode": 7})
    assert bad_choice.status_code == 400
    bad_key = dv.get("accounts(not-a-guid)")
    assert bad_key.status_code == 400
    wrong_method = dv.request("PUT", "accounts")
    assert wrong_method.status_code == 405
    assert not Account.objects.exists()


def test_no_token_no_data(client):
    response = client.get("/api/data/v9.2/accounts")
    assert response.status_code == 401 and response.json()["error"]["code"].startswith("0x")
    response = client.get("/api/data/v9.2/accounts", headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 401


def test_permissions_of_the_login_apply(django_user_model):
    from rest_framework.authtoken.models import Token

    from tests.crm.dataverse.client import Dataverse

    user = django_user_model.objects.create_user("reader")
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="view_account"))
    reader = Dataverse(Token.objects.create(user=user).key)
    assert reader.get("accounts").status_code == 200
    refused = reader.post("accounts", {"name": "No"})
    assert refused.status_code == 403 and refused.json_body["error"]["code"] == "0x80040220"
    assert reader.get("contacts").status_code == 403
    assert not Account.objects.exists()


def test_client_credentials_token_from_o_token_acts_as_the_application_user(client, django_user_model):
    from django.core.management import call_command

    from crm.models import SystemUser

    user = django_user_model.objects.create_superuser("app-user", "app@example.com", None)
    call_command("createapplication", "confidential", "client-credentials", "--user", str(user.pk),
                 "--client-id", "app", "--client-secret", "secret", "--name", "An application")
    token = client.post("/o/token/", {"grant_type": "client_credentials"},
                        headers={"Authorization": "Basic YXBwOnNlY3JldA=="})  # app:secret
    assert token.status_code == 200, token.content
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    created = client.post("/api/data/v9.2/accounts", {"name": "By the application"}, content_type="application/json",
                          headers=bearer)
    assert created.status_code == 204, created.content
    assert Account.objects.get().modifiedby == SystemUser.objects.get(user=user)
    wrong = client.post("/o/token/", {"grant_type": "client_credentials"},
                        headers={"Authorization": "Basic YXBwOndyb25n"})  # app:wrong
    assert wrong.status_code == 401


def test_past_the_concurrent_limit_a_request_gets_429(admin_user, settings):
    from crm.dataverse import errors, protection

    settings.DATAVERSE_LIMIT_CONCURRENT = 1
    with protection.protected(admin_user.pk), pytest.raises(errors.DataverseError) as refused, \
            protection.protected(admin_user.pk):
        pass
    assert refused.value.status == 429 and refused.value.code == "0x80072326"
    assert refused.value.headers["Retry-After"] == "1"
    with protection.protected(admin_user.pk):  # the first one done, there is room again
        pass


def test_a_count_left_in_flight_by_a_killed_process_is_forgotten_two_periods_later(admin_user, settings):
    from crm.dataverse import errors, protection
    from crm.models import DataverseRequestCount

    settings.DATAVERSE_LIMIT_CONCURRENT = 1
    now = __import__("time").time()
    stale = protection._in_flight_slot(now - 2 * protection.IN_FLIGHT_PERIOD)
    DataverseRequestCount.objects.create(user_id=admin_user.pk, slot=stale, count=1)  # a crash long ago
    with protection.protected(admin_user.pk):
        pass
    DataverseRequestCount.objects.update_or_create(user_id=admin_user.pk, slot=protection._in_flight_slot(now),
                                                   defaults={"count": 1})  # one in flight now
    with pytest.raises(errors.DataverseError), protection.protected(admin_user.pk):
        pass
