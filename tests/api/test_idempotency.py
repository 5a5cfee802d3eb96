"""Idempotency-Key on POST: a retry replays the first answer; the same key for another request is refused."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.models import Account
from p2c.idempotency import idempotency_keys_purge
from p2c.models import IdempotencyKey

pytestmark = pytest.mark.django_db


def post(api, url, body, key):
    return api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_retry_replays_the_first_answer(api):
    first = post(api, "/api/crm/accounts/", {"name": "Once"}, "k-1")
    again = post(api, "/api/crm/accounts/", {"name": "Once"}, "k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Account.objects.count() == 1


def test_bulk_retry_replays(api):
    body = [{"account_number": "ACC-1", "name": "A"}]
    first = post(api, "/api/crm/accounts/bulk/", body, "bulk-1")
    again = post(api, "/api/crm/accounts/bulk/", body, "bulk-1")
    assert first.json() == again.json() and first.json()["created"] == 1
    assert Account.objects.count() == 1


def test_same_key_other_request_is_refused(api):
    assert post(api, "/api/crm/accounts/", {"name": "One"}, "k-2").status_code == 201
    assert post(api, "/api/crm/accounts/", {"name": "Two"}, "k-2").status_code == 422
    assert post(api, "/api/erp/customers/", {"no": "C1", "name": "One"}, "k-2").status_code == 422
    assert Account.objects.count() == 1


def test_request_still_running_is_a_409(api, superuser):
    IdempotencyKey.objects.create(
        key="k-3", user=superuser, method="POST", path="/api/crm/accounts/", request_hash="x" * 64
    )
    # A different body would be 422; the same request while the first runs is 409. Compute the same hash:
    import hashlib
    import json

    body = {"name": "Running"}
    IdempotencyKey.objects.filter(key="k-3").update(
        request_hash=hashlib.sha256(json.dumps(body).encode()).hexdigest()
    )
    response = api.post("/api/crm/accounts/", json.dumps(body), content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="k-3")
    assert response.status_code == 409
    assert Account.objects.count() == 0


def test_failed_validation_is_not_stored(api):
    assert post(api, "/api/crm/accounts/", {"name": ""}, "k-4").status_code == 400
    assert post(api, "/api/crm/accounts/", {"name": "Fixed"}, "k-4").status_code == 201


def test_keys_are_per_user(api, user_with_perms):
    from tests.api.clients import client_for

    other = client_for(user_with_perms("crm.add_account"))
    assert post(api, "/api/crm/accounts/", {"name": "Mine"}, "shared").status_code == 201
    assert post(other, "/api/crm/accounts/", {"name": "Theirs"}, "shared").status_code == 201
    assert Account.objects.count() == 2


def test_bad_key_and_purge(api):
    assert post(api, "/api/crm/accounts/", {"name": "A"}, "x" * 300).status_code == 400
    post(api, "/api/crm/accounts/", {"name": "A"}, "old")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(days=2))
    assert idempotency_keys_purge() == 1
    assert not IdempotencyKey.objects.exists()
