"""p2c.bulk_reads.rows_read: the rows ``values_list`` gives, value for value and type for type, read a column at a
time (on SQLite, its UUIDs, date-times and booleans converted a column at a time too)."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from crm.models import Account, SystemUser
from erp.models import Customer
from integration.models import Coupling
from p2c.bulk_reads import rows_read, uuid_of_hex

pytestmark = pytest.mark.django_db


def _same(queryset):
    expected, read = list(queryset), rows_read(queryset)
    assert read == expected
    assert [tuple(map(type, row)) for row in read] == [tuple(map(type, row)) for row in expected]
    return read


def _every_column(model):
    return model.objects.order_by("pk").values_list(*[f.attname for f in model._meta.concrete_fields])


def test_every_column_of_sources_and_couplings_reads_as_values_list_reads_it():
    accounts = [Account.objects.create(name="Ünïcode «q»", credit_limit=Decimal("12.50"), credit_on_hold=True),
                Account.objects.create(name="Plain")]
    Customer.objects.create(name="Acme", no="C1", blocked="")
    Coupling.objects.create(erp_model="erp.Customer", crm_model="crm.Account", erp_id=1, crm_id=accounts[0].pk,
                            last_synced_crm_modified=datetime(2026, 11, 25, 9, 30, 15, 123456, tzinfo=UTC),
                            synced_values={"erp": {"name": "Acme"}, "crm": {"name": None}}, skipped=True)
    read = _same(_every_column(Account))
    assert isinstance(read[0][0], uuid.UUID) and read[0][1].tzinfo is not None
    _same(_every_column(Customer))
    [coupling] = _same(_every_column(Coupling))
    assert datetime(2026, 11, 25, 9, 30, 15, 123456, tzinfo=UTC) in coupling and True in coupling
    _same(Account.objects.filter(name="nobody").values_list("pk", "name"))  # no row


@pytest.mark.sqlite_only  # SQLite keeps date-times as text; on PostgreSQL the driver converts them
def test_date_times_that_are_not_iso_text_go_through_django_own_converter():
    account = Account.objects.create(name="Co")
    with connection.cursor() as cursor:  # a value another program wrote: Django's parser still reads it
        cursor.execute("UPDATE crm_account SET createdon = %s WHERE id = %s", ["2026-11-25 9:05:01", account.pk.hex])
    [(created,)] = _same(Account.objects.values_list("createdon"))
    assert created == datetime(2026, 11, 25, 9, 5, 1, tzinfo=UTC)


def test_other_querysets_read_as_django_reads_them():
    Account.objects.create(name="Co")
    assert rows_read(Account.objects.values_list("name", flat=True)) == ["Co"]
    assert rows_read(Account.objects.values("name")) == [{"name": "Co"}]


def test_a_key_many_rows_share_reads_as_the_same_key_on_each_and_none_stays_none():
    owner = SystemUser.objects.create(fullname="Anna Andersson")
    for name in ("A", "B", "C"):
        Account.objects.create(name=name, owner=owner)
    Account.objects.create(name="D")
    read = _same(Account.objects.order_by("name").values_list("name", "owner_id"))
    assert [o for _, o in read] == [owner.pk, owner.pk, owner.pk, None]


def test_lookups_read_together_give_what_each_gives_alone():
    """pairs_read: key → value lookups of several tables (ERP codes and ids, Sales keys and codes, a coupling's two
    ids) read in one statement per database, pair for pair and type for type as each values_list reads them."""
    from erp.models import PaymentTerms, ShipmentMethod
    from integration.binder import counterparts_query
    from p2c.bulk_reads import pairs_read

    terms = [PaymentTerms.objects.create(code=code, description=code) for code in ("14D", "1M(8D)", "Ünï")]
    ShipmentMethod.objects.create(code="EXW", description="Ex works")
    account = Account.objects.create(name="Coupled")
    Coupling.objects.create(erp_model="erp.Customer", crm_model="crm.Account", erp_id=7, crm_id=account.pk)
    queries = [
        PaymentTerms.objects.filter(code__in=["14D", "Ünï", "none"]).values_list("code", "pk"),
        PaymentTerms.objects.filter(pk__in=[t.pk for t in terms]).values_list("pk", "description"),
        ShipmentMethod.objects.filter(code__in=[]).values_list("code", "pk"),  # matches nothing: no query
        counterparts_query("crm.Account", [account.pk, uuid.uuid4()], to="erp.Customer"),
        counterparts_query("erp.Customer", [7], to="crm.Account"),
        Account.objects.values_list("pk", "credit_limit"),  # a decimal: read on its own
        PaymentTerms.objects.order_by("code")[:1].values_list("code", "pk"),  # a slice: read on its own
    ]
    read = pairs_read(queries)
    expected = [list(query) for query in queries]
    assert [sorted(rows, key=str) for rows in read] == [sorted(rows, key=str) for rows in expected]
    assert [[tuple(map(type, row)) for row in rows] for rows in read] == [
        [tuple(map(type, row)) for row in rows] for rows in expected]
    assert read[3] == [(account.pk, 7)] and isinstance(read[3][0][0], uuid.UUID)
    assert read[4] == [(7, account.pk)]
    assert read[2] == []


def test_lookups_read_together_cost_one_statement(django_assert_num_queries):
    from erp.models import PaymentTerms, ShipmentMethod, ShippingAgent
    from p2c.bulk_reads import pairs_read

    PaymentTerms.objects.create(code="14D", description="14 days")
    ShipmentMethod.objects.create(code="EXW", description="Ex works")
    queries = [model.objects.filter(code__in=["14D", "EXW", "DHL"]).values_list("code", "pk")
               for model in (PaymentTerms, ShipmentMethod, ShippingAgent)]
    with django_assert_num_queries(1):
        read = pairs_read(queries)
    assert [dict(rows) for rows in read] == [{"14D": PaymentTerms.objects.get().pk},
                                             {"EXW": ShipmentMethod.objects.get().pk}, {}]


def _made(make, text):
    try:
        return make(text)
    except ValueError as exc:
        return type(exc)


@pytest.mark.django_db(False)
@given(st.one_of(st.uuids().map(lambda key: key.hex), st.text(alphabet="0123456789abcdefABCDEFg_+- {}", min_size=30,
                                                               max_size=34)))
def test_a_uuid_read_from_its_text_is_the_one_uuid_makes_of_it(text):
    """A key read as 32 hexadecimal digits (SQLite's form) is made without the constructor: the same key, or the same
    error for text that is not one."""
    made, expected = _made(uuid_of_hex, text), _made(uuid.UUID, text)
    assert made == expected and str(made) == str(expected)
    if isinstance(expected, uuid.UUID):
        assert (made.version, made.is_safe, hash(made)) == (expected.version, expected.is_safe, hash(expected))
