"""A row's destination values as the run computes them: the field rules written out once per run as one function
(`transfer.values_maker`), which must give what each rule's own step gives, value for value and error for error."""

import linecache
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.models import Account
from erp.models import Customer
from integration.engine.plan import FieldRule, plan_build
from integration.engine.row_code import Names, source_of
from integration.engine.transfer import (
    MEMO_SIZE,
    ChunkTransfer,
    DecimalCheck,
    TextCheck,
    _check,
    memoized,
    plain_email,
    rules_compile,
    values_maker,
)
from integration.models import IntegrationFieldMapping
from integration.rules.base import RowError
from tests.integration.validation import outcomes

pytestmark = pytest.mark.django_db

TO = "to_integration"

TEXT_FIELDS = [f for model in apps.get_models() for f in model._meta.concrete_fields
               if isinstance(f, (models.CharField, models.TextField)) and not f.is_relation]


def _written_out(check, value):
    """``check.condition`` evaluated as the generated code evaluates it."""
    names = Names()
    condition = check.condition("value", names)
    return bool(eval(condition, {**names.namespace, "plain_email": plain_email, "Decimal": Decimal, "value": value}))


def test_the_written_out_check_of_every_plain_text_field_passes_what_its_check_passes():
    """`TextCheck.condition` is what the generated code tests in place of the check: for any text, it passes exactly
    the values `TextCheck.passes` passes, and those Django's ``clean`` passes too."""
    checks = [(field, check) for field in TEXT_FIELDS if isinstance(check := _check(field), TextCheck)]
    assert len(checks) > 100
    for field, check in checks:
        options = sorted(check.options or ["an option"])
        for value in ["", "x", "a\x00b", "x" * (field.max_length or 10), "x" * ((field.max_length or 10) + 1),
                      "ann@example.com", "ann@@example", *options, options[0] + " ", None, 7]:
            written_out = _written_out(check, value)
            assert written_out == check.passes(value), (field.model, field.name, value)
            if written_out:
                field.clean(value, None)


DECIMALS = [Decimal("0"), Decimal("0.00"), Decimal("-0.00"), Decimal("12.5"), Decimal("12.50"), Decimal("12.5000"),
            Decimal("-99999999999999999.99"), Decimal("99999999999999999.99"), Decimal("100000000000000000.00"),
            Decimal("1E+2"), Decimal("1E-2"), Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), None, 5, 5.5,
            "5.00"]


def test_the_check_of_every_decimal_field_passes_what_its_clean_passes():
    """`DecimalCheck`, written out or called, passes without ``clean`` only amounts ``clean`` passes, and called it
    refuses what ``clean`` refuses, for every decimal field of every model that has one."""
    checks = [(f, check) for model in apps.get_models() for f in model._meta.concrete_fields
              if isinstance(check := _check(f), DecimalCheck)]
    assert len(checks) > 20
    for field, check in checks:
        places = Decimal(1).scaleb(-field.decimal_places)
        for value in [*DECIMALS, *(d.quantize(places) for d in DECIMALS[:8])]:
            assert _written_out(check, value) == check.passes(value), (field.model, field.name, value)
            answers = outcomes(value, field.clean, check)
            assert answers[0] == answers[1], (field.model, field.name, value, answers)
            if check.passes(value):
                assert answers[0] == "passed"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(st.text(max_size=120), st.none(), st.integers(), st.sampled_from(["", "\x00", "ann@x.io"])))
def test_each_plain_rule_written_out_gives_what_its_own_step_and_check_give(mappings, value):
    """Rule by rule (the CUSTOMER mapping's plain values, both ways), the generated function against the rule's own
    step (`CompiledRule.value`, then its check), for any value a source column may hold."""
    for direction, model in ((TO, Customer), ("from_integration", Account)):
        plan = plan_build(mapping=mappings["CUSTOMER"], direction=direction)
        for rule in [r for r in plan.field_rules if r.kind == "value"]:
            plan.field_rules = [rule]
            plan._makers.clear()
            [step] = rules_compile(plan)
            source = model(name="Name")
            setattr(source, rule.source_attname, value)
            try:
                _write, expected = step.value(value)
                if step.check is not None:
                    step.check(expected, None)
                expected = {rule.dest_attname: expected}
            except ValidationError:
                expected = None
            try:
                values = ChunkTransfer(plan, [source]).values_for(source, None)
            except RowError as exc:
                assert expected is None, (rule.dest_attname, value, str(exc))
                assert str(rule.dest_field.verbose_name) in str(exc)
            else:
                assert values == expected, (rule.dest_attname, value)


def test_a_nullable_text_field_takes_a_blank_source_as_null(mappings):
    """A source's NULL goes into a text destination that allows NULL as NULL, its check passing it (the check
    written out in place tells its type first: no TypeError)."""
    plan = plan_build(mapping=mappings["CUSTOMER"], direction=TO)
    fm = IntegrationFieldMapping(erp_field="vat_registration_no", crm_field="account_number", validate_field=True)
    plan.field_rules = [FieldRule(mapping=fm, dest_field=Account._meta.get_field("account_number"),
                                  source_field=Customer._meta.get_field("vat_registration_no"))]
    customer = Customer(no="C1", name="Name", vat_registration_no=None)

    assert ChunkTransfer(plan, [customer]).values_for(customer, None) == {"account_number": None}
    customer.vat_registration_no = "SE556677889901"
    assert ChunkTransfer(plan, [customer]).values_for(customer, None) == {"account_number": "SE556677889901"}


def test_every_bad_field_of_a_row_is_named_in_one_error_naming_the_record(mappings):
    plan = plan_build(mapping=mappings["CUSTOMER"], direction=TO)
    customer = Customer(no="C7", name="x" * 200, email="not an address", phone_no="+46 8 555 0000" * 4)

    with pytest.raises(RowError) as raised:
        ChunkTransfer(plan, [customer]).values_for(customer, None)

    message = str(raised.value)
    assert message.startswith("Customer C7")
    for field in ("Account Name: Ensure this value has at most 160", "Email: Enter a valid email", "Main Phone:"):
        assert field in message, message


def test_a_column_the_row_was_read_without_is_read_through_its_descriptor(mappings, salesperson_pair):
    """A source row read with some columns left out (as the engine reads only what it needs) still gets every
    mapped value: the generated function falls back to the model's descriptors, which load what is missing."""
    salesperson, user = salesperson_pair
    Customer.objects.create(no="C9", name="Deferred AB", phone_no="+46 8 1", salesperson=salesperson)
    plan = plan_build(mapping=mappings["CUSTOMER"], direction=TO)
    customer = Customer.objects.only("pk", "no", "name").get(no="C9")

    values = ChunkTransfer(plan, [customer]).values_for(customer, None)

    assert (values["name"], values["telephone1"], values["owner_id"]) == ("Deferred AB", "+46 8 1", user.pk)


def test_a_traceback_through_the_generated_function_shows_its_lines(mappings):
    plan = plan_build(mapping=mappings["CUSTOMER"], direction=TO)
    customer = Customer(no="C1", name="Name")
    values_for = ChunkTransfer(plan, [customer]).values_for
    filename = values_for.__code__.co_filename

    lines = linecache.getlines(filename)

    assert filename.startswith("<p2c generated")
    assert any("-> name (value)" in line for line in lines)


def test_the_source_of_a_generated_function_has_a_block_per_rule(mappings):
    """What row_code.py tells a reader to print: the function as it was written, each field rule in a block headed
    by its source and destination."""
    plan = plan_build(mapping=mappings["CUSTOMER"], direction=TO)
    source = source_of(plan.per_run(values_maker))
    assert source.startswith("def make(transfer):\n")
    for index, rule in enumerate(plan.field_rules):
        source_name = "constant" if rule.kind == "constant" else rule.source_attname
        assert f"# {index}: {source_name} -> {rule.dest_attname} ({rule.kind})\n" in source


def test_a_remembered_step_answers_each_value_as_the_step_does():
    """`memoized` keeps answers of values that tell them apart exactly: 1 and True, 1.0 and 1.00, 0 and -0 are
    equal but written differently, and each gets its own answer; refusals are refused anew; memory is bounded."""
    calls = []

    def step(raw):
        calls.append(raw)
        if raw == "bad":
            raise ValidationError("bad value")
        return True, str(raw)

    remembered = memoized(step)
    values = [1, True, Decimal("1.0"), Decimal("1.00"), Decimal("0"), Decimal("-0"), Decimal("1E+1"), Decimal("10"),
              Decimal("NaN"), Decimal("-NaN"), Decimal("sNaN"), "1", "1.00", None, 1.0]
    assert [remembered(v) for v in values * 2] == [step(v) for v in values * 2]
    calls.clear()
    assert [remembered(v) for v in values] == [step(v) for v in values]
    assert calls == [1.0, *values]  # a float is not kept: each time; the step itself once each
    for _ in range(2):
        with pytest.raises(ValidationError, match="bad value"):
            remembered("bad")
    calls.clear()
    for n in range(MEMO_SIZE + 10):
        remembered(f"v{n}")
    remembered("v0")
    remembered(f"v{MEMO_SIZE + 5}")
    assert calls[-1] == f"v{MEMO_SIZE + 5}" and calls.count("v0") == 1
