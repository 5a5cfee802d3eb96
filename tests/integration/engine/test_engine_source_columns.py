"""A run reads the source columns it needs (docs/decisions.md#write-paths); a column left out is read for a whole chunk
when touched."""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from crm.models import Account
from erp.models import Customer
from integration.engine.sync import mapping_synchronize
from integration.rules.customer import Rules as CustomerRules
from p2c.records import instances_from_rows
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

FROM = "from_integration"


def _account_selects(queries):
    table = Account._meta.db_table
    return [q["sql"] for q in queries if q["sql"].startswith("SELECT") and f'FROM "{table}"' in q["sql"]]


def _column(name):
    return f'"{Account._meta.db_table}"."{name}"'


def test_a_run_reads_the_mapped_columns_not_every_column(customer_mapping):
    AccountFactory.create_batch(3, address1_line3="A line no field mapping carries")

    with CaptureQueriesContext(connections[Account.objects.db]) as queries:
        [job] = mapping_synchronize(mapping=customer_mapping, direction=FROM, full=True)

    assert (job.status, job.inserted) == ("success", 3)
    [page] = [sql for sql in _account_selects(queries.captured_queries) if "ORDER BY" in sql]
    assert _column("emailaddress1") in page and _column("name") in page  # mapped, and the record's label
    assert _column("modifiedon") in page and _column("modifiedby_id") in page  # what the engine itself reads
    assert _column("address1_line3") not in page and _column("revenue") not in page
    assert sorted(Customer.objects.values_list("email", flat=True)) == sorted(
        Account.objects.values_list("emailaddress1", flat=True))


def test_a_rule_reading_a_column_left_out_gets_it_in_one_query_a_chunk(customer_mapping, settings, monkeypatch):
    settings.P2C_SYNC_CHUNK_SIZE = 4
    accounts = [AccountFactory(address1_line3=f"Floor {n}", name=f"Account {n}") for n in range(10)]

    def transfer(self, source, destination, values, *, plan, context):
        values["name_2"] = source.address1_line3  # a column no field mapping reads, nor the rules declare

    monkeypatch.setattr(CustomerRules, "transfer", transfer)
    with CaptureQueriesContext(connections[Account.objects.db]) as queries:
        [job] = mapping_synchronize(mapping=customer_mapping, direction=FROM, full=True)

    assert (job.status, job.inserted) == ("success", 10)
    assert dict(Customer.objects.values_list("name", "name_2")) == {a.name: a.address1_line3 for a in accounts}
    # three chunks (4, 4, 2 rows): one read of the left-out columns each, not one per row
    selects = _account_selects(queries.captured_queries)
    pages = [sql for sql in selects if "LIMIT" in sql]
    reads = [sql for sql in selects if "LIMIT" not in sql and _column("address1_line3") in sql]
    assert len(pages) == 3 and not any(_column("address1_line3") in sql for sql in pages)
    assert len(reads) == 3


def test_instances_read_with_columns_left_out_load_them_together_on_first_touch():
    accounts = AccountFactory.create_batch(3, description="Stored", revenue=1000)
    read = instances_from_rows(Account, Account.objects.db, ["id", "name"],
                               Account.objects.order_by("pk").values_list("id", "name"))
    first, second, third = read
    second.description = "Set before it was read"  # what the code set stays: not replaced by the stored value
    Account.objects.filter(pk=third.pk).update(revenue=2000)

    with CaptureQueriesContext(connections[Account.objects.db]) as queries:
        assert first.description == "Stored"
        assert [a.revenue for a in read] == [1000, 1000, 2000]  # read when first touched: after the update
        assert second.description == "Set before it was read" and third.description == "Stored"
    assert len(queries.captured_queries) == 1
    assert {a.pk for a in read} == {a.pk for a in accounts}


def test_a_row_deleted_since_the_read_answers_as_django_does():
    [account] = AccountFactory.create_batch(1)
    [read] = instances_from_rows(Account, Account.objects.db, ["id", "name"],
                                 Account.objects.values_list("id", "name"))
    Account.objects.filter(pk=account.pk).delete()

    with pytest.raises(Account.DoesNotExist):
        read.description  # noqa: B018 (the attribute's read is the test)
