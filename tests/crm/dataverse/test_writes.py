"""Writes, change tracking and $batch of the Dataverse Web API, in plain HTTP."""

import datetime
import uuid

import pytest
from django.utils import timezone

from crm.models import Account, Contact, DeletedRecord, SystemUser

pytestmark = pytest.mark.django_db


def test_post_creates_with_a_client_chosen_id_numbered_and_modified_by_the_caller(dv, admin_user):
    contact = Contact.objects.create(last_name="Lee")
    new_id = uuid.uuid4()
    response = dv.post("accounts", {"accountid": str(new_id), "name": "Contoso", "telephone1": "555",
                                    "primarycontactid@odata.bind": f"/contacts({contact.pk})", "statecode": 0})
    assert response.status_code == 204, response.content
    assert response["OData-EntityId"].endswith(f"/api/data/v9.2/accounts({new_id})")
    account = Account.objects.get(pk=new_id)
    assert account.primary_contact == contact and account.account_number.startswith("ACC")  # numbered as in admin
    assert account.modifiedby == SystemUser.objects.get(user=admin_user)
    again = dv.post("accounts", {"accountid": str(new_id), "name": "Twice"})
    assert again.status_code == 412 and again.json_body["error"]["code"] == "0x80040237"


def test_return_representation_and_validation_errors(dv):
    response = dv.post("contacts", {"lastname": "Lee", "firstname": "Ann", "emailaddress1": "ann@example.com"},
                       headers={"Prefer": "return=representation"})
    assert response.status_code == 201, response.content
    assert response["Preference-Applied"] == "return=representation"
    assert response.json_body["fullname"] == "Ann Lee" and response.json_body["contactid"]
    bad = dv.post("contacts", {"lastname": "Lee", "emailaddress1": "not an e-mail"})
    assert (bad.status_code == 400 and "emailaddress1" in bad.json_body["error"]["message"]) or \
        "email" in bad.json_body["error"]["message"]
    unknown = dv.post("contacts", {"lastname": "Lee", "nosuch": 1})
    assert unknown.status_code == 400 and "nosuch" in unknown.json_body["error"]["message"]
    assert Contact.objects.count() == 1


def test_patch_upserts_create_only_update_only_and_alternate_key(dv):
    key = uuid.uuid4()
    created = dv.patch(f"accounts({key})", {"name": "Made by upsert"})
    assert created.status_code == 204 and Account.objects.get(pk=key).name == "Made by upsert"
    updated = dv.patch(f"accounts({key})", {"name": "Changed"}, headers={"If-Match": "*"})
    assert updated.status_code == 204 and Account.objects.get(pk=key).name == "Changed"
    create_only = dv.patch(f"accounts({key})", {"name": "Never"}, headers={"If-None-Match": "*"})
    assert create_only.status_code == 412 and create_only.json_body["error"]["code"] == "0x80040237"
    update_only = dv.patch(f"accounts({uuid.uuid4()})", {"name": "Never"}, headers={"If-Match": "*"})
    assert update_only.status_code == 404 and update_only.json_body["error"]["code"] == "0x80040217"
    assert Account.objects.count() == 1 and Account.objects.get().name == "Changed"
    by_number = dv.patch("accounts(accountnumber='A-1')", {"name": "Keyed"},
                         headers={"Prefer": "return=representation"})
    assert by_number.status_code == 201 and by_number.json_body["accountnumber"] == "A-1"
    again = dv.patch("accounts(accountnumber='A-1')", {"telephone1": "123"})
    assert again.status_code == 204 and Account.objects.get(account_number="A-1").telephone1 == "123"


def test_stale_etag_is_412_and_current_etag_writes(dv):
    account = Account.objects.create(name="Contoso")
    etag = dv.get(f"accounts({account.pk})").json_body["@odata.etag"]
    assert dv.patch(f"accounts({account.pk})", {"name": "First"}, headers={"If-Match": etag}).status_code == 204
    stale = dv.patch(f"accounts({account.pk})", {"name": "Second"}, headers={"If-Match": etag})
    assert stale.status_code == 412 and stale.json_body["error"]["code"] == "0x80060882"
    stale_delete = dv.delete(f"accounts({account.pk})", headers={"If-Match": etag})
    assert stale_delete.status_code == 412
    assert Account.objects.get().name == "First"


def test_update_multiple_with_etags_writes_all_rows_or_none_when_one_changed_since_read(dv):
    first, second = Account.objects.create(name="First"), Account.objects.create(name="Second")
    etags = {row["accountid"]: row["@odata.etag"] for row in dv.get("accounts").json_body["value"]}

    def update(names):
        return dv.post("accounts/Microsoft.Dynamics.CRM.UpdateMultiple", {"Targets": [
            {"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": str(account.pk),
             "@odata.etag": etags[str(account.pk)], "name": name} for account, name in names]})

    assert update([(first, "First again"), (second, "Second again")]).status_code == 204
    assert set(Account.objects.values_list("name", flat=True)) == {"First again", "Second again"}
    # The second changed since its ETag was read (the first's read again): refused whole, the first not written
    etags[str(first.pk)] = dv.get(f"accounts({first.pk})").json_body["@odata.etag"]
    stale = update([(first, "First, third time"), (second, "Second, third time")])
    assert stale.status_code == 412 and stale.json_body["error"]["code"] == "0x80060882"
    assert set(Account.objects.values_list("name", flat=True)) == {"First again", "Second again"}


def test_delete_writes_the_deletion_log(dv):
    account = Account.objects.create(name="Contoso")
    assert dv.delete(f"accounts({account.pk})").status_code == 204
    assert not Account.objects.exists()
    assert DeletedRecord.objects.filter(record_id=account.pk, model="crm.Account").exists()
    assert dv.delete(f"accounts({account.pk})").status_code == 404


def test_create_update_upsert_multiple(dv):
    ids = dv.post("accounts/Microsoft.Dynamics.CRM.CreateMultiple", {"Targets": [
        {"@odata.type": "Microsoft.Dynamics.CRM.account", "name": f"Bulk {i}"} for i in range(3)]})
    assert ids.status_code == 200, ids.content
    ids = ids.json_body["Ids"]
    assert Account.objects.filter(pk__in=ids).count() == 3
    assert all(a.account_number for a in Account.objects.all())
    updated = dv.post("accounts/Microsoft.Dynamics.CRM.UpdateMultiple", {"Targets": [
        {"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": ids[0], "telephone1": "1"}]})
    assert updated.status_code == 204 and Account.objects.get(pk=ids[0]).telephone1 == "1"
    upserted = dv.post("accounts/Microsoft.Dynamics.CRM.UpsertMultiple", {"Targets": [
        {"@odata.type": "Microsoft.Dynamics.CRM.account", "@odata.id": "accounts(accountnumber='U-1')",
         "name": "New by key"},
        {"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": ids[1], "name": "Renamed"}]})
    assert upserted.status_code == 200, upserted.content
    assert [r["RecordCreated"] for r in upserted.json_body["Results"]] == [True, False]
    assert Account.objects.get(account_number="U-1").name == "New by key"
    # One bad row: nothing of the request is written
    refused = dv.post("accounts/Microsoft.Dynamics.CRM.UpsertMultiple", {"Targets": [
        {"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": ids[2], "name": "Not kept"},
        {"@odata.type": "Microsoft.Dynamics.CRM.account", "name": "x" * 500}]})
    assert refused.status_code == 400
    assert Account.objects.get(pk=ids[2]).name == "Bulk 2"


def _all_pages(dv, response, headers):
    rows = list(response.json_body["value"])
    while "@odata.nextLink" in response.json_body:
        response = dv.get(response.json_body["@odata.nextLink"].replace("http://testserver", ""), headers=headers)
        rows += response.json_body["value"]
    return rows, response.json_body.get("@odata.deltaLink")


def test_delta_link_returns_exactly_the_creates_updates_and_deletes_since(dv):
    kept, changed, deleted = (Account.objects.create(name=n) for n in ("Kept", "Changed", "Deleted"))
    headers = {"Prefer": "odata.track-changes,odata.maxpagesize=2"}
    first = dv.get("accounts?$select=name", headers=headers)
    assert "odata.track-changes" in first["Preference-Applied"]
    rows, delta_link = _all_pages(dv, first, headers)
    assert len(rows) == 3 and "$deltatoken=" in delta_link
    dv.patch(f"accounts({changed.pk})", {"name": "Changed again"})
    dv.delete(f"accounts({deleted.pk})")
    made = dv.post("accounts", {"name": "Made"}, headers={"Prefer": "return=representation"}).json_body
    rows, next_delta = _all_pages(dv, dv.get(delta_link.replace("http://testserver", ""), headers=headers), headers)
    changes = {r["accountid"]: r["name"] for r in rows if "name" in r}
    assert changes == {str(changed.pk): "Changed again", made["accountid"]: "Made"}
    removed = [r for r in rows if "$deletedEntity" in r.get("@odata.context", "")]
    assert [r["id"] for r in removed] == [str(deleted.pk)] and removed[0]["reason"] == "deleted"
    assert str(kept.pk) not in changes
    quiet = dv.get(next_delta.replace("http://testserver", ""))
    assert quiet.json_body["value"] == [] and "@odata.deltaLink" in quiet.json_body


def test_a_delta_token_past_retention_is_refused(dv, settings):
    settings.DATAVERSE_CHANGE_TRACKING_RETENTION_DAYS = 7
    old = timezone.now() - datetime.timedelta(days=8)
    response = dv.get(f"accounts?$deltatoken={int(old.timestamp() * 1_000_000)}")
    assert response.status_code == 400 and response.json_body["error"]["code"] == "0x80044352"
    assert "full sync" in response.json_body["error"]["message"]
    assert dv.get("accounts?$deltatoken=rubbish").status_code == 400


def test_change_tracking_refuses_filter_as_dataverse_does(dv):
    response = dv.get("accounts?$filter=name eq 'a'", headers={"Prefer": "odata.track-changes"})
    assert response.status_code == 400 and "$filter" in response.json_body["error"]["message"]


def test_bulk_writes_validate_what_they_are_given_and_stamp_every_row(dv):
    """The bulk messages validate only what a row is given (of a stored row, what changes), yet a new row without
    its required name, or with an alternate key too long for its column, is refused, naming the column; and a row
    upserted with the values it already holds is written all the same (modifiedon moves, as in Dataverse)."""
    bulk = "accounts/Microsoft.Dynamics.CRM.UpsertMultiple"
    nameless = dv.post(bulk, {"Targets": [{"@odata.type": "Microsoft.Dynamics.CRM.account", "telephone1": "1"}]})
    assert nameless.status_code == 400 and "name" in nameless.json_body["error"]["message"]
    long_key = dv.post(bulk, {"Targets": [{"@odata.type": "Microsoft.Dynamics.CRM.account", "name": "Long",
                                           "@odata.id": f"accounts(accountnumber='{'K' * 300}')"}]})
    assert long_key.status_code == 400 and "account_number" in long_key.json_body["error"]["message"]
    assert not Account.objects.filter(name="Long").exists()

    row = {"@odata.type": "Microsoft.Dynamics.CRM.account", "@odata.id": "accounts(accountnumber='S-1')",
           "name": "Same", "telephone1": "555"}
    assert dv.post(bulk, {"Targets": [row]}).status_code == 200
    before = Account.objects.get(account_number="S-1").modifiedon
    again = dv.post(bulk, {"Targets": [row]})
    assert again.status_code == 200 and again.json_body["Results"][0]["RecordCreated"] is False
    account = Account.objects.get(account_number="S-1")
    assert account.modifiedon > before and (account.name, account.telephone1) == ("Same", "555")


def test_a_decimal_written_as_a_json_number_is_kept_as_written(dv):
    """10.61 into a column of 10 decimal places (a currency's exchange rate), 1234.56 into one of 4 (a credit
    limit): a JSON number read as a float is not refused for its binary expansion's 40 decimal places."""
    from decimal import Decimal

    from crm.models import TransactionCurrency

    response = dv.post("transactioncurrencies", {"isocurrencycode": "NOK", "currencyname": "Norwegian Krone",
                                                 "currencysymbol": "kr", "exchangerate": 10.61})
    assert response.status_code == 204, response.content
    assert TransactionCurrency.objects.get(iso_currency_code="NOK").exchange_rate == Decimal("10.61")
    response = dv.post("accounts", {"name": "Contoso", "creditlimit": 1234.56})
    assert response.status_code == 204, response.content
    assert Account.objects.get(name="Contoso").credit_limit == Decimal("1234.56")


@pytest.mark.parametrize("access_mode", ["read_write", "integration"])
def test_the_lines_of_a_price_list_the_integration_keeps_are_written_by_the_integration_user_alone(
        dv, admin_user, access_mode):
    """A person's change to a kept price list's line is refused (403, as in the admin); the integration's own
    application user, reaching Sales over the Web API, keeps them."""
    from crm.models import PriceLevel, Product, ProductPriceLevel

    kept = PriceLevel.objects.create(name="ERP prices", is_integration_managed=True)
    line = ProductPriceLevel.objects.create(price_level=kept, product=Product.objects.create(
        product_number="1001", name="Chair"), amount=10)
    from crm.users import systemuser_for_user

    SystemUser.objects.filter(pk=systemuser_for_user(user=admin_user).pk).update(access_mode=access_mode)
    response = dv.patch(f"productpricelevels({line.pk})", {"amount": 12.5}, headers={"If-Match": "*"})
    line.refresh_from_db()
    if access_mode == "integration":
        assert response.status_code == 204, response.content
        assert line.amount == 12.5
    else:
        assert response.status_code == 403 and "kept by the ERP integration" in response.json_body["error"]["message"]
        assert line.amount == 10
