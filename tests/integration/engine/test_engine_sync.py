"""The synchronisation engine, rule by rule (docs/features.md I3-I5, I7; as Business Central behaves)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from crm.models import Account, SystemUser
from erp.models import Currency, Customer, PaymentTerms, SalespersonPurchaser
from integration.coupling.couplings import couplings_restore_skipped
from integration.engine.sync import mapping_synchronize
from integration.engine.transfer import _check
from integration.models import (
    Coupling,
    CouplingIntent,
    IntegrationFieldMapping,
    IntegrationTableMapping,
    SyncJob,
    SyncJobError,
    ValueMapEntry,
)
from p2c.databases import sales_separate
from p2c.text import PLAIN_EMAIL, plain_email
from tests.integration.validation import outcomes

pytestmark = pytest.mark.django_db

TO, FROM = "to_integration", "from_integration"


def customers(n, salesperson, **extra):
    return [
        Customer.objects.create(name=f"Customer {i}", email=f"customer{i}@example.com", salesperson=salesperson,
                                phone_no=f"+46 8 555 {i:04d}", **extra)
        for i in range(n)
    ]


def run(mapping, direction=None, **kwargs):
    mapping.refresh_from_db()
    jobs = mapping_synchronize(mapping=mapping, direction=direction, **kwargs)
    return {job.direction: job for job in jobs}


def coupled_account(customer):
    coupling = Coupling.objects.get(erp_model="erp.Customer", crm_model="crm.Account", erp_id=customer.pk)
    return Account.objects.get(pk=coupling.crm_id)


def test_new_customers_become_coupled_accounts_written_by_the_integration_user(
    customer_mapping, salesperson_pair, integration_user
):
    salesperson, user = salesperson_pair
    created = customers(3, salesperson)

    job = run(customer_mapping, TO)[TO]

    assert job.status == SyncJob.Status.SUCCESS
    assert (job.inserted, job.failed) == (3, 0)
    account = coupled_account(created[1])
    assert account.name == "Customer 1"
    assert account.emailaddress1 == "customer1@example.com"
    assert account.telephone1 == "+46 8 555 0001"
    assert account.owner == user  # salesperson → coupled Sales user
    assert account.customer_type_code == "customer"  # constant for new accounts
    assert account.modifiedby == integration_user
    assert account.account_number.startswith("ACC-")


EMAILS = [  # plain ones (the engine's quick check) and others (Django's field decides)
    "ann@example.com", "Ann.Lee+crm@mail.example.co.uk", "ann@localhost", "o'neil@example.com", "ann@[192.0.2.1]",
    '"ann lee"@example.com', "ann@example", "ann@@example.com", "ann@-example.com", "ann@example.c",
    "ann..lee@example.com", "ann@example.com\n", "a" * 64 + "@example.com", "ann@exa_mple.com",
]


def test_the_email_check_of_a_synchronisation_accepts_and_refuses_what_the_field_does(
    customer_mapping, salesperson_pair
):
    salesperson, _ = salesperson_pair
    made = {address: Customer.objects.create(name=f"Customer {i}", email=address, salesperson=salesperson)
            for i, address in enumerate(EMAILS)}
    IntegrationFieldMapping.objects.filter(table_mapping__name="CUSTOMER", crm_field="emailaddress1").update(
        validate_field=True)

    job = run(customer_mapping, TO)[TO]

    field = Account._meta.get_field("emailaddress1")
    valid = {}
    for address in EMAILS:
        try:
            field.clean(address, None)
            valid[address] = True
        except ValidationError:
            valid[address] = False
    refused = {m.message for m in SyncJobError.objects.all()}
    for address in EMAILS:
        named = any(made[address].name + ")" in message and "Email:" in message for message in refused)
        assert named != valid[address], address
    assert 0 < job.failed == sum(not ok for ok in valid.values()) < len(EMAILS)


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.from_regex(PLAIN_EMAIL, fullmatch=True) | st.text(max_size=40))
def test_every_address_the_quick_email_check_passes_is_one_django_accepts(address):
    if plain_email(address):
        validate_email(address)


def test_the_quick_check_of_a_field_with_options_passes_what_django_passes_and_refuses_what_it_refuses():
    fields = [f for model in apps.get_models() for f in model._meta.concrete_fields
              if f.choices and isinstance(f, models.CharField)]
    assert len(fields) > 20
    for field in fields:
        check = _check(field)
        options = [choice for choice, _ in field.flatchoices]
        for value in [*options, "", None, "not an option", f"{options[0]}x", options[0].upper() + " ", "a\x00b"]:
            answers = outcomes(value, field.clean, check)
            assert answers[0] == answers[1], (field.model, field.name, value, answers)


def test_no_ping_pong_both_directions_twice(customer_mapping, salesperson_pair):
    salesperson, _ = salesperson_pair
    customers(4, salesperson)
    first = run(customer_mapping)
    assert first[TO].inserted == 4
    account = Account.objects.first()
    account.telephone1 = "+46 8 000 0000"
    account.save()
    run(customer_mapping)  # Sales change goes to the ERP once

    second = run(customer_mapping, full=True)

    for job in second.values():
        assert (job.inserted, job.modified, job.failed) == (0, 0, 0), job.counts()
    assert second[TO].unchanged == 4
    assert Customer.objects.filter(phone_no="+46 8 000 0000").count() == 1


def test_rows_written_by_the_integration_user_are_never_read_from_sales(customer_mapping, salesperson_pair,
                                                                        integration_user):
    salesperson, _ = salesperson_pair
    customers(2, salesperson)
    run(customer_mapping, TO)
    assert set(Account.objects.values_list("modifiedby", flat=True)) == {integration_user.pk}

    job = run(customer_mapping, FROM, full=True)[FROM]

    assert job.counts() == dict.fromkeys(SyncJob.COUNTERS, 0)


def test_uncoupled_salesperson_fails_the_row_and_names_it_others_go_through(customer_mapping, salesperson_pair):
    salesperson, _ = salesperson_pair
    stranger = SalespersonPurchaser.objects.create(code="SP02", name="Sam Stranger")
    good = customers(2, salesperson)
    bad = Customer.objects.create(name="Orphan AB", salesperson=stranger)

    job = run(customer_mapping, TO)[TO]

    assert (job.inserted, job.failed) == (2, 1)
    error = SyncJobError.objects.get(job=job)
    assert error.source_id == str(bad.pk)
    assert "Salesperson/Purchaser SP02 is not coupled to a Sales user" in error.message
    assert "Orphan AB" in error.message or bad.no in error.message
    assert all(coupled_account(c) for c in good)
    assert not Account.objects.filter(name="Orphan AB").exists()


def test_same_failure_twice_marks_skipped_until_restored(customer_mapping, salesperson_pair):
    salesperson, _user = salesperson_pair
    [customer] = customers(1, salesperson)
    run(customer_mapping, TO)
    account = coupled_account(customer)
    # The account's e-mail is changed in the ERP to something Sales refuses.
    Customer.objects.filter(pk=customer.pk).update(email="not-an-email")

    first = run(customer_mapping, TO)[TO]
    coupling = Coupling.objects.get(crm_id=account.pk)
    assert first.failed == 1 and coupling.last_crm_result == "failure" and not coupling.skipped
    assert "Email" in SyncJobError.objects.get(job=first).message

    second = run(customer_mapping, TO)[TO]  # retried although unchanged; fails the same way
    coupling.refresh_from_db()
    assert second.failed == 1 and coupling.skipped

    third = run(customer_mapping, TO, full=True)[TO]
    assert third.failed == 0  # skipped rows are left out

    Customer.objects.filter(pk=customer.pk).update(email="fixed@example.com")
    assert couplings_restore_skipped(mapping=customer_mapping) == 1
    fourth = run(customer_mapping, TO)[TO]
    assert fourth.modified == 1
    assert Account.objects.get(pk=account.pk).emailaddress1 == "fixed@example.com"


def test_failed_rows_are_retried_even_when_unchanged(customer_mapping, salesperson_pair):
    salesperson, _ = salesperson_pair
    [customer] = customers(1, salesperson)
    run(customer_mapping, TO)
    coupling = Coupling.objects.get(erp_id=customer.pk, erp_model="erp.Customer")
    Coupling.objects.filter(pk=coupling.pk).update(last_crm_result="failure")

    job = run(customer_mapping, TO)[TO]

    coupling.refresh_from_db()
    assert job.unchanged + job.modified == 1
    assert coupling.last_crm_result == "success"


def test_failed_rows_are_retried_first_and_once_when_they_also_changed(customer_mapping, salesperson_pair, settings):
    salesperson, _user = salesperson_pair
    settings.P2C_SYNC_CHUNK_SIZE = 1
    newcomer = SalespersonPurchaser.objects.create(code="SP02", name="Nina Newcomer")
    first_customer, _ = customers(2, salesperson)
    waiting = Customer.objects.create(name="Waiting AB", salesperson=newcomer)
    assert run(customer_mapping, TO)[TO].failed == 1
    user = SystemUser.objects.create(fullname="Nina Newcomer", internal_email="nina@example.com")
    Coupling.objects.create(erp_model="erp.SalespersonPurchaser", crm_model="crm.SystemUser", erp_id=newcomer.pk,
                            crm_id=user.pk)
    for customer in (first_customer, waiting):
        customer.phone_no = "+46 8 123 4567"
        customer.save()

    job = run(customer_mapping, TO)[TO]

    assert (job.inserted, job.modified, job.failed) == (1, 1, 0), job.counts()
    # The retry went first: its account was written before the other changed customer's.
    assert coupled_account(waiting).modifiedon < coupled_account(first_customer).modifiedon


def test_a_failed_insert_is_retried_in_the_next_run_without_the_row_changing(customer_mapping, salesperson_pair):
    salesperson, _user = salesperson_pair
    newcomer = SalespersonPurchaser.objects.create(code="SP02", name="Nina Newcomer")
    customers(2, salesperson)
    waiting = Customer.objects.create(name="Waiting AB", salesperson=newcomer)
    first = run(customer_mapping, TO)[TO]
    assert (first.inserted, first.failed) == (2, 1)

    # The administrator couples the salesperson; the customer itself is not touched.
    other_user = SystemUser.objects.create(fullname="Nina Newcomer", internal_email="nina@example.com")
    Coupling.objects.create(erp_model="erp.SalespersonPurchaser", crm_model="crm.SystemUser", erp_id=newcomer.pk,
                            crm_id=other_user.pk)
    second = run(customer_mapping, TO)[TO]

    assert (second.inserted, second.failed) == (1, 0)
    assert coupled_account(waiting).owner_id == other_user.pk
    assert run(customer_mapping, TO)[TO].counts() == {**second.counts(), "inserted": 0}


def test_a_failed_insert_failing_the_same_way_twice_waits_until_it_changes(customer_mapping, salesperson_pair):
    salesperson, _ = salesperson_pair
    stranger = SalespersonPurchaser.objects.create(code="SP02", name="Sam Stranger")
    orphan = Customer.objects.create(name="Orphan AB", salesperson=stranger)
    # Last changed a minute ago: outside the second the watermark re-reads anyway.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE erp_customer SET modified_at = %s WHERE id = %s",
                       [orphan.modified_at - timedelta(minutes=1), orphan.pk])

    assert run(customer_mapping, TO)[TO].failed == 1
    assert run(customer_mapping, TO)[TO].failed == 1  # retried although unchanged, fails the same way
    third = run(customer_mapping, TO)[TO]
    # Then it waits, like a skipped coupling: not tried again (an incremental run past its change need not read it
    # at all; the full run tells it skipped)
    assert (third.failed, third.inserted) == (0, 0), third.counts()
    assert run(customer_mapping, TO, full=True)[TO].skipped == 1
    # Named explicitly (synchronise now, retry from the error log), it is tried again.
    assert run(customer_mapping, TO, only_ids=[orphan.pk])[TO].failed == 1

    orphan.salesperson = salesperson
    orphan.save()
    assert run(customer_mapping, TO)[TO].inserted == 1


@pytest.mark.parametrize(
    ("resolution", "winner"),
    [("", None), ("send_update", "erp"), ("get_update", "crm")],
)
def test_update_conflicts_follow_the_mapping_resolution(customer_mapping, salesperson_pair, resolution, winner):
    salesperson, _ = salesperson_pair
    [customer] = customers(1, salesperson)
    run(customer_mapping)
    customer_mapping.update_conflict_resolution = resolution
    customer_mapping.save()
    account = coupled_account(customer)
    customer.refresh_from_db()
    customer.phone_no = "111"
    customer.save()
    account.telephone1 = "222"
    account.save()

    jobs = run(customer_mapping)

    customer.refresh_from_db()
    account.refresh_from_db()
    if winner is None:
        assert jobs[TO].failed == 1 and jobs[FROM].failed == 1
        assert (customer.phone_no, account.telephone1) == ("111", "222")  # left alone on both sides
        assert "bi-directional" in SyncJobError.objects.filter(job=jobs[TO]).get().message
    elif winner == "erp":
        assert (customer.phone_no, account.telephone1) == ("111", "111")
        assert jobs[TO].modified == 1  # the Sales side, now written by the integration user, is not read back
    else:
        assert (customer.phone_no, account.telephone1) == ("222", "222")
        assert jobs[TO].skipped == 1 and jobs[FROM].modified == 1


@pytest.mark.parametrize("resolution", ["", "remove_coupling", "restore_records"])
def test_deleted_destination_follows_the_deletion_resolution(customer_mapping, salesperson_pair, resolution):
    salesperson, _ = salesperson_pair
    [customer] = customers(1, salesperson)
    run(customer_mapping, TO)
    coupled_account(customer).delete()
    customer_mapping.deletion_conflict_resolution = resolution
    customer_mapping.save()

    job = run(customer_mapping, TO)[TO]

    couplings = Coupling.objects.filter(erp_model="erp.Customer", erp_id=customer.pk)
    if resolution == "":
        assert job.failed == 1
        assert "coupled to a deleted record" in SyncJobError.objects.get(job=job).message
    elif resolution == "remove_coupling":
        assert job.uncoupled == 1 and not couplings.exists()
        assert not Account.objects.exists()
    else:
        assert job.inserted == 1 and couplings.count() == 1
        assert coupled_account(customer).name == customer.name


def test_dry_run_writes_nothing_and_reports_field_changes(customer_mapping, salesperson_pair):
    salesperson, _ = salesperson_pair
    [customer] = customers(1, salesperson)
    run(customer_mapping, TO)
    Customer.objects.filter(pk=customer.pk).update(name="Renamed Ltd")
    Customer.objects.create(name="Brand New", salesperson=salesperson)
    before = (Account.objects.count(), list(Account.objects.values_list("name", flat=True)))

    job = run(customer_mapping, TO, dry_run=True)[TO]

    assert (Account.objects.count(), list(Account.objects.values_list("name", flat=True))) == before
    assert job.dry_run and (job.inserted, job.modified) == (1, 1)
    by_action = {entry["action"]: entry for entry in job.report}
    assert by_action["modify"]["changes"]["name"] == ["Customer 0", "Renamed Ltd"]
    assert by_action["insert"]["changes"]["name"] == [None, "Brand New"]


def test_sync_only_coupled_records_skips_uncoupled(mappings, salesperson_pair):
    salesperson, _ = salesperson_pair
    customers(2, salesperson)
    job = run(mappings["CUSTOMER"], TO)[TO]
    assert (job.inserted, job.skipped) == (0, 2)
    assert not Account.objects.exists()


def test_option_mapping_couples_codes_and_leaves_unknown_options_blank(customer_mapping, salesperson_pair, mappings):
    salesperson, _ = salesperson_pair
    net30 = PaymentTerms.objects.create(code="NET30", description="Net 30 days")
    odd = PaymentTerms.objects.create(code="14 DAYS", description="Fourteen days")
    option_job = run(mappings["PAYMENT TERMS"], TO)[TO]
    assert (option_job.coupled, option_job.skipped) == (1, 1)
    assert "14 DAYS" in option_job.message
    a, b = customers(2, salesperson)
    Customer.objects.filter(pk=a.pk).update(payment_terms=net30)
    Customer.objects.filter(pk=b.pk).update(payment_terms=odd)

    run(customer_mapping, TO)

    assert coupled_account(a).payment_terms_code == "net30"
    assert coupled_account(b).payment_terms_code == ""


def test_an_option_mapping_read_in_chunks_names_the_unmatched_codes_in_their_order_and_a_dry_run_writes_no_entry(
    mappings, settings
):
    settings.P2C_SYNC_CHUNK_SIZE = 2  # four codes, two chunks, read in the order they were created
    for code in ("ZZ ODD", "NET30", "AA ODD", "MM ODD"):
        PaymentTerms.objects.create(code=code, description=f"{code} terms")
    mapping = mappings["PAYMENT TERMS"]

    dry = run(mapping, TO, dry_run=True)[TO]
    assert (dry.status, dry.coupled, dry.skipped) == (SyncJob.Status.SUCCESS, 1, 3)
    assert not ValueMapEntry.objects.filter(value_map__name=mapping.name).exists()
    assert [dry.message.index(code) for code in ("AA ODD", "MM ODD", "ZZ ODD")] == sorted(
        dry.message.index(code) for code in ("AA ODD", "MM ODD", "ZZ ODD"))

    job = run(mapping, TO)[TO]
    assert (job.coupled, job.skipped) == (1, 3)
    assert dict(ValueMapEntry.objects.filter(value_map__name=mapping.name)
                .values_list("erp_value", "crm_value")) == {"NET30": "net30"}
    again = run(mapping, TO)[TO]
    assert (again.coupled, again.unchanged, again.skipped) == (0, 1, 3)


def test_round_trip_sales_to_erp_to_sales_keeps_mapped_fields(customer_mapping, salesperson_pair, mappings):
    salesperson, user = salesperson_pair
    eur = Currency.objects.create(code="EUR", iso_code="EUR", description="Euro")
    run(mappings["CURRENCY"], TO, create_new=True)
    PaymentTerms.objects.create(code="NET45", description="Net 45")
    run(mappings["PAYMENT TERMS"], TO)
    from crm.models import TransactionCurrency

    original = Account.objects.create(
        name="Round Trip AB", emailaddress1="trip@example.com", telephone1="+46 1", fax="+46 2",
        websiteurl="https://trip.example.com", address1_line1="Storgatan 1", address1_city="Uppsala",
        address1_postalcode="75310", address1_country="SE", customer_type_code="customer", owner=user,
        transaction_currency=TransactionCurrency.objects.get(iso_currency_code="EUR"), payment_terms_code="net45",
    )
    run(customer_mapping, FROM)
    customer = Customer.objects.get(name="Round Trip AB")
    assert customer.currency == eur and customer.payment_terms.code == "NET45"
    # Back to Sales as a new account, through a second coupling pair made by deleting the first.
    Coupling.objects.filter(erp_model="erp.Customer").delete()
    Customer.objects.filter(pk=customer.pk).update(salesperson=salesperson)
    Account.objects.filter(pk=original.pk).update(customer_type_code="prospect")
    run(customer_mapping, TO)

    copy = coupled_account(customer)
    assert copy.pk != original.pk
    for field in ("name", "emailaddress1", "telephone1", "fax", "websiteurl", "address1_line1", "address1_city",
                  "address1_postalcode", "address1_country", "transaction_currency_id", "payment_terms_code"):
        assert getattr(copy, field) == getattr(original, field), field


def test_field_mapping_options(customer_mapping, salesperson_pair):
    salesperson, _ = salesperson_pair
    fms = {fm.crm_field: fm for fm in customer_mapping.field_mappings.all()}
    fms["fax"].status = "disabled"
    fms["fax"].save()
    fms["address1_city"].default_value = "Unknown city"
    fms["address1_city"].save()
    fms["address1_country"].transformation = "upper"
    fms["address1_country"].save()
    IntegrationFieldMapping.objects.create(table_mapping=customer_mapping, erp_field="", crm_field="industry",
                                           direction=TO, constant_value="Retail")
    [customer] = customers(1, salesperson, fax_no="+1 fax", country_region_code="se", city="")

    run(customer_mapping, TO)
    account = coupled_account(customer)
    assert account.fax == ""  # disabled
    assert account.address1_city == "Unknown city"  # default when blank
    assert account.address1_country == "SE"  # transformation
    assert account.industry == "Retail"  # constant

    # Not Null: a customer without salesperson never blanks the account's owner.
    owner = account.owner_id
    Customer.objects.filter(pk=customer.pk).update(salesperson=None, name="Still owned")
    run(customer_mapping, TO)
    account.refresh_from_db()
    assert account.owner_id == owner and account.name == "Still owned"


def test_clear_value_on_failed_sync(customer_mapping, salesperson_pair):
    """Primary contact: a reference that is not coupled is cleared instead of failing the row (BC default)."""
    from erp.models import Contact as ErpContact

    salesperson, _ = salesperson_pair
    person = ErpContact.objects.create(no="CT-X", type="person", first_name="Not", surname="Coupled")
    [customer] = customers(1, salesperson)
    Customer.objects.filter(pk=customer.pk).update(primary_contact=person)

    job = run(customer_mapping, TO)[TO]

    assert job.failed == 0
    assert coupled_account(customer).primary_contact is None


def test_query_count_per_chunk_is_constant(customer_mapping, salesperson_pair, settings):
    salesperson, _ = salesperson_pair
    settings.P2C_SYNC_CHUNK_SIZE = 10
    eur = Currency.objects.create(code="EUR", iso_code="EUR")

    def queries_for(n):
        Customer.objects.all().delete()
        Account.objects.all().delete()
        Coupling.objects.filter(erp_model="erp.Customer").delete()
        customers(n, salesperson, currency=eur)
        customer_mapping.erp_watermark = None
        customer_mapping.save()
        with CaptureQueriesContext(connection) as ctx:
            run(customer_mapping, TO)
        return len(ctx)

    queries_for(10)  # the first run analyses the new tables (p2c.utils.planner_statistics_refresh); the others ask
    q10, q20, q40 = queries_for(10), queries_for(20), queries_for(40)
    # Each extra chunk of 10 rows costs the same number of queries, whatever the rows hold.
    assert q40 - q20 == 2 * (q20 - q10), (q10, q20, q40)
    assert q20 - q10 < 40


def test_query_count_per_chunk_does_not_grow_with_failing_rows(customer_mapping, salesperson_pair, settings):
    """Rows that fail on an uncoupled salesperson are named in their errors without a query per row."""
    salesperson, _ = salesperson_pair
    settings.P2C_SYNC_CHUNK_SIZE = 10
    strangers = [SalespersonPurchaser.objects.create(code=f"SP9{i}", name=f"Stranger {i}") for i in range(6)]

    def queries_with(failing):
        Customer.objects.all().delete()
        SyncJobError.objects.all().delete()
        for i, customer in enumerate(customers(10, salesperson)[:failing]):
            customer.salesperson = strangers[i]
            customer.save()
        customer_mapping.erp_watermark = None
        customer_mapping.save()
        with CaptureQueriesContext(connection) as ctx:
            job = run(customer_mapping, TO)[TO]
        assert job.failed == failing
        return len(ctx)

    queries_with(1)  # the first run also creates the ACC number sequence
    assert queries_with(1) == queries_with(6)
    assert SyncJobError.objects.filter(message__contains="Salesperson/Purchaser SP95 is not coupled").exists()


def test_watermark_limits_the_next_run_to_changed_rows(customer_mapping, salesperson_pair):
    salesperson, _ = salesperson_pair
    customers(3, salesperson)
    run(customer_mapping, TO)
    customer_mapping.refresh_from_db()
    assert customer_mapping.erp_watermark is not None
    # Move the watermark past the margin so the run reads only truly new changes.
    Customer.objects.all().update(modified_at=customer_mapping.erp_watermark - __import__("datetime").timedelta(hours=1))
    Customer.objects.filter(name="Customer 2").update(credit_limit_lcy=Decimal("5000"))

    job = run(customer_mapping, TO)[TO]

    assert job.modified + job.unchanged == 1
    assert Account.objects.get(name="Customer 2").credit_limit == Decimal("5000")


def test_a_second_run_of_the_same_mapping_is_refused_while_one_holds_it(customer_mapping):
    from integration.engine.locks import MappingBusy, mapping_lock

    with mapping_lock(customer_mapping), pytest.raises(MappingBusy, match="CUSTOMER is being synchronised"):
        mapping_synchronize(mapping=customer_mapping)


def test_integration_user_change_in_sales_is_ignored_but_a_person_change_is_read(customer_mapping, salesperson_pair,
                                                                                  integration_user):
    salesperson, user = salesperson_pair
    [customer] = customers(1, salesperson)
    run(customer_mapping, TO)
    account = coupled_account(customer)
    account.modifiedby = user
    account.telephone1 = "999"
    account.save()
    job = run(customer_mapping, FROM)[FROM]
    assert job.modified == 1
    assert Customer.objects.get(pk=customer.pk).phone_no == "999"


def test_system_user_mapping_creates_salespeople_with_codes(mappings):
    mapping = mappings["SALESPEOPLE"]
    SystemUser.objects.create(fullname="Bo Berg", internal_email="bo@example.com")
    SystemUser.objects.create(fullname="Bo Bengtsson", internal_email="bo2@example.com")
    SystemUser.objects.create(fullname="Disabled Dan", is_disabled=True)

    job = run(mapping, FROM, create_new=True)[FROM]

    assert job.inserted == 2
    assert set(SalespersonPurchaser.objects.values_list("code", flat=True)) == {"BB", "BB2"}


def test_no_ping_pong_in_incremental_runs(customer_mapping, salesperson_pair):
    """Without ``full``: the second pass of both directions reads nothing it has to write."""
    salesperson, _ = salesperson_pair
    customers(3, salesperson)
    run(customer_mapping)
    account = Account.objects.first()
    account.telephone1 = "+46 8 000 0000"
    account.save()
    run(customer_mapping)

    second = run(customer_mapping)

    for job in second.values():
        assert (job.inserted, job.modified, job.failed) == (0, 0, 0), job.counts()
    assert Customer.objects.filter(phone_no="+46 8 000 0000").count() == 1


@pytest.mark.parametrize("validate", [True, False])
def test_validate_field_refuses_or_lets_through_a_value_the_destination_field_would_refuse(
    customer_mapping, salesperson_pair, validate
):
    salesperson, _ = salesperson_pair
    customer_mapping.field_mappings.filter(crm_field="emailaddress1").update(validate_field=validate)
    customer = Customer.objects.create(name="Careless Typing AB", email="not an address", salesperson=salesperson)

    job = run(customer_mapping, TO)[TO]

    if validate:
        assert job.failed == 1
        assert "Email: Enter a valid email address" in SyncJobError.objects.get().message
        assert customer.name in SyncJobError.objects.get().message
    else:
        assert job.failed == 0 and coupled_account(customer).emailaddress1 == "not an address"


def test_a_field_mapped_one_way_is_not_written_the_other_way(customer_mapping, salesperson_pair):
    salesperson, _ = salesperson_pair
    customer_mapping.field_mappings.filter(crm_field="telephone1").update(direction=FROM)
    [customer] = customers(1, salesperson)

    run(customer_mapping, TO)
    account = coupled_account(customer)
    assert account.telephone1 == "" and account.name == customer.name

    account.telephone1 = "+46 8 999 9999"
    account.save()
    run(customer_mapping, FROM)
    customer.refresh_from_db()
    assert customer.phone_no == "+46 8 999 9999"


def test_a_run_that_stops_mid_way_leaves_whole_chunks_and_a_rerun_finishes_without_duplicates(
    customer_mapping, salesperson_pair, settings, monkeypatch
):
    from integration.engine import sync

    salesperson, _ = salesperson_pair
    settings.P2C_SYNC_CHUNK_SIZE = 4
    customers(10, salesperson)
    real_write, calls = sync.ChunkRun._write_couplings, []

    def write_then_crash(self):
        calls.append(1)
        real_write(self)
        if len(calls) == 2:
            raise RuntimeError("the machine went down")

    monkeypatch.setattr(sync.ChunkRun, "_write_couplings", write_then_crash)
    crashed = run(customer_mapping, TO)[TO]
    assert crashed.status == SyncJob.Status.FAILED and "the machine went down" in crashed.message
    assert Coupling.objects.filter(erp_model="erp.Customer").count() == 4  # chunk 1 only
    if sales_separate():  # chunk 2's accounts reached Sales; their intents wait on the ERP side
        assert Account.objects.count() == 8 and CouplingIntent.objects.count() == 4
    else:  # one transaction: chunk 2 rolled back whole
        assert Account.objects.count() == 4 and not CouplingIntent.objects.exists()

    monkeypatch.setattr(sync.ChunkRun, "_write_couplings", real_write)
    rerun = run(customer_mapping, TO)[TO]

    assert (rerun.inserted, rerun.failed) == (2 if sales_separate() else 6, 0), rerun.counts()
    assert Account.objects.count() == Coupling.objects.filter(erp_model="erp.Customer").count() == 10
    assert not CouplingIntent.objects.exists()


def test_a_run_under_a_lock_its_caller_holds_leaves_the_lock_held(customer_mapping, salesperson_pair):
    from integration.engine.locks import MappingBusy, mapping_lock

    salesperson, _ = salesperson_pair
    customers(2, salesperson)
    with mapping_lock(customer_mapping) as token:
        jobs = mapping_synchronize(mapping=customer_mapping, lock_token=token)  # both directions, one after the other
        assert [job.status for job in jobs] == [SyncJob.Status.SUCCESS] * 2
        with pytest.raises(MappingBusy):  # still held: nobody slipped in between the two directions, or after
            mapping_synchronize(mapping=customer_mapping)
    customer_mapping.refresh_from_db()
    assert customer_mapping.locked_by == ""


def test_a_run_whose_lock_was_taken_over_stops_and_says_why(customer_mapping, salesperson_pair, settings,
                                                            monkeypatch):
    """A run that made no progress for STALE_AFTER may be taken over; when it wakes up it stops writing."""
    from integration.engine import sync

    salesperson, _ = salesperson_pair
    settings.P2C_SYNC_CHUNK_SIZE = 2
    customers(6, salesperson)
    real_write = sync.ChunkRun._write_couplings

    def write_then_lose_the_lock(self):
        real_write(self)
        IntegrationTableMapping.objects.filter(pk=customer_mapping.pk).update(locked_by="another-run")

    monkeypatch.setattr(sync.ChunkRun, "_write_couplings", write_then_lose_the_lock)
    job = run(customer_mapping, TO)[TO]

    assert job.status == SyncJob.Status.FAILED
    assert "was taken over by another run" in job.message
    assert job.inserted == 2 and Account.objects.count() == 2  # the first chunk is kept, nothing after it
    customer_mapping.refresh_from_db()
    assert customer_mapping.erp_watermark is None  # the next run reads everything it did not finish
    assert customer_mapping.locked_by == "another-run"  # the lock stays with the run that took it over
