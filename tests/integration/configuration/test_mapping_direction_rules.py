"""docs/features.md I2, I3 (BC tables 5335/5336): the directions of a table mapping and its field mappings agree,
refused at save the same way from the admin (the mapping form with its field-mapping inline), the API and
integration_setup.

- an option mapping and its field mappings go one way only, and its field mappings follow its direction (so does
  its full synchronisation review line);
- every direction a table mapping runs is served by at least one enabled field mapping."""

from dataclasses import replace

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from integration.full_sync.review import full_sync_status
from integration.mappings.customer import CustomerMapping
from integration.models import Direction, IntegrationFieldMapping, IntegrationTableMapping
from tests.admin_helpers import admin_form_data

pytestmark = pytest.mark.django_db


ONE_WAY = "Option mappings can only synchronize from integration table or to integration table."
TO, FROM, BI = Direction.TO_INTEGRATION, Direction.FROM_INTEGRATION, Direction.BIDIRECTIONAL


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


@pytest.fixture
def payment_terms(mappings):
    """The PAYMENT TERMS option mapping (ERP → Sales) with one field mapping."""
    mapping = mappings["PAYMENT TERMS"]
    field = IntegrationFieldMapping(table_mapping=mapping, erp_field="code", crm_field="", constant_value="X",
                                    direction=TO)
    field.full_clean()
    field.save()
    return mapping


def served_only(mapping, direction):
    """Every field mapping of ``mapping`` goes ``direction``."""
    mapping.field_mappings.update(direction=direction)


# -- API ------------------------------------------------------------------------------------------------------------
def test_api_option_mapping_and_its_field_mappings_go_one_way(api, payment_terms):
    response = api.patch(f"/api/integration/table-mappings/{payment_terms.pk}/", {"direction": BI}, format="json")
    assert response.status_code == 400 and ONE_WAY in str(response.data["direction"])
    field = payment_terms.field_mappings.get()
    response = api.patch(f"/api/integration/field-mappings/{field.pk}/", {"direction": BI}, format="json")
    assert response.status_code == 400 and ONE_WAY in str(response.data["direction"])
    assert field.direction == TO


def test_api_option_mapping_direction_carries_to_its_field_mappings_and_review_line(api, payment_terms):
    response = api.patch(f"/api/integration/table-mappings/{payment_terms.pk}/", {"direction": FROM}, format="json")
    assert response.status_code == 200, response.data
    assert set(payment_terms.field_mappings.values_list("direction", flat=True)) == {FROM}
    line = next(line for line in full_sync_status()["lines"] if line["name"] == "PAYMENT TERMS")
    assert line["direction"] == FROM
    # And the other way round, as BC: a field mapping's one-way direction becomes the mapping's.
    field = payment_terms.field_mappings.get()
    response = api.patch(f"/api/integration/field-mappings/{field.pk}/", {"direction": TO}, format="json")
    assert response.status_code == 200
    payment_terms.refresh_from_db()
    assert payment_terms.direction == TO


def test_api_direction_must_be_served_by_an_enabled_field_mapping(api, mappings):
    customer = mappings["CUSTOMER"]
    url = f"/api/integration/table-mappings/{customer.pk}/"
    served_only(customer, TO)
    response = api.patch(url, {"direction": FROM}, format="json")
    assert response.status_code == 400
    assert "at least one enabled integration field mapping to 'FromIntegrationTable'" in str(response.data)
    response = api.patch(url, {"direction": BI}, format="json")  # bidirectional needs both
    assert response.status_code == 400 and "'FromIntegrationTable'" in str(response.data)
    assert api.patch(url, {"direction": TO}, format="json").status_code == 200
    # A disabled field mapping serves nothing.
    field = customer.field_mappings.filter(crm_field="name").get()
    IntegrationFieldMapping.objects.filter(pk=field.pk).update(direction=FROM, status="disabled")
    assert api.patch(url, {"direction": BI}, format="json").status_code == 400
    IntegrationFieldMapping.objects.filter(pk=field.pk).update(status="enabled")
    assert api.patch(url, {"direction": BI}, format="json").status_code == 200


# -- admin ----------------------------------------------------------------------------------------------------------
def _inline_rows(data, prefix="field_mappings"):
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    return [f"{prefix}-{i}" for i in range(total)]


def test_admin_validates_the_mapping_with_its_field_mapping_inline(admin_client, mappings):
    customer = mappings["CUSTOMER"]
    served_only(customer, TO)
    url = f"/admin/integration/integrationtablemapping/{customer.pk}/change/"
    data = admin_form_data(admin_client.get(url))
    data["direction"] = FROM
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "at least one enabled integration field mapping to &#x27;FromIntegrationTable&#x27;" in \
        response.content.decode()
    customer.refresh_from_db()
    assert customer.direction == BI

    # The same save with one field mapping turned Sales → ERP goes through: the pair is checked together.
    row = next(r for r in _inline_rows(data) if data[f"{r}-crm_field"] == "name")
    data[f"{row}-direction"] = FROM
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.non_form_errors()
    customer.refresh_from_db()
    assert customer.direction == FROM


def test_admin_option_mapping_inline_refuses_bidirectional_and_follows_the_mapping(admin_client, payment_terms):
    url = f"/admin/integration/integrationtablemapping/{payment_terms.pk}/change/"
    data = admin_form_data(admin_client.get(url))
    row = _inline_rows(data)[0]
    data[f"{row}-direction"] = BI
    response = admin_client.post(url, data)
    assert response.status_code == 200 and ONE_WAY in response.content.decode()
    assert payment_terms.field_mappings.get().direction == TO

    data[f"{row}-direction"] = TO
    data["direction"] = FROM
    response = admin_client.post(url, data)
    assert response.status_code == 302
    assert payment_terms.field_mappings.get().direction == FROM


# -- integration_setup ----------------------------------------------------------------------------------------------
def test_integration_setup_defaults_pass_the_rules(mappings, capsys):
    call_command("integration_setup", "--reset")
    assert "table mappings" in capsys.readouterr().out
    for mapping in IntegrationTableMapping.objects.all():
        mapping.full_clean()


def test_integration_setup_refuses_a_default_whose_direction_no_field_serves(mappings, monkeypatch):
    monkeypatch.setattr(CustomerMapping, "fields",
                        tuple(replace(field, direction=Direction.TO_INTEGRATION) for field in CustomerMapping.fields))
    with pytest.raises(CommandError, match="'FromIntegrationTable'"):
        call_command("integration_setup", "CUSTOMER", "--reset")
    assert IntegrationTableMapping.objects.get(name="CUSTOMER").field_mappings.filter(direction=BI).exists()
