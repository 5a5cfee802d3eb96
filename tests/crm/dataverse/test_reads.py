"""Reads of the Dataverse Web API: names, query options, paging, metadata."""

import uuid

import pytest

from crm.models import Account, Contact

pytestmark = pytest.mark.django_db


def test_accounts_read_with_dataverse_names_lookups_and_etag(dv):
    contact = Contact.objects.create(last_name="Lee", first_name="Ann")
    account = Account.objects.create(name="Contoso", telephone1="555", address1_city="Lund",
                                     primary_contact=contact, state_code="inactive", customer_type_code="customer")
    response = dv.get("accounts?$select=name,accountnumber,telephone1,address1_city,_primarycontactid_value,"
                      "statecode,customertypecode,modifiedon")
    assert response.status_code == 200, response.content
    (row,) = response.json_body["value"]
    assert row["accountid"] == str(account.pk)
    assert row["name"] == "Contoso" and row["accountnumber"] == account.account_number
    assert row["_primarycontactid_value"] == str(contact.pk)
    assert row["statecode"] == 1 and row["customertypecode"] == 3  # inactive; customer: the third choice
    assert row["@odata.etag"].startswith('W/"')
    assert response.json_body["@odata.context"].endswith("$metadata#accounts")


def test_filter_orderby_top_count_expand(dv):
    contact = Contact.objects.create(last_name="Lee")
    for name in ("Alpha", "Beta", "Gamma", "Delta"):
        Account.objects.create(name=name, primary_contact=contact if name == "Beta" else None)
    response = dv.get("accounts?$filter=(startswith(name,'B') or contains(name,'mm')) and statecode eq 0"
                      "&$orderby=name desc&$count=true&$select=name"
                      "&$expand=primarycontactid($select=lastname)")
    assert response.status_code == 200, response.content
    assert [r["name"] for r in response.json_body["value"]] == ["Gamma", "Beta"]
    assert response.json_body["@odata.count"] == 2
    assert response.json_body["value"][1]["primarycontactid"]["lastname"] == "Lee"
    assert response.json_body["value"][0]["primarycontactid"] is None
    response = dv.get("accounts?$filter=name in ('Alpha','Delta') and not endswith(name,'a')&$top=1")
    assert response.json_body["value"] == []
    response = dv.get("accounts?$orderby=name&$top=3&$select=name")
    assert [r["name"] for r in response.json_body["value"]] == ["Alpha", "Beta", "Delta"]


def test_maxpagesize_pages_with_next_link_and_preference_applied(dv):
    names = {f"A{i:03}" for i in range(25)}
    Account.objects.bulk_create([Account(name=n) for n in names])
    response = dv.get("accounts?$select=name", headers={"Prefer": "odata.maxpagesize=10"})
    assert response["Preference-Applied"] == "odata.maxpagesize=10"
    seen, pages = [], 0
    while True:
        pages += 1
        seen += [r["name"] for r in response.json_body["value"]]
        link = response.json_body.get("@odata.nextLink")
        if not link:
            break
        response = dv.get(link.replace("http://testserver", ""), headers={"Prefer": "odata.maxpagesize=10"})
    assert pages == 3 and sorted(seen) == sorted(names)


def test_one_row_by_key_and_alternate_key(dv):
    account = Account.objects.create(name="Contoso", account_number="A-1")
    response = dv.get(f"accounts({account.pk})?$select=name")
    assert response.status_code == 200 and response.json_body["name"] == "Contoso"
    assert response["ETag"] == response.json_body["@odata.etag"]
    assert dv.get("accounts(accountnumber='A-1')").json_body["accountid"] == str(account.pk)
    missing = dv.get(f"accounts({uuid.uuid4()})")
    assert missing.status_code == 404 and missing.json_body["error"]["code"] == "0x80040217"


def test_who_am_i_entity_definitions_and_metadata(dv, admin_user):
    who = dv.get("WhoAmI")
    assert who.status_code == 200 and uuid.UUID(who.json_body["UserId"])
    assert {"BusinessUnitId", "OrganizationId"} <= who.json_body.keys()
    definitions = dv.get("EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute"
                         "&$filter=LogicalName eq 'account'")
    (account,) = definitions.json_body["value"]
    assert account["EntitySetName"] == "accounts" and account["PrimaryIdAttribute"] == "accountid"
    full = dv.get("EntityDefinitions(LogicalName='account')?$expand=Attributes,Keys").json_body
    assert full["PrimaryNameAttribute"] == "name"
    assert {"name", "accountnumber", "primarycontactid"} <= {a["LogicalName"] for a in full["Attributes"]}
    assert full["Keys"][0]["KeyAttributes"] == ["accountnumber"]
    every = {row["EntitySetName"] for row in dv.get("EntityDefinitions").json_body["value"]}
    assert {"accounts", "contacts", "systemusers", "transactioncurrencies", "uomschedules", "uoms", "pricelevels",
            "products", "productpricelevels", "opportunities", "quotes", "quotedetails", "salesorders",
            "salesorderdetails", "invoices", "invoicedetails"} == every
    csdl = dv.get("$metadata")
    assert csdl.status_code == 200 and b'<EntitySet Name="accounts"' in csdl.content


def test_unknown_entity_set_column_and_bad_filter_are_dataverse_errors(dv):
    response = dv.get("Account")
    assert response.status_code == 404 and response.json_body["error"]["code"] == "0x8006088a"
    response = dv.get("accounts?$select=Name")
    assert response.status_code == 400 and "Could not find a property named 'Name'" in \
        response.json_body["error"]["message"]
    for bad in ("name eq", "name eq 'x' and (", "nosuch eq 1", "statecode eq 'x'", "statecode eq 9",
                "name eq 'a\x00'", "x" * 9000, "(" * 50 + "name eq 'a'" + ")" * 50,
                " or ".join(["name eq 'a'"] * 600)):
        response = dv.get(f"accounts?$filter={bad}")
        assert response.status_code == 400, (bad[:40], response.content[:300])
        assert response.json_body["error"]["code"].startswith("0x"), bad[:40]


def test_lookup_tables_annotated_when_asked(dv):
    account = Account.objects.create(name="Contoso")
    by_account = Contact.objects.create(last_name="Lee", parent_account=account)
    by_contact = Contact.objects.create(last_name="Kim", parent_contact=by_account)
    prefer = {"Prefer": 'odata.include-annotations="OData.Community.Display.V1.FormattedValue,'
                        'Microsoft.Dynamics.CRM.lookuplogicalname",odata.maxpagesize=10'}
    response = dv.get("contacts?$select=lastname,_parentcustomerid_value", headers=prefer)
    assert "odata.include-annotations" in response["Preference-Applied"]
    rows = {r["lastname"]: r for r in response.json_body["value"]}
    annotation = "_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"
    assert rows["Lee"]["_parentcustomerid_value"] == str(account.pk) and rows["Lee"][annotation] == "account"
    assert rows["Kim"]["_parentcustomerid_value"] == str(by_account.pk) and rows["Kim"][annotation] == "contact"
    plain = dv.get(f"contacts({by_contact.pk})?$select=_parentcustomerid_value").json_body
    assert annotation not in plain


# GUIDs each with one byte set, as SQL Server sorts them (System.Data.SqlTypes.SqlGuid's comparison, which SQL Server's
# uniqueidentifier follows): the first group decides last, read from its end; the last group first, from its start.
SQL_SERVER_ASCENDING = [
    "01000000-0000-0000-0000-000000000000", "00010000-0000-0000-0000-000000000000",
    "00000100-0000-0000-0000-000000000000", "00000001-0000-0000-0000-000000000000",
    "00000000-0100-0000-0000-000000000000", "00000000-0001-0000-0000-000000000000",
    "00000000-0000-0100-0000-000000000000", "00000000-0000-0001-0000-000000000000",
    "00000000-0000-0000-0001-000000000000", "00000000-0000-0000-0100-000000000000",
    "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000100",
    "00000000-0000-0000-0000-000000010000", "00000000-0000-0000-0000-000001000000",
    "00000000-0000-0000-0000-000100000000", "00000000-0000-0000-0000-010000000000",
]


def test_guids_sort_in_sql_servers_order_not_pythons():
    from crm.dataverse.guids import guid_order

    guids = [uuid.UUID(text) for text in SQL_SERVER_ASCENDING]
    assert sorted(sorted(guids), key=guid_order) == guids  # from Python's order, which is another:
    assert sorted(guids) != guids
    assert guid_order("00000000-0000-0000-0000-000000000001") > guid_order("ffffffff-ffff-ffff-ff00-000000000000")


def test_greater_and_less_than_a_guid_and_orderby_follow_sql_servers_order(dv):
    """Dataverse compares GUIDs as SQL Server orders them: here the reverse of their order as written."""
    # As written (Python, PostgreSQL): first < middle < last; in SQL Server: last < middle < first.
    first, middle, last = (uuid.UUID(text) for text in ("00000000-0000-0000-0000-000000000002",
                                                        "11111111-0000-0000-0000-000000000001",
                                                        "ffffffff-0000-0000-0000-000000000000"))
    contact = Contact.objects.create(pk=middle, last_name="Lee")
    for pk, name in ((first, "First"), (middle, "Middle"), (last, "Last")):
        Account.objects.create(pk=pk, name=name, primary_contact=contact if pk == first else None)

    def names(query):
        response = dv.get(f"accounts?$select=name&{query}")
        assert response.status_code == 200, response.content
        return [row["name"] for row in response.json_body["value"]]

    assert names(f"$filter=accountid gt {middle}") == ["First"]
    assert names(f"$filter=accountid lt {middle}") == ["Last"]
    assert sorted(names(f"$filter=accountid ge {middle}")) == ["First", "Middle"]
    assert sorted(names(f"$filter=accountid le {middle}")) == ["Last", "Middle"]
    assert names(f"$filter=accountid gt {last} and accountid lt {first}") == ["Middle"]
    assert names("$orderby=accountid") == ["Last", "Middle", "First"]
    assert names("$orderby=accountid desc") == ["First", "Middle", "Last"]
    # A lookup's value too; a row without one is neither greater nor less
    assert names(f"$filter=_primarycontactid_value lt {first}") == ["First"]
    assert names(f"$filter=_primarycontactid_value gt {first}") == []
