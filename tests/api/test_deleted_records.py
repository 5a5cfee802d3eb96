"""``deleted-records/`` of both APIs (p2c.deletions): what a system that mirrors the records learns went since it
last looked, read-only, filtered by table, record and time, in keyset pages; what the admin's deletion log shows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.models import Account
from erp.models import Customer
from tests.api.clients import client_for
from tests.factories import AccountFactory, ContactFactory, CustomerFactory, ErpDeletedRecordFactory

pytestmark = pytest.mark.django_db(databases="__all__")


def test_a_sales_account_deleted_through_the_api_is_listed_since_the_time_asked(api):
    kept, gone = AccountFactory(), AccountFactory()
    since = timezone.now() - timedelta(seconds=1)
    assert api.delete(f"/api/crm/accounts/{gone.pk}/").status_code == 204
    ContactFactory().delete()  # another table of the same log

    response = api.get("/api/crm/deleted-records/", {"model": "crm.Account", "deleted_after": since.isoformat()})

    assert response.status_code == 200, response.content
    [entry] = response.json()["results"]
    assert (entry["model"], entry["record_id"]) == ("crm.Account", str(gone.pk))
    assert Account.objects.filter(pk=kept.pk).exists()
    assert len(api.get("/api/crm/deleted-records/").json()["results"]) == 2  # the contact too
    later = (timezone.now() + timedelta(seconds=1)).isoformat()
    assert api.get("/api/crm/deleted-records/", {"deleted_after": later}).json()["results"] == []


def test_an_erp_customer_deleted_is_found_by_its_key_and_the_log_pages_by_cursor(api):
    customer = CustomerFactory()
    key = customer.pk
    customer.delete()
    for n in range(3):  # other customers, deleted after it
        ErpDeletedRecordFactory(record_id=key + 1 + n)

    found = api.get("/api/erp/deleted-records/", {"record_id": key, "model": "erp.Customer"}).json()["results"]
    assert [(e["model"], e["record_id"]) for e in found] == [("erp.Customer", key)]
    assert not Customer.objects.filter(pk=key).exists()

    first = api.get("/api/erp/deleted-records/", {"page_size": 3}).json()
    second = api.get(first["next"]).json()
    ids = [e["id"] for e in first["results"] + second["results"]]
    assert len(ids) == 4 and ids == sorted(ids)  # oldest first, none twice, none left out
    assert second["next"] is None


@pytest.mark.parametrize(("query", "field"), [
    ({"model": "crm.Nothing"}, "model"),
    ({"model": "erp.Customer"}, "model"),  # an ERP table: not in Sales' log
    ({"deleted_after": "yesterday"}, "deleted_after"),
    ({"deleted_before": "2026-13-01T00:00:00Z"}, "deleted_before"),
    ({"record_id": "42"}, "record_id"),  # Sales keys are UUIDs
])
def test_a_bad_filter_is_a_400_naming_the_parameter(api, query, field):
    response = api.get("/api/crm/deleted-records/", query)

    assert response.status_code == 400, response.content
    assert field in response.json()


def test_the_log_is_read_only_and_needs_its_view_permission(api, user_with_perms):
    entry = ErpDeletedRecordFactory()
    assert api.post("/api/erp/deleted-records/", {"model": "erp.Customer", "record_id": 1}).status_code == 405
    assert api.delete(f"/api/erp/deleted-records/{entry.pk}/").status_code == 405
    one = api.get(f"/api/erp/deleted-records/{entry.pk}/").json()
    assert (one["model"], one["record_id"]) == ("erp.Customer", entry.record_id)

    assert client_for(user_with_perms("erp.view_customer")).get("/api/erp/deleted-records/").status_code == 403
    allowed = client_for(user_with_perms("erp.view_deletedrecord")).get("/api/erp/deleted-records/")
    assert allowed.status_code == 200 and len(allowed.json()["results"]) == 1
