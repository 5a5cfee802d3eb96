"""The configuration stays inside the integration's tables (docs/decisions.md#bounded-and-total-doors): a table mapping
names only the tables the Sales and ERP apps declare synchronisable, a field mapping only their concrete, non-secret
fields, a declared mapping only one that is registered, and parent chains never loop; the same from the API, the
admin and ``integration_setup``."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from integration.models import IntegrationTableMapping
from tests.admin_helpers import admin_form_data, admin_url

TABLE_MAPPINGS = "/api/integration/table-mappings/"


@pytest.fixture
def superuser_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.mark.parametrize("field, label", [("erp_model", "auth.User"), ("erp_model", "erp.NoSeries"),
                                          ("crm_model", "crm.NumberSequence"), ("crm_model", "erp.Customer")])
def test_api_refuses_a_table_no_app_declares_synchronisable(api, db, field, label):
    body = {"name": "OUTSIDE", "erp_model": "erp.Customer", "crm_model": "crm.Account", field: label}
    response = api.post(TABLE_MAPPINGS, body, format="json")
    assert response.status_code == 400, response.content
    assert label in response.json()[field][0]
    assert not IntegrationTableMapping.objects.filter(name="OUTSIDE").exists()


def test_api_refuses_secret_fields_and_references_outside_the_tables(api, mappings):
    salespeople, customer = mappings["SALESPEOPLE"], mappings["CUSTOMER"]
    url = "/api/integration/field-mappings/"
    secret = api.post(url, {"table_mapping": salespeople.pk, "erp_field": "name", "crm_field": "user"}, format="json")
    assert secret.status_code == 400
    assert secret.json()["crm_field"] == ["crm.SystemUser.user is kept out of the integration by its app."]
    outside = api.post(url, {"table_mapping": customer.pk, "erp_field": "no_series", "crm_field": "name"},
                       format="json")
    assert outside.status_code == 400
    assert "erp.NoSeries, which is not a table the integration synchronises" in outside.json()["erp_field"][0]
    assert not salespeople.field_mappings.filter(crm_field="user").exists()


def test_definition_key_is_one_that_is_declared(api, mappings):
    mapping = mappings["CUSTOMER"]
    for name in ("nosuch", "base", "fo_base", "../settings", "integration.rules.customer"):
        response = api.patch(f"{TABLE_MAPPINGS}{mapping.pk}/", {"definition_key": name}, format="json")
        assert response.status_code == 400, name
        assert "definition_key" in response.json()
    mapping.refresh_from_db()
    assert mapping.definition_key == "customer"
    assert api.patch(f"{TABLE_MAPPINGS}{mapping.pk}/", {"definition_key": ""}, format="json").status_code == 200
    assert api.patch(f"{TABLE_MAPPINGS}{mapping.pk}/", {"definition_key": "customer"}, format="json").status_code == 200


def test_schema_lists_the_choices(api, db):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    properties = schema["components"]["schemas"]["TableMapping"]["properties"]
    enums = {name: _enum(schema, properties[name]) for name in ("erp_model", "crm_model", "definition_key")}
    assert "erp.Customer" in enums["erp_model"] and "auth.User" not in enums["erp_model"]
    assert "crm.Account" in enums["crm_model"] and "crm.NumberSequence" not in enums["crm_model"]
    assert {"customer", "contact", "payment_terms"} <= set(enums["definition_key"])
    assert "base" not in enums["definition_key"]


def _enum(schema, prop):
    for option in [prop, *prop.get("oneOf", []), *prop.get("allOf", []), *prop.get("anyOf", [])]:
        if "$ref" in option:
            option = schema["components"]["schemas"][option["$ref"].rsplit("/", 1)[1]]
        if "enum" in option:
            return [value for value in option["enum"] if value]
    raise AssertionError(f"no enum in {prop}")


def test_parent_chains_that_loop_are_refused(api, mappings):
    invoice, line = mappings["POSTEDSALESINV-INV"], mappings["POSTEDSALESLINE-INV"]
    assert line.parent_id == invoice.pk
    response = api.patch(f"{TABLE_MAPPINGS}{invoice.pk}/", {"parent": line.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["parent"] == ["Parent mappings would loop: POSTEDSALESINV-INV → POSTEDSALESLINE-INV → "
                                         "POSTEDSALESINV-INV."]
    customer = mappings["CUSTOMER"]
    api.patch(f"{TABLE_MAPPINGS}{customer.pk}/", {"parent": invoice.pk}, format="json")
    response = api.patch(f"{TABLE_MAPPINGS}{invoice.pk}/", {"parent": customer.pk}, format="json")
    assert response.status_code == 400 and "loop" in response.json()["parent"][0]
    invoice.refresh_from_db()
    assert invoice.parent_id is None


def test_admin_offers_the_choices_and_refuses_a_loop(superuser_client, mappings):
    invoice, line = mappings["POSTEDSALESINV-INV"], mappings["POSTEDSALESLINE-INV"]
    url = admin_url(IntegrationTableMapping, "change", invoice.pk)
    page = superuser_client.get(url)
    form = page.context["adminform"].form
    assert "erp.Customer" in dict(form.fields["erp_model"].choices)
    assert "auth.User" not in dict(form.fields["erp_model"].choices)
    assert "customer" in dict(form.fields["definition_key"].choices)
    data = admin_form_data(page)
    response = superuser_client.post(url, {**data, "parent": str(line.pk)})
    assert response.status_code == 200 and "Parent mappings would loop" in response.content.decode()
    response = superuser_client.post(url, {**data, "erp_model": "auth.User", "definition_key": "nosuch"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Select a valid choice. auth.User is not one of the available choices." in page
    assert "Select a valid choice. nosuch is not one of the available choices." in page
    invoice.refresh_from_db()
    assert (invoice.erp_model, invoice.parent_id, invoice.definition_key) == ("erp.SalesInvoiceHeader", None,
                                                                            "posted_invoice")


def test_integration_setup_refuses_a_reset_that_would_loop(mappings):
    invoice, line = mappings["POSTEDSALESINV-INV"], mappings["POSTEDSALESLINE-INV"]
    line.parent = None
    line.full_clean()
    line.save()
    invoice.parent = line
    invoice.full_clean()
    invoice.save()
    line.field_mappings.all().delete()
    with pytest.raises(CommandError, match="Nothing was changed: Parent mappings would loop"):
        call_command("integration_setup", "POSTEDSALESLINE-INV", "--reset")
    line.refresh_from_db()
    assert line.parent_id is None and not line.field_mappings.exists()



@pytest.mark.parametrize("name, text", [
    ("deep.json", "[" * 10_000 + "]" * 10_000),
    ("deep-objects.json", '{"a":' * 10_000 + "1" + "}" * 10_000),
    ("deep.yaml", "[" * 10_000 + "]" * 10_000),
    ("deep-blocks.yaml", "".join("  " * i + "a:\n" for i in range(1_000))),
    ("deep-25.json", '{"mappings": ' + "[" * 25 + "]" * 25 + "}"),
])
def test_import_refuses_a_file_nested_too_deep_with_a_clear_error(db, tmp_path, name, text):
    """A file nested 10,000 deep ended in a RecursionError traceback: it is refused, naming why, changing nothing."""
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(CommandError) as refused:
        call_command("integration_import", str(path), stdout=StringIO(), stderr=(err := StringIO()))
    assert "nothing was changed" in str(refused.value)
    assert "more than 20 levels deep" in err.getvalue()


@pytest.mark.parametrize("depth", [25, 10_000])
def test_api_import_refuses_a_configuration_nested_too_deep(api, db, depth):
    body = '{"dry_run": true, "configuration": {"mappings": ' + "[" * depth + "]" * depth + "}}"
    response = api.post("/api/integration/configuration/import/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "levels deep" in response.content.decode()


def test_the_api_still_takes_the_former_rules_module(api, mappings):
    mapping = mappings["CURRENCY"]
    assert api.get(f"{TABLE_MAPPINGS}{mapping.pk}/").json()["rules_module"] == "currency"
    assert api.patch(f"{TABLE_MAPPINGS}{mapping.pk}/", {"rules_module": "nosuch"}, format="json").status_code == 400
    assert api.patch(f"{TABLE_MAPPINGS}{mapping.pk}/", {"rules_module": ""}, format="json").status_code == 200
    mapping.refresh_from_db()
    assert mapping.definition_key == ""
