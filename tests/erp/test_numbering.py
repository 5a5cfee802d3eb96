"""ERP number series (docs/features.md E16): IncStr-style increments, allocation, exhaustion, missing series, Manual
Nos., concurrency."""

import re
from contextlib import contextmanager

import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from erp.api.serializers import ErpCustomerSerializer
from erp.models import BankAccount, Contact, Customer, NoSeries, SalesHeader, Vendor
from erp.numbering import codes_following, increment_code, no_series_allocate, numbers_reserve
from integration.engine.sides.django import DjangoSide
from p2c.api.bulk import bulk_upsert
from tests.admin_helpers import admin_form_data, admin_url
from tests.api.clients import client_for
from tests.concurrency import run_in_processes
from tests.factories import (
    CustomerFactory,
    GeneralLedgerSetupFactory,
    MarketingSetupFactory,
    NoSeriesFactory,
    PurchasesPayablesSetupFactory,
    SalesReceivablesSetupFactory,
)


# increment_code -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "by", "expected"),
    [
        ("C00010", 10, "C00020"),
        ("C00090", 10, "C00100"),
        ("INV-0999", 1, "INV-1000"),
        ("B010", 10, "B020"),
        ("CT000010", 10, "CT000020"),
        ("S-ORD101001", 1, "S-ORD101002"),
        ("99", 1, "100"),  # grows past its width rather than wrapping
        ("2026-A-007/X", 1, "2026-A-008/X"),  # the last run of digits, the tail kept
    ],
)
def test_increment_code_examples(code, by, expected):
    assert increment_code(code, by) == expected


def test_increment_code_refuses_a_code_without_digits():
    with pytest.raises(ValidationError, match="contains no digits"):
        increment_code("ABC")


prefixes = st.text(alphabet=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ-/"), max_size=6)
tails = st.text(alphabet=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ-/"), max_size=3)


@given(prefix=prefixes, start=st.integers(0, 10**9), width=st.integers(1, 10), by=st.integers(1, 10**4), tail=tails)
def test_increment_code_keeps_prefix_tail_and_width_and_adds_by(prefix, start, width, by, tail):
    code = f"{prefix}{start:0{width}d}{tail}"
    result = increment_code(code, by)
    match = re.fullmatch(rf"{re.escape(prefix)}(\d+){re.escape(tail)}", result)
    assert match, result
    digits = match.group(1)
    assert int(digits) == start + by
    assert len(digits) == max(len(f"{start:0{width}d}"), len(str(start + by)))


@given(start=st.integers(0, 10**6), by=st.integers(1, 100), steps=st.integers(1, 30))
def test_increment_code_steps_add_up(start, by, steps):
    code = f"C{start:06d}"
    for _ in range(steps):
        code = increment_code(code, by)
    assert code == f"C{start + by * steps:06d}"


@given(prefix=st.one_of(prefixes, st.builds("{}-{}".format, st.integers(0, 9999), prefixes)), tail=tails,
       start=st.integers(0, 10**6), width=st.integers(1, 8), by=st.integers(0, 999), count=st.integers(0, 40))
def test_codes_following_a_code_are_its_increments_one_after_the_other(prefix, tail, start, width, by, count):
    """A whole batch of numbers worked out at once is what incrementing the code one number at a time gives, past
    the width of its digits too (``X99`` → ``X100``) and with digits before the last run (``2026-A-007``)."""
    code = f"{prefix}{start:0{width}d}{tail}"
    expected = []
    for _ in range(count):
        code = increment_code(code, by)
        expected.append(code)
    assert codes_following(f"{prefix}{start:0{width}d}{tail}", by, count) == expected


def test_codes_following_a_code_without_digits_are_refused_as_its_increment_is():
    assert codes_following("ABC", 1, 0) == []
    with pytest.raises(ValidationError, match="contains no digits"):
        codes_following("ABC", 1, 2)


# no_series_allocate -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_first_number_is_the_starting_no_then_increments():
    series = NoSeriesFactory(code="CUST", starting_no="C00010", increment_by=10)
    assert no_series_allocate(series=series) == ["C00010"]
    assert no_series_allocate(series="CUST", count=3) == ["C00020", "C00030", "C00040"]
    series.refresh_from_db()
    assert series.last_no_used == "C00040"


@pytest.mark.django_db
def test_allocation_continues_from_last_no_used():
    NoSeriesFactory(code="BANK", starting_no="B010", increment_by=10, last_no_used="B990")
    assert no_series_allocate(series="BANK", count=2) == ["B1000", "B1010"]


@pytest.mark.django_db
def test_a_series_read_before_another_allocation_goes_on_from_the_number_that_one_used():
    """A caller reads the series (a synchronisation, its setup's series for a chunk), another allocation moves it
    on, then the caller allocates from what it read: from the number used last, not from what it read."""
    NoSeriesFactory(code="CUST", starting_no="C00010", increment_by=10)
    read = NoSeries.objects.get(code="CUST")
    assert no_series_allocate(series="CUST", count=2) == ["C00010", "C00020"]
    assert no_series_allocate(series=read, count=2) == ["C00030", "C00040"]
    assert no_series_allocate(series=read, count=1) == ["C00050"]  # as read, and moved by itself since
    changed = NoSeries.objects.get(code="CUST")
    NoSeries.objects.filter(code="CUST").update(ending_no="C00060")
    with pytest.raises(ValidationError, match=r"exhausted: C00070 is beyond its ending no. C00060"):
        no_series_allocate(series=changed, count=2)  # read before its ending no. was set
    assert NoSeries.objects.get(code="CUST").last_no_used == "C00050"


@pytest.mark.django_db
def test_allocating_nothing_changes_nothing():
    series = NoSeriesFactory(code="VEND", starting_no="V00010")
    assert no_series_allocate(series=series, count=0) == []
    series.refresh_from_db()
    assert series.last_no_used == ""


@pytest.mark.django_db
def test_a_series_is_exhausted_beyond_its_ending_no_and_nothing_is_used_up():
    NoSeriesFactory(code="SHORT", starting_no="X01", ending_no="X05", increment_by=2)
    assert no_series_allocate(series="SHORT", count=3) == ["X01", "X03", "X05"]
    with pytest.raises(ValidationError, match=r"No. series SHORT is exhausted: X07 is beyond its ending no. X05"):
        no_series_allocate(series="SHORT")
    assert NoSeries.objects.get(code="SHORT").last_no_used == "X05"


@pytest.mark.django_db
def test_a_batch_that_would_pass_the_ending_no_allocates_nothing():
    NoSeriesFactory(code="SHORT", starting_no="X01", ending_no="X05", increment_by=1)
    with pytest.raises(ValidationError, match="exhausted"):
        no_series_allocate(series="SHORT", count=6)
    assert NoSeries.objects.get(code="SHORT").last_no_used == ""
    assert no_series_allocate(series="SHORT", count=5) == ["X01", "X02", "X03", "X04", "X05"]


@pytest.mark.django_db
def test_a_series_whose_starting_no_is_beyond_its_ending_no_names_the_starting_no():
    NoSeriesFactory(code="BACKWARDS", starting_no="X09", ending_no="X05")
    with pytest.raises(ValidationError, match=r"exhausted: X09 is beyond its ending no. X05"):
        no_series_allocate(series="BACKWARDS", count=2)
    assert NoSeries.objects.get(code="BACKWARDS").last_no_used == ""


@pytest.mark.django_db
def test_an_unknown_series_code_raises():
    with pytest.raises(NoSeries.DoesNotExist):
        no_series_allocate(series="NOPE")


# Records numbered from the series of their setup table ------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "message"),
    [
        (Customer, "Customer No. is blank and no number series is set: fill in Customer Nos. in Sales & Receivables Setup."),
        (Vendor, "Vendor No. is blank and no number series is set: fill in Vendor Nos. in Purchases & Payables Setup."),
        (BankAccount, "Bank account No. is blank and no number series is set: fill in Bank Account Nos. in General Ledger Setup."),
        (Contact, "Contact No. is blank and no number series is set: fill in Contact Nos. in Marketing Setup."),
    ],
)
def test_a_blank_no_without_a_series_explains_which_setup_field_to_fill(model, message):
    with pytest.raises(ValidationError) as raised:
        model.objects.create(name="Nameless Inc.")
    assert raised.value.message_dict == {"no": [message]}
    assert not model.objects.exists()


@pytest.mark.django_db
def test_a_blank_sales_order_no_without_a_series_is_refused():
    customer = CustomerFactory()
    with pytest.raises(ValidationError, match=re.escape("Order No. is blank and Sales & Receivables Setup has no Order Nos.")):
        SalesHeader.objects.create(document_type="order", sell_to_customer=customer)


@pytest.mark.django_db
def test_records_take_numbers_from_the_setup_series():
    SalesReceivablesSetupFactory(customer_nos=NoSeriesFactory(code="CUST", starting_no="C00010", increment_by=10),
                                 order_nos=NoSeriesFactory(code="S-ORD", starting_no="S-ORD101001", increment_by=1))
    PurchasesPayablesSetupFactory(vendor_nos=NoSeriesFactory(code="VEND", starting_no="V00010", increment_by=10))
    GeneralLedgerSetupFactory(bank_account_nos=NoSeriesFactory(code="BANK", starting_no="B010", increment_by=10))
    MarketingSetupFactory(contact_nos=NoSeriesFactory(code="CONT", starting_no="CT000010", increment_by=10))
    first = Customer.objects.create(name="First")
    second = Customer.objects.create(name="Second")
    assert (first.no, second.no) == ("C00010", "C00020")
    assert first.no_series.code == "CUST"
    assert Vendor.objects.create(name="Supplier").no == "V00010"
    assert BankAccount.objects.create(name="Bank").no == "B010"
    assert Contact.objects.create(name="Company").no.startswith("CT0000")
    assert SalesHeader.objects.create(sell_to_customer=first).no == "S-ORD101001"


@pytest.mark.django_db
def test_bulk_create_numbers_a_batch_and_keeps_given_numbers():
    SalesReceivablesSetupFactory(customer_nos=NoSeriesFactory(code="CUST", starting_no="C00010", increment_by=10))
    Customer.objects.bulk_create(
        [Customer(name="A"), Customer(no="MANUAL-1", name="B"), Customer(name="C")]
    )
    assert sorted(Customer.objects.values_list("no", flat=True)) == ["C00010", "C00020", "MANUAL-1"]
    assert NoSeries.objects.get(code="CUST").last_no_used == "C00020"


# Manual Nos.: a hand-typed number at the doors users type into -----------------------------------------------------------
MANUAL_REFUSED = ("You may not enter numbers manually. If you want to enter numbers manually, please activate "
                  "Manual Nos. in No. Series {}.")


@pytest.fixture
def no_manual_customer_nos(db):
    return SalesReceivablesSetupFactory(
        customer_nos=NoSeriesFactory(code="CUST", starting_no="C00010", manual_nos=False),
        order_nos=NoSeriesFactory(code="S-ORD", starting_no="SO1001", manual_nos=False),
    )


def admin_add(client, model, **values):
    url = admin_url(model, "add")
    data = admin_form_data(client.get(url))
    data.update(values)
    return client.post(url, data)


def test_admin_refuses_a_typed_number_when_the_series_has_no_manual_nos(admin_client, no_manual_customer_nos):
    response = admin_add(admin_client, Customer, no="MY-1", name="Contoso")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["no"] == [MANUAL_REFUSED.format("CUST")]
    assert not Customer.objects.exists()
    blank = admin_add(admin_client, Customer, no="", name="Contoso")
    assert blank.status_code == 302
    assert Customer.objects.get().no == "C00010"


def test_admin_accepts_a_typed_number_when_the_series_allows_it(admin_client, db):
    SalesReceivablesSetupFactory(customer_nos=NoSeriesFactory(code="CUST", starting_no="C00010", manual_nos=True))
    response = admin_add(admin_client, Customer, no="MY-1", name="Contoso")
    assert response.status_code == 302
    assert Customer.objects.get().no == "MY-1"


def test_admin_keeps_a_number_of_an_existing_record(admin_client, no_manual_customer_nos):
    customer = CustomerFactory(no="OLD-1", name="Contoso")
    url = admin_url(Customer, "change", customer.pk)
    data = admin_form_data(admin_client.get(url))
    data["city"] = "Oslo"
    assert admin_client.post(url, data).status_code == 302
    customer.refresh_from_db()
    assert (customer.no, customer.city) == ("OLD-1", "Oslo")


def test_admin_refuses_a_typed_sales_order_number_by_its_document_type_series(admin_client, no_manual_customer_nos):
    customer = CustomerFactory(no="C-1")
    response = admin_add(admin_client, SalesHeader, document_type="order", no="SO-MINE", sell_to_customer=customer.pk)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["no"] == [MANUAL_REFUSED.format("S-ORD")]
    # No series for quotes: a quote's number can only be typed.
    response = admin_add(admin_client, SalesHeader, document_type="quote", no="SQ-MINE", sell_to_customer=customer.pk)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors


@pytest.mark.parametrize(("model", "setup_factory", "setup_field", "url"), [
    (Customer, SalesReceivablesSetupFactory, "customer_nos", "/api/erp/customers/"),
    (Vendor, PurchasesPayablesSetupFactory, "vendor_nos", "/api/erp/vendors/"),
    (BankAccount, GeneralLedgerSetupFactory, "bank_account_nos", "/api/erp/bank-accounts/"),
    (Contact, MarketingSetupFactory, "contact_nos", "/api/erp/contacts/"),
])
def test_api_create_refuses_a_typed_number_when_the_series_has_no_manual_nos(
    db, admin_user, model, setup_factory, setup_field, url
):
    setup_factory(**{setup_field: NoSeriesFactory(code="NOMAN", starting_no="N0010", manual_nos=False)})
    api = client_for(admin_user)
    response = api.post(url, {"no": "MY-1", "name": "Contoso"}, format="json")
    assert response.status_code == 400
    assert [str(m) for m in response.data["no"]] == [MANUAL_REFUSED.format("NOMAN")]
    assert not model.objects.filter(no="MY-1").exists()
    created = api.post(url, {"name": "Contoso"}, format="json")
    assert created.status_code == 201 and created.data["no"] == "N0010"
    renamed = api.patch(f"{url}N0010/", {"city": "Oslo"}, format="json")
    assert renamed.status_code == 200, renamed.data


def test_api_create_of_a_sales_order_checks_the_series_of_its_type(db, admin_user, no_manual_customer_nos):
    CustomerFactory(no="C-1")
    api = client_for(admin_user)
    order = api.post("/api/erp/sales-headers/", {"document_type": "order", "no": "SO-MINE", "sell_to_customer": "C-1"},
                     format="json")
    assert order.status_code == 400 and [str(m) for m in order.data["no"]] == [MANUAL_REFUSED.format("S-ORD")]
    quote = api.post("/api/erp/sales-headers/", {"document_type": "quote", "no": "SQ-MINE", "sell_to_customer": "C-1"},
                     format="json")
    assert quote.status_code == 201, quote.data


def test_api_bulk_create_refuses_typed_numbers_in_constant_queries(db, admin_user, no_manual_customer_nos):
    CustomerFactory(no="OLD-1", name="Old")
    records = [{"no": "OLD-1", "city": "Oslo"}, *({"no": f"MY-{i}", "name": f"New {i}"} for i in range(20))]
    with CaptureQueriesContext(connection) as queries:
        results = bulk_upsert(serializer_class=ErpCustomerSerializer, key_field="no", records=records)
    assert [r["status"] for r in results] == ["updated"] + ["error"] * 20
    assert results[1]["errors"]["no"] == [MANUAL_REFUSED.format("CUST")]
    assert Customer.objects.get(no="OLD-1").city == "Oslo"
    # The series is read once for the batch, not once per record.
    assert len([q for q in queries.captured_queries if "erp_noseries" in q["sql"]]) <= 1


def test_internal_writers_may_still_give_numbers(no_manual_customer_nos):
    # The synchronisation engine, seed_demo and factories give numbers no user typed (BC: TestManual runs on
    # validating the field, not on insert).
    assert Customer.objects.create(no="SYNC-1", name="From Sales").no == "SYNC-1"
    Customer.objects.bulk_create([Customer(no="SEED-1", name="Seed")])
    assert CustomerFactory().no


# Concurrency: two OS processes allocate 1,000 numbers each from the same series ------------------------------------------
ALLOCATE = """
from erp.numbering import no_series_allocate
for _ in range(1000):
    print(no_series_allocate(series="RACE")[0])
"""


def _assert_two_processes_allocate_distinct_numbers(tmp_path):
    NoSeries.objects.create(code="RACE", starting_no="R000010", increment_by=10)
    outputs = run_in_processes(ALLOCATE, processes=2, tmp_path=tmp_path)
    numbers = [n for out in outputs for n in out]
    assert [len(out) for out in outputs] == [1000, 1000]
    assert len(set(numbers)) == 2000
    assert sorted(numbers) == [f"R{10 * i:06d}" for i in range(1, 2001)]
    assert NoSeries.objects.get(code="RACE").last_no_used == "R020000"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_processes_allocate_2000_distinct_numbers_on_postgres(tmp_path):
    _assert_two_processes_allocate_distinct_numbers(tmp_path)


@pytest.mark.sqlite_file
@pytest.mark.django_db(transaction=True)
def test_two_processes_allocate_2000_distinct_numbers_on_a_sqlite_file(tmp_path):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the PostgreSQL variant runs instead")
    _assert_two_processes_allocate_distinct_numbers(tmp_path)


@pytest.mark.django_db
def test_numbers_reserved_ahead_are_handed_out_without_the_series_and_those_left_over_stay_unused():
    series = NoSeries.objects.create(code="RES", starting_no="R0010", increment_by=10)
    NoSeries.objects.create(code="OTHER", starting_no="O1")
    reserved = numbers_reserve(series=series, count=3)
    with CaptureQueriesContext(connection) as reading:
        first = no_series_allocate(series=series, count=2, reserved=reserved)
    more_than_left = no_series_allocate(series="RES", count=2, reserved=reserved)
    not_given = no_series_allocate(series=series)
    other_series = no_series_allocate(series="OTHER", reserved=reserved)

    assert not reading.captured_queries  # from the numbers taken ahead: the series row is neither read nor locked
    assert first == ["R0010", "R0020"]
    assert more_than_left == ["R0040", "R0050"]  # from the series; R0030 was taken ahead and never used: a gap
    assert not_given == ["R0060"]  # numbers taken ahead go only to the writes they are handed to
    assert other_series == ["O1"]
    assert numbers_reserve(series=series, count=0) is None


@pytest.mark.django_db
def test_a_bulk_write_numbers_its_new_records_from_the_numbers_handed_to_it():
    series = SalesReceivablesSetupFactory(
        customer_nos=NoSeriesFactory(code="CUST", starting_no="C00010", increment_by=10)).customer_nos
    reserved = numbers_reserve(series=series, count=3)
    no_series_allocate(series=series)  # another writer meanwhile

    customers = Customer.objects.bulk_create([Customer(name="A"), Customer(name="B")], reserved=reserved)
    alone = Customer.objects.create(name="C")

    assert [c.no for c in customers] == ["C00010", "C00020"]
    assert alone.no == "C00050"


@pytest.mark.django_db
@pytest.mark.parametrize("reserve", [False, True], ids=["from the series", "taken ahead"])
def test_records_written_one_by_one_after_a_failed_bulk_write_do_not_take_numbers_the_series_gives_again(reserve):
    series = SalesReceivablesSetupFactory(
        customer_nos=NoSeriesFactory(code="CUST", starting_no="C00010", increment_by=10)).customer_nos
    Customer.objects.create(name="Taken", no="DUP")
    reserved = numbers_reserve(series=series, count=2) if reserve else None
    # The engine's write of new ERP records: in bulk, then one by one when the bulk write fails (here on B).
    written = DjangoSide(Customer).records_save([Customer(name="A"), Customer(name="B", no="DUP")], new=True,
                                                reserved=reserved)
    later = Customer.objects.create(name="C")  # a person's new customer: not refused as a duplicate No.

    assert [w.ok for w in written] == [True, False]
    numbers = list(Customer.objects.exclude(name="Taken").values_list("no", flat=True))
    assert len(numbers) == len(set(numbers)) == 2 and later.no in numbers


@contextmanager
def series_row_locked_elsewhere(code, mode):
    """Another session (another worker's transaction) holding the series row of ``code`` ``FOR <mode>``."""
    other = connections.create_connection("default")
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM erp_noseries WHERE code = %s FOR {mode}", [code])
        yield
    finally:
        other.rollback()
        other.close()


def allocate_waiting_half_a_second_at_most(series, count, reserved=None):
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '500ms'")
        return no_series_allocate(series=series, count=count, reserved=reserved)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_numbers_reserved_ahead_do_not_wait_for_another_transaction_holding_the_series_on_postgres():
    series = NoSeries.objects.create(code="RES", starting_no="R0010")
    reserved = numbers_reserve(series=series, count=5)
    with series_row_locked_elsewhere("RES", "UPDATE"):
        numbers = allocate_waiting_half_a_second_at_most(series, 5, reserved)
        with pytest.raises(OperationalError):  # the series itself waits
            allocate_waiting_half_a_second_at_most(series, 1)
    assert numbers == ["R0010", "R0011", "R0012", "R0013", "R0014"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_series_hands_out_numbers_while_another_transaction_commits_records_that_use_it_on_postgres():
    """A worker committing its chunk of customers checks their foreign key to the series (FOR KEY SHARE on its row);
    another worker taking numbers from that series meanwhile does not wait for that commit."""
    series = NoSeries.objects.create(code="FK", starting_no="F0010")
    with series_row_locked_elsewhere("FK", "KEY SHARE"):
        numbers = allocate_waiting_half_a_second_at_most(series, 2)
    assert numbers == ["F0010", "F0011"]
