"""RecordQuerySet.bulk_insert and insert_rows: what bulk_create writes and guarantees, through a lean INSERT."""

import uuid
import warnings
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, models
from django.db.models.functions import Upper
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from crm.models import Account, Contact, SalesOrder, SystemUser
from erp.models import BusinessRelation, ContactBusinessRelation, Customer, SalespersonPurchaser
from erp.models import Contact as ErpContact
from p2c import bulk_writes
from p2c.bulk_writes import insert_rows
from p2c.databases import database_for
from p2c.records import records_written
from tests.erp.business_relations_setup import configure

pytestmark = pytest.mark.django_db

SAMPLES = {
    str: ["", "x", "Ünïcode «q» 'x'"], bool: [True, False], int: [0, 7, -3, 2**40],
    uuid.UUID: [uuid.UUID(int=5), uuid.uuid4()], Decimal: [Decimal("0"), Decimal("12.50"), Decimal("-0.0001")],
}


def test_values_written_as_they_are_are_what_get_db_prep_save_gives_for_every_field_of_every_model():
    checked = 0
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            unchanged, hexed = bulk_writes._unchanged_types(field, connection)
            assert field.get_db_prep_save(None, connection) is None or type(None) not in unchanged
            for kind in unchanged - {type(None)}:
                for value in SAMPLES[kind]:
                    prepared = field.get_db_prep_save(value, connection)
                    if kind is int:  # PostgreSQL's Int2/Int4/Int8, for server-side binding: the same integer
                        assert isinstance(prepared, int) and prepared == value, (model, field.name, value)
                    else:
                        assert (type(prepared), prepared) == (kind, value), (model, field.name, value)
                    checked += 1
            for kind in hexed:
                for value in SAMPLES[kind]:
                    assert field.get_db_prep_save(value, connection) == value.hex, (model, field.name)
            if bulk_writes._aware_datetimes_unchanged(field, connection):  # PostgreSQL's date-time fields
                value = datetime(2026, 11, 23, 20, 15, 1, 123456, tzinfo=UTC)
                assert field.get_db_prep_save(value, connection) is value, (model, field.name)
                checked += 1
            if type(field) is models.DateTimeField:  # every database: what the bulk path writes for a date-time
                values = [datetime(2026, 11, 23, 20, 15, 1, 123456, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC),
                          datetime(2026, 7, 1, 9, 30, tzinfo=ZoneInfo("Europe/Stockholm")), None]
                for value in values:
                    assert bulk_writes.prepared_values(connection, field, [value]) == [
                        field.get_db_prep_save(value, connection)], (model, field.name, value)
                    checked += 1
                # a column: repeated stamps, one instant in two zones, the hour a clock set back repeats
                autumn = datetime(2026, 10, 25, 2, 30, tzinfo=ZoneInfo("Europe/Stockholm"))
                values += [values[0], datetime(2026, 7, 1, 7, 30, tzinfo=UTC), None, values[2], autumn,
                           autumn.replace(fold=1)]
                assert bulk_writes.prepared_values(connection, field, values) == [
                    field.get_db_prep_save(value, connection) for value in values], (model, field.name)
    assert checked > 500


def test_a_column_of_repeated_values_writes_what_get_db_prep_save_gives_each_of_them():
    """Values of a column converted once each (a decimal field's default 0 on every row), told apart by type as
    well as value: 1 and True are equal, and a text field writes them as "1" and "True"."""
    name = Account._meta.get_field("name")
    credit_limit = Account._meta.get_field("credit_limit")
    for field, values in ((name, [1, True, 1, True, 1.0, "1", None]),
                          (credit_limit, [0, 0, False, 0, "2.5", 2, None, Decimal("1.10")]),
                          (Customer._meta.get_field("contact_type"), [*ErpContact.Type, "", None])):
        assert _prepared(field, values) == [field.get_db_prep_save(value, connection) for value in values], field.name
    assert _prepared(name, [1, True]) == ["1", "True"]


_ZONES = st.sampled_from([UTC, ZoneInfo("Europe/Stockholm"), ZoneInfo("America/St_Johns"),
                           ZoneInfo("Asia/Kolkata"), timezone(timedelta(hours=5, minutes=30, seconds=15))])


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moments=st.lists(st.one_of(st.none(), st.datetimes(min_value=datetime(1, 1, 2), timezones=_ZONES),
                                  st.datetimes(min_value=datetime(1, 1, 2), timezones=st.none())), max_size=12),
       keys=st.lists(st.one_of(st.none(), st.uuids()), max_size=6))
def test_a_column_of_date_times_or_keys_writes_what_get_db_prep_save_gives_each_value(moments, keys):
    """Whatever a column of date-times holds (zones of every kind, offsets in seconds, fractions of a second or none,
    a naive value among aware ones, None), and a column of keys, the bulk path writes each value as Django would."""
    stamp, owner = Account._meta.get_field("createdon"), Account._meta.get_field("owner")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # Django's warning of a naive date-time, on both paths
        assert _prepared(stamp, moments) == [stamp.get_db_prep_save(value, connection) for value in moments]
    assert _prepared(owner, keys) == [owner.get_db_prep_save(value, connection) for value in keys]


def _prepared(field, values):
    """`prepared_values` of ``values``, holding the types `column_prepared` says they have (the writes choose a
    literal or a binary COPY by them) to the types of what it gives."""
    prepared, kinds = bulk_writes.column_prepared(connection, field, values)
    assert kinds is None or kinds == set(map(type, prepared)), (field.name, kinds, prepared)
    return prepared


def rows(model, pks, exclude=()):
    skip = {model._meta.pk.attname, "createdon", "modifiedon", "created_at", "modified_at", "system_id", *exclude}
    names = [f.attname for f in model._meta.concrete_fields if f.attname not in skip]
    return sorted(model.objects.filter(pk__in=pks).values_list(*names), key=repr)


def test_bulk_insert_writes_the_rows_bulk_create_writes():
    owner = SystemUser.objects.create(fullname="Owner")

    def accounts(tag):
        return [Account(name=f"A{i} «quoted» 'x'", owner=owner if i % 2 else None, credit_limit=Decimal(i) / 4,
                        number_of_employees=i or None, credit_on_hold=bool(i % 3), account_number=f"{tag}{i}",
                        revenue=None if i % 5 else Decimal("1000.5") if i % 10 else 2000,  # a mixed column
                        description="d" * (i % 7))
                for i in range(1203)]

    created = Account.objects.bulk_create(accounts("B"))
    inserted = Account.objects.bulk_insert(accounts("I"))
    assert rows(Account, [a.pk for a in inserted], exclude=["account_number"]) == rows(
        Account, [a.pk for a in created], exclude=["account_number"])
    assert sorted(Account.objects.filter(pk__in=[a.pk for a in inserted]).values_list("account_number", flat=True)) == [
        f"I{i}" for i in sorted(range(1203), key=str)]
    assert all(not a._state.adding and a._state.db == database_for(Account) for a in inserted)


def test_auto_increment_keys_come_back_in_order_and_derived_fields_are_set():
    salesperson = SalespersonPurchaser.objects.create(code="SP", name="S")
    customers = Customer.objects.bulk_insert(
        [Customer(no=f"C{i:05d}", name=f"c{i}", salesperson=salesperson, credit_limit_lcy=Decimal(i)) for i in range(1500)]
    )
    stored = dict(Customer.objects.values_list("pk", "no"))
    assert len(stored) == 1500
    assert all(stored[c.pk] == c.no for c in customers)
    row = Customer.objects.get(no="C00042")
    assert (row.search_name, row.salesperson_id, row.credit_limit_lcy) == ("C42", salesperson.pk, Decimal(42))
    assert row.created_at is not None and row.modified_at is not None


def test_numbers_flags_stamps_and_signal_as_on_bulk_create():
    account = Account.objects.create(name="Co")
    sent = []

    def receiver(sender, instances=None, created=False, **kwargs):
        if created:
            sent.append((sender, len(instances)))

    records_written.connect(receiver)
    try:
        contacts = Contact.objects.bulk_insert(
            [Contact(first_name="Ann", last_name=f"L{i}", parent_account=account if i % 2 else None) for i in range(5)]
        )
        orders = SalesOrder.objects.bulk_insert([SalesOrder(name="O", customer_contact=contacts[0])])
    finally:
        records_written.disconnect(receiver)
    assert sent == [(Contact, 5), (SalesOrder, 1)]
    stored = {c.pk: c for c in Contact.objects.all()}
    for contact in contacts:
        row = stored[contact.pk]
        assert row.contact_number.startswith("CON-") and row.contact_number == contact.contact_number
        assert row.full_name == f"Ann {contact.last_name}"
        assert row.is_company_an_account == (contact.parent_account_id is not None)
        assert row.createdon is not None and row.modifiedon >= row.createdon
    assert stored[contacts[0].pk].is_active_customer  # after_bulk_write of the order
    assert orders[0].number


def test_erp_hooks_run_a_new_customer_gets_its_contact_and_relation():
    configure()
    customers = Customer.objects.bulk_insert([Customer(name=f"Acme {i}", city="Oslo") for i in range(3)])
    assert [c.no for c in customers] == ["C00010", "C00011", "C00012"]
    relations = ContactBusinessRelation.objects.filter(no__in=[c.no for c in customers])
    assert relations.count() == 3
    assert set(ErpContact.objects.values_list("name", flat=True)) == {"Acme 0", "Acme 1", "Acme 2"}


def test_insert_rows_of_a_plain_model_and_an_expression_falls_back_to_bulk_create():
    contact = ErpContact.objects.bulk_insert([ErpContact(no="CT1", type="company", name="Co")])[0]
    code = BusinessRelation.objects.create(code="CUST")
    relation = ContactBusinessRelation(contact=contact, business_relation=code, link_to_table="customer", no="C1")
    assert insert_rows(ContactBusinessRelation.objects.all(), [relation])[0].pk is not None
    salesperson = insert_rows(SalespersonPurchaser.objects.all(),
                              [SalespersonPurchaser(code="X", name=Upper(models.Value("lower")))])[0]
    assert SalespersonPurchaser.objects.get(pk=salesperson.pk).name == "LOWER"


def test_unsaved_related_objects_are_refused_as_bulk_create_refuses_them():
    with pytest.raises(ValueError, match="unsaved related object 'owner'"):
        Account.objects.bulk_insert([Account(name="A", owner=SystemUser(fullname="Not saved", id=None))])
    owner = SystemUser.objects.create(fullname="Saved later")
    account = Account(name="B")
    account.owner = owner
    account.owner_id = None  # assigned before the owner had its key: bulk_create takes the key from the object
    account.owner = owner
    assert Account.objects.bulk_insert([account])[0].owner_id == owner.pk


def test_dates_and_empty_batches():
    from crm.models import Opportunity

    assert Opportunity.objects.bulk_insert([]) == []
    opportunities = Opportunity.objects.bulk_insert(
        [Opportunity(name=f"O{i}", estimated_close_date=date(2027, 1, i + 1)) for i in range(3)]
    )
    assert sorted(Opportunity.objects.filter(pk__in=[o.pk for o in opportunities])
                  .values_list("estimated_close_date", flat=True)) == [date(2027, 1, d) for d in (1, 2, 3)]


def test_meanwhile_runs_once_with_the_new_keys_and_a_failed_write_takes_them_back():
    configure()
    seen = []

    def meanwhile():
        seen.append([c.pk for c in customers])

    customers = [Customer(name=f"Acme {i}", city="Oslo") for i in range(3)]
    written = Customer.objects.bulk_insert(customers, meanwhile=meanwhile)
    assert len(seen) == 1 and None not in seen[0]
    assert seen[0] == [c.pk for c in written] == sorted(Customer.objects.values_list("pk", flat=True))

    # A number already taken: the write fails as a whole, after meanwhile ran; no key is left on the objects.
    seen.clear()
    customers = [Customer(name="New", no="N1"), Customer(name="Taken", no=written[0].no)]
    with pytest.raises(IntegrityError):
        Customer.objects.bulk_insert(customers, meanwhile=meanwhile)
    assert [c.pk for c in customers] == [None, None]
    assert len(seen) <= 1 and Customer.objects.count() == 3


def test_keys_taken_ahead_are_the_sequences_next_and_the_rows_are_written_with_them():
    """`keys_take` (a synchronisation's run, for the writer that writes its chunk): on PostgreSQL the new objects get
    the sequence's next keys before they are written, and keep them; elsewhere they get none, and the write gives
    them theirs. Objects that have a key keep it."""
    configure()
    before = Customer.objects.bulk_insert([Customer(name="Before", no="B0")])[0].pk
    customers = [Customer(name=f"Ahead {i}", no=f"A{i}") for i in range(3)]
    given = Customer(name="Given", no="G0", pk=before + 100)
    bulk_writes.keys_take([*customers, given], using=database_for(Customer))
    taken = [c.pk for c in customers]
    if connection.vendor == "postgresql":
        assert taken == list(range(before + 1, before + 4))
    else:
        assert taken == [None, None, None]
    Customer.objects.bulk_insert([*customers, given])
    if connection.vendor == "postgresql":
        assert [c.pk for c in customers] == taken
    else:  # the write gave them theirs, as SQLite would: after the largest key, the one given among them
        assert [c.pk for c in customers] == list(range(before + 101, before + 104))
    assert dict(Customer.objects.exclude(pk=before).values_list("no", "pk")) == {
        "A0": customers[0].pk, "A1": customers[1].pk, "A2": customers[2].pk, "G0": before + 100}


def test_new_keys_are_those_the_database_gives_never_one_it_gave_before():
    """The keys bulk_insert works out (SQLite) or takes (PostgreSQL's sequence) ahead of the write are the ones the
    database would give: above a deleted last row's, and the next row the database numbers itself follows them."""
    made = Customer.objects.bulk_insert([Customer(name=f"a{i}", no=f"K{i}") for i in range(3)])
    last = made[-1].pk
    Customer.objects.filter(pk=last).delete()
    again = Customer.objects.bulk_insert([Customer(name=f"b{i}", no=f"L{i}") for i in range(2)])
    assert [c.pk for c in again] == [last + 1, last + 2]
    assert Customer.objects.create(name="c", no="M1").pk == last + 3
    assert sorted(Customer.objects.values_list("no", flat=True)) == ["K0", "K1", "L0", "L1", "M1"]


def _stored(model, pks):
    """Each row's columns as SQLite stores them: their storage class and SQL text (``typeof``, ``quote``)."""
    columns = [f.column for f in model._meta.concrete_fields if f.column not in ("id", "createdon", "modifiedon")]
    select = ", ".join(f'typeof("{c}"), quote("{c}")' for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT {select} FROM "{model._meta.db_table}" WHERE id IN ({", ".join(["%s"] * len(pks))}) '
                       "ORDER BY name", [pk.hex if isinstance(pk, uuid.UUID) else pk for pk in pks])
        return cursor.fetchall()


@pytest.mark.sqlite_only  # SQLite's own storage of what it is sent: PostgreSQL's COPY is typed by its columns
@pytest.mark.parametrize("varying", [False, True])
def test_sqlite_stores_a_constant_written_in_the_statement_as_it_stores_it_bound(varying):
    """Columns holding one value over a batch go into SQLite's statement as literals (`_sqlite_parameters`), the
    others are bound: either way SQLite stores the same storage class and value as Django's bulk_create binds."""
    owner = SystemUser.objects.create(fullname="Owner")

    def accounts(tag):
        return [Account(name=f"{tag} {i}", owner=owner, credit_limit=Decimal("0.5") if varying and i else Decimal(0),
                        number_of_employees=(2**40 + i) if varying else 2**40, credit_on_hold=bool(i % 2 and varying),
                        customer_type_code=Account.RelationshipType.CUSTOMER, state_code="active",
                        account_number=f"{tag}{i}", telephone1="+46 (8) 555-01 ext. 7: a@b.se",
                        telephone2="50% 'quoted'" if not varying else f"{i}%", fax="x" * 65, industry="Ünïcode",
                        description="" if not varying else "d" * i, revenue=None)
                for i in range(3)]

    created = Account.objects.bulk_create(accounts("B"))
    inserted = Account.objects.bulk_insert(accounts("I"))
    bound, written = _stored(Account, [a.pk for a in created]), _stored(Account, [a.pk for a in inserted])
    names = [f.column for f in Account._meta.concrete_fields if f.column not in ("id", "createdon", "modifiedon")]
    for b, w in zip(bound, written, strict=True):
        for i, column in enumerate(names):
            if column not in ("name", "account_number"):
                assert w[2 * i: 2 * i + 2] == b[2 * i: 2 * i + 2], (column, w[2 * i: 2 * i + 2], b[2 * i: 2 * i + 2])


def test_sqlite_writes_in_the_statement_only_constants_it_can_write_as_they_are():
    placeholders, bound = bulk_writes._sqlite_parameters([
        [None, None], [0, 0], [True, True], ["erp.Customer", "erp.Customer"], [ErpContact.Type.COMPANY] * 2,
        ["50%", "50%"], ["O'Neil", "O'Neil"], ["x" * 65] * 2, [2**63, 2**63], [1, True], [True, False],
        [ErpContact.Type.PERSON, None], ["a", "b"]])
    assert placeholders == ["NULL", "0", "1", "'erp.Customer'", "'company'", *["%s"] * 8]
    assert bound == [["50%", "50%"], ["O'Neil", "O'Neil"], ["x" * 65] * 2, [2**63, 2**63], [1, 1], [1, 0],
                     ["person", None], ["a", "b"]]
    assert [list(map(type, column)) for column in bound[4:7]] == [[int, int], [int, int], [str, type(None)]]


@pytest.mark.postgres
def test_postgresql_copies_in_binary_what_a_text_copy_writes_and_falls_back_to_text_for_other_values(monkeypatch):
    """On PostgreSQL new rows go in by COPY in binary (psycopg formats no text) where every column's values are of a
    type its binary form takes as it is; the rows read back as a text COPY writes them, and a value binary would not
    take as it is (a naive date-time, a boolean in an integer column) keeps the text COPY."""
    owner = SystemUser.objects.create(fullname="Owner")
    stamp = datetime(2026, 11, 26, 9, 30, 15, 123456, tzinfo=ZoneInfo("Europe/Stockholm"))

    def accounts(tag):
        return [Account(name=f"A{i} «quoted» 'x'\\t\n", owner=owner if i % 2 else None, credit_limit=Decimal(i) / 4,
                        number_of_employees=i or None, credit_on_hold=bool(i % 3), account_number=f"{tag}{i}",
                        revenue=None if i % 5 else Decimal("-1000.5"), createdon=stamp, description="d" * (i % 7))
                for i in range(30)]

    copies = []
    binary_copy_types = bulk_writes._binary_copy_types
    monkeypatch.setattr(bulk_writes, "_binary_copy_types",
                        lambda *args: copies.append(binary_copy_types(*args)) or copies[-1])
    binary = Account.objects.bulk_insert(accounts("B"))
    assert copies and copies[-1] is not None and "uuid" in copies[-1] and "numeric" in copies[-1]
    monkeypatch.setattr(bulk_writes, "_binary_copy_types", lambda *args: None)
    text = Account.objects.bulk_insert(accounts("T"))
    assert rows(Account, [a.pk for a in binary], exclude=["account_number"]) == rows(
        Account, [a.pk for a in text], exclude=["account_number"])
    monkeypatch.setattr(bulk_writes, "_binary_copy_types",
                        lambda *args: copies.append(binary_copy_types(*args)) or copies[-1])
    # A zoned date-time and JSON, as the engine writes new couplings (columns, no instances)
    from integration.models import Coupling

    kept = {"fields": {"name": ["A", "a"], "no": "C1", "amount": "12.5"}}
    values = {f.attname: f.get_default() for f in Coupling._meta.concrete_fields if not f.primary_key}
    values.update(erp_model="erp.Customer", crm_model="crm.Account", erp_id=2**40, crm_id=binary[0].pk,
                  last_synced_crm_modified=stamp, synced_values=kept, created_at=stamp)
    bulk_writes.insert_values_prepare(Coupling.objects.all(), list(values), [[v] for v in values.values()])()
    assert copies[-1] is not None and "timestamptz" in copies[-1] and "json" in copies[-1]
    assert Coupling.objects.values_list("last_synced_crm_modified", "synced_values").get() == (stamp, kept)

    fields = [Account._meta.get_field(name) for name in ("name", "number_of_employees", "createdon")]
    assert binary_copy_types(connection, fields, [["x"], [7], [stamp]]) == ["varchar", "int4", "timestamptz"]
    assert binary_copy_types(connection, fields, [["x"], [True], [stamp]]) is None
    assert binary_copy_types(connection, fields, [["x"], [None], [stamp.replace(tzinfo=None)]]) is None
