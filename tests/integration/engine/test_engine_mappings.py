"""Mappings as data: validation of filters and field pairs, dependency cycles, the defaults, value maps."""

import string

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.models import Account
from erp.models import Customer
from integration.catalogue.validation import dependencies_validate
from integration.defaults import default_mapping_names, integration_setup_reset
from integration.engine.filters import LOOKUPS, filter_validate
from integration.mapping_order import mappings_in_dependency_order
from integration.models import Coupling, IntegrationFieldMapping, IntegrationTableMapping, ValueMap, ValueMapEntry

pytestmark = pytest.mark.django_db


def test_filter_turns_lookups_into_a_query():
    Account.objects.create(name="Active customer", customer_type_code="customer")
    Account.objects.create(name="Inactive", customer_type_code="customer", state_code="inactive")
    Account.objects.create(name="Prospect", customer_type_code="prospect")
    q = filter_validate(Account, {"customer_type_code": "customer", "~state_code": "inactive"})
    assert list(Account.objects.filter(q).values_list("name", flat=True)) == ["Active customer"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"colour": "red"}, "crm.Account has no field 'colour'"),
        ({"name__regex": ".*"}, "Unsupported lookup 'regex'"),
        ({"owner__nope": 1}, "crm.SystemUser has no field 'nope'"),
        ({"name__in": "x"}, "needs a list"),
        ({"parent_account__isnull": "yes"}, "needs true or false"),
        (["name"], "JSON object"),
        ({"name__in": ["a\x00"]}, "NUL character"),
        ({"name": "net\ud800x"}, "lone surrogate"),
    ],
)
def test_filter_errors_name_the_field_or_lookup(spec, message):
    with pytest.raises(ValidationError, match=message):
        filter_validate(Account, spec, field_name="crm_filter")


FIELD_NAMES = [f.name for f in Account._meta.concrete_fields] + ["owner__fullname", "parent_account__name"]


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    field=st.one_of(st.sampled_from(FIELD_NAMES), st.text(string.ascii_lowercase + "_", min_size=1, max_size=12)),
    lookup=st.one_of(st.none(), st.sampled_from(sorted(LOOKUPS)), st.text(string.ascii_lowercase, max_size=6)),
    negate=st.booleans(),
    value=st.one_of(st.text(max_size=8), st.integers(), st.booleans(), st.lists(st.text(max_size=3), max_size=2)),
)
def test_any_filter_is_either_refused_with_a_message_or_runs(field, lookup, negate, value):
    key = ("~" if negate else "") + field + (f"__{lookup}" if lookup else "")
    try:
        q = filter_validate(Account, {key: value})
    except ValidationError as exc:
        assert exc.message_dict["filter"][0]  # a clear message, never a crash
        return
    with transaction.atomic():  # a savepoint per example, so one database error cannot hide behind the next
        list(Account.objects.filter(q)[:1])  # an accepted filter always runs


def test_table_mapping_validation_names_the_problem(mappings):
    mapping = IntegrationTableMapping(name="BAD", erp_model="erp.Nope", crm_model="crm.Account",
                                      crm_filter={"nope": 1})
    with pytest.raises(ValidationError) as exc:
        mapping.full_clean()
    assert "erp.Nope" in str(exc.value) and "'nope'" in str(exc.value)


def test_field_mapping_validation_names_both_fields(mappings):
    mapping = mappings["CUSTOMER"]
    missing = IntegrationFieldMapping(table_mapping=mapping, erp_field="colour", crm_field="name")
    with pytest.raises(ValidationError, match=r"erp\.Customer has no field 'colour'"):
        missing.full_clean()
    incompatible = IntegrationFieldMapping(table_mapping=mapping, erp_field="privacy_blocked",
                                           crm_field="credit_limit")
    with pytest.raises(ValidationError, match=r"erp.Customer.privacy_blocked and crm.Account.credit_limit"):
        incompatible.full_clean()
    IntegrationFieldMapping(table_mapping=mapping, erp_field="phone_no", crm_field="telephone2").full_clean()
    crossed = IntegrationFieldMapping(table_mapping=mapping, erp_field="salesperson", crm_field="transaction_currency")
    with pytest.raises(ValidationError, match=r"Salesperson/Purchaser records are coupled to crm.SystemUser records, "
                                              r"not to crm.TransactionCurrency records"):
        crossed.full_clean()


def test_cyclic_dependencies_are_refused(mappings):
    salespeople, customer = mappings["SALESPEOPLE"], mappings["CUSTOMER"]
    with pytest.raises(ValidationError, match="Cyclic dependency: SALESPEOPLE → CUSTOMER → SALESPEOPLE"):
        dependencies_validate(mapping=salespeople, dependencies=[customer])
    dependencies_validate(mapping=customer, dependencies=[salespeople])


def test_dependency_order_puts_salespeople_and_currencies_before_customers(mappings):
    order = [m.name for m in mappings_in_dependency_order(IntegrationTableMapping.objects.all())]
    assert order.index("SALESPEOPLE") < order.index("CUSTOMER") < order.index("CONTACT") < order.index("OPPORTUNITY")
    assert order.index("CURRENCY") < order.index("CUSTOMER")
    assert order.index("UNIT OF MEASURE") < order.index("ITEM-PRODUCT")
    assert order.index("CUSTPRCGRP-PRICE") < order.index("SALESPRC-PRODPRICE")
    assert order.index("ITEM-PRODUCT") < order.index("POSTEDSALESINV-INV")
    assert order.index("RESOURCE-PRODUCT") < order.index("POSTEDSALESINV-INV")
    assert {"ITEM-PRODUCT", "RESOURCE-PRODUCT"} <= set(
        IntegrationTableMapping.objects.get(name="POSTEDSALESINV-INV").dependencies.values_list("name", flat=True))


def test_defaults_cover_the_spec_table_and_reset_is_idempotent_and_keeps_couplings(mappings):
    assert set(mappings) == set(default_mapping_names())
    assert mappings["CUSTOMER"].direction == "bidirectional"
    assert mappings["CURRENCY"].direction == "to_integration"
    assert mappings["SALESPEOPLE"].direction == "from_integration"
    assert mappings["POSTEDSALESLINE-INV"].parent == mappings["POSTEDSALESINV-INV"]
    assert mappings["CUSTOMER"].field_mappings.filter(erp_field="salesperson", crm_field="owner").exists()
    counts = (IntegrationTableMapping.objects.count(), IntegrationFieldMapping.objects.count(),
              ValueMap.objects.count())
    customer, account = Customer.objects.create(name="Kept"), Account.objects.create(name="Kept")
    Coupling.objects.create(erp_model="erp.Customer", crm_model="crm.Account", erp_id=customer.pk, crm_id=account.pk)
    mappings["CUSTOMER"].field_mappings.filter(crm_field="fax").update(status="disabled")
    IntegrationTableMapping.objects.filter(name="CUSTOMER").update(
        update_conflict_resolution="get_update", deletion_conflict_resolution="remove_coupling",
        create_new_if_no_match=True, sync_after_match_coupling=True, sync_only_coupled=False)

    integration_setup_reset()
    integration_setup_reset()

    assert (IntegrationTableMapping.objects.count(), IntegrationFieldMapping.objects.count(),
            ValueMap.objects.count()) == counts
    assert Coupling.objects.filter(erp_id=customer.pk).exists()
    assert IntegrationFieldMapping.objects.get(table_mapping__name="CUSTOMER", crm_field="fax").status == "enabled"
    customer_mapping = IntegrationTableMapping.objects.get(name="CUSTOMER")
    assert (customer_mapping.update_conflict_resolution, customer_mapping.deletion_conflict_resolution) == ("", "")
    assert not customer_mapping.create_new_if_no_match and not customer_mapping.sync_after_match_coupling
    assert customer_mapping.sync_only_coupled


def test_every_default_field_mapping_is_valid(mappings):
    for fm in IntegrationFieldMapping.objects.select_related("table_mapping"):
        fm.full_clean()


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(entries=st.dictionaries(st.text(string.ascii_uppercase, min_size=1, max_size=6),
                               st.sampled_from(["net30", "2_10_net30", "net45", "net60"]), max_size=5),
       erp_code=st.text(string.ascii_uppercase, min_size=1, max_size=6))
def test_value_map_maps_known_values_and_leaves_the_option_blank_for_unknown(mappings, entries, erp_code):
    from integration.engine.plan import plan_build
    from integration.engine.transfer import ChunkTransfer

    value_map = ValueMap.objects.get(name="PAYMENT TERMS")
    value_map.entries.all().delete()
    ValueMapEntry.objects.bulk_create([ValueMapEntry(value_map=value_map, erp_value=k, crm_value=v)
                                       for k, v in entries.items()])
    from erp.models import PaymentTerms

    terms, _ = PaymentTerms.objects.get_or_create(code=erp_code)
    customer = Customer(no="C1", name="X", payment_terms=terms)
    plan = plan_build(mapping=mappings["CUSTOMER"], direction="to_integration")
    plan.field_rules = [r for r in plan.field_rules if r.dest_attname == "payment_terms_code"]
    values = ChunkTransfer(plan, [customer]).values_for(customer, None)
    assert values["payment_terms_code"] == entries.get(erp_code, "")
