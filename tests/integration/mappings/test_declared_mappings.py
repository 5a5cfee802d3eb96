"""A mapping is one declared unit (integration/mappings/): a new one is one file and one registration, and it then
appears in the assisted set-up, the full synchronisation review, the API and the configuration file, and runs with
its rules. The code follows a mapping's key, not the name an administrator may change."""

import importlib.util
import json

import pytest
from django.contrib.auth.models import User

from crm.models import Account, SystemUser
from erp.models import Vendor
from integration.configuration import configuration_export, configuration_import
from integration.engine.sync import mapping_synchronize
from integration.full_sync.review import full_sync_review_lines
from integration.mappings import definition_for, register, unregister
from integration.models import FullSyncLine, IntegrationTableMapping
from tests.integration.helpers import walk

pytestmark = pytest.mark.django_db

TABLE_MAPPINGS = "/api/integration/table-mappings/"

# The whole of a new mapping: ERP vendors become Sales accounts of relationship type *supplier*.
VENDOR_MODULE = '''
"""VENDOR: ERP vendors → Sales supplier accounts."""

from integration.mappings import TO, Field, MappingDefinition
from integration.models import FullSyncLine
from integration.rules.base import Rules


class VendorRules(Rules):
    def transfer(self, source, destination, values, *, plan, context):
        values["description"] = f"Supplier {source.no} in the ERP"


class VendorMapping(MappingDefinition):
    key = "vendor"
    name = "VENDOR"
    erp, crm, direction = "erp.Vendor", "crm.Account", TO
    crm_filter = {"customer_type_code": "supplier"}
    sync_only_coupled = False
    depends = ("salesperson",)
    rules = VendorRules
    fields = (
        Field("", "customer_type_code", TO, constant="supplier"),
        Field("no", "account_number", TO, match=1),
        Field("name", "name", TO),
    )

    def review_recommendation(self, mapping, found):
        return FullSyncLine.Recommendation.FULL  # vendors are never matched with what Sales holds
'''


@pytest.fixture
def vendor_mapping(tmp_path):
    """The VENDOR mapping, written in a module of its own and registered; unregistered afterwards."""
    path = tmp_path / "vendor.py"
    path.write_text(VENDOR_MODULE)
    spec = importlib.util.spec_from_file_location("p2c_test_vendor_mapping", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    register(module.VendorMapping)
    yield definition_for("vendor")
    unregister("vendor")


def test_a_registered_mapping_is_set_up_by_the_wizard_and_reviewed_by_its_key(vendor_mapping, client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    walk(client, SystemUser.objects.create(fullname="Integration", access_mode="integration"), full_sync=False)
    vendor = IntegrationTableMapping.objects.get(name="VENDOR")
    assert (vendor.definition_key, vendor.erp_model, vendor.crm_model) == ("vendor", "erp.Vendor", "crm.Account")
    assert list(vendor.dependencies.values_list("name", flat=True)) == ["SALESPEOPLE"]
    assert {(fm.erp_field, fm.crm_field) for fm in vendor.field_mappings.all()} == {
        ("", "customer_type_code"), ("no", "account_number"), ("name", "name")}
    # Records on both sides: the generic recommendation would be to couple them; the mapping's own says otherwise,
    # and still does once an administrator renamed it.
    Vendor.objects.create(no="V0001", name="Acme Supplies")
    Account.objects.create(name="Other Supplier", customer_type_code="supplier")
    full = FullSyncLine.Recommendation.FULL
    assert {line.name: line.recommendation for line in full_sync_review_lines()}["VENDOR"] == full
    IntegrationTableMapping.objects.filter(pk=vendor.pk).update(name="LEVERANTÖRER")
    assert {line.name: line.recommendation for line in full_sync_review_lines()}["LEVERANTÖRER"] == full


def test_a_registered_mapping_runs_with_its_rules(vendor_mapping, mappings):
    Vendor.objects.create(no="V0001", name="Acme Supplies")
    mapping_synchronize(mapping=mappings["VENDOR"], full=True)
    account = Account.objects.get(account_number="V0001")
    assert (account.name, account.customer_type_code, account.description) == (
        "Acme Supplies", "supplier", "Supplier V0001 in the ERP")


def test_a_registered_mapping_is_in_the_api_and_the_configuration_file(vendor_mapping, mappings, api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    definition_key = schema["components"]["schemas"]["TableMapping"]["properties"]["definition_key"]
    assert "vendor" in json.dumps([definition_key, schema["components"]["schemas"]])
    listed = {row["name"]: row for row in api.get(TABLE_MAPPINGS, {"page_size": 100}).json()["results"]}
    assert listed["VENDOR"]["definition_key"] == "vendor"

    exported = json.loads(configuration_export())
    assert {m["name"]: m["definition_key"] for m in exported["mappings"]}["VENDOR"] == "vendor"
    mappings["VENDOR"].delete()
    outcome = configuration_import(data=exported)
    assert IntegrationTableMapping.objects.get(name="VENDOR").definition_key == "vendor"
    assert outcome.changes


def test_a_configuration_file_naming_rules_modules_is_still_imported(mappings):
    """Files written before mappings named their definition by key said ``rules_module`` (the same names), and
    nothing for the default mappings without rules: importing one changes nothing."""
    exported = json.loads(configuration_export())
    for mapping in exported["mappings"]:
        key = mapping.pop("definition_key")
        mapping["rules_module"] = "" if key in ("payment_terms", "customer_price_group") else key
    outcome = configuration_import(data=exported, dry_run=True)
    assert not outcome.changes
    assert IntegrationTableMapping.objects.get(name="PAYMENT TERMS").definition_key == "payment_terms"
