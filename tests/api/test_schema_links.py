"""The schema's OpenAPI links, followed as a client (or schemathesis' stateful phase) follows them: from a create to
the record it made, to its actions, and to the create of a record that refers to it."""

import re

import pytest

pytestmark = pytest.mark.django_db


def operations(schema):
    """operationId -> (method, path)."""
    return {operation["operationId"]: (method, path) for path, methods in schema["paths"].items()
            for method, operation in methods.items() if isinstance(operation, dict) and "operationId" in operation}


def value(expression, answer):
    """A link's ``$response.body#/name`` read from the answer."""
    return answer[re.fullmatch(r"\$response\.body#/(\w+)", expression).group(1)]


def follow(api, schema, answer, link, body=None):
    method, path = operations(schema)[link["operationId"]]
    for name, expression in link.get("parameters", {}).items():
        path = path.replace("{" + name + "}", str(value(expression, answer)))
    body = {**(body or {}), **{name: value(expr, answer) for name, expr in link.get("requestBody", {}).items()}}
    return getattr(api, method)(path, body, format="json")


def links(schema, path):
    return schema["paths"][path]["post"]["responses"]["201"]["links"]


def test_a_value_map_leads_to_its_entries_and_each_entry_to_itself(api, schema):
    value_map = api.post("/api/integration/value-maps/", {"name": "TERMS"}, format="json").json()
    entry = follow(api, schema, value_map, links(schema, "/api/integration/value-maps/")[
        "CreateIntegrationValueMapEntriesWithValueMap"], {"erp_value": "30D", "crm_value": "net30"})
    assert entry.status_code == 201 and entry.json()["value_map"] == value_map["id"], entry.content
    entry_links = links(schema, "/api/integration/value-map-entries/")
    assert follow(api, schema, entry.json(), entry_links["GetRecord"]).json()["erp_value"] == "30D"
    assert follow(api, schema, entry.json(), entry_links["UpdateRecord"], {"crm_value": "n30"}).status_code == 200
    assert follow(api, schema, entry.json(), entry_links["DeleteRecord"]).status_code == 204
    assert follow(api, schema, entry.json(), entry_links["GetRecord"]).status_code == 404


def test_a_created_record_leads_to_its_actions_and_to_the_records_that_refer_to_it(api, schema):
    customer_links = links(schema, "/api/erp/customers/")
    assert {"GetRecord", "ReplaceRecord", "UpdateRecord", "DeleteRecord", "SynchronizeRecord", "CoupleRecord",
            "CreateContactRecord", "CreateErpSalesHeadersWithSellToCustomer"} <= set(customer_links)
    customer = api.post("/api/erp/customers/", {"no": "C1", "name": "Cust"}, format="json").json()
    # the connection is not enabled: the action is reached, and refused by that state
    synchronize = follow(api, schema, customer, customer_links["SynchronizeRecord"])
    assert synchronize.status_code == 409 and synchronize.json()["code"] == "connection_disabled"
    account = api.post("/api/crm/accounts/", {"name": "Parent"}, format="json").json()
    contact = follow(api, schema, account, links(schema, "/api/crm/accounts/")["CreateCrmContactsWithParentAccount"],
                     {"last_name": "Lee"})
    assert contact.status_code == 201 and contact.json()["parent_account"] == account["id"], contact.content
