"""p2c.bulk_reads.rows_read: the rows ``values_list`` gives, value for value and type for type, read a column at a
time (on SQLite, its UUIDs, date-times and booleans converted a column at a time too)."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection

from crm.models import Account, SystemUser
from erp.models import Customer
from integration.models import Coupling
from p2c.bulk_reads import rows_read

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
