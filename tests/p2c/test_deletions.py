"""The deletion log (p2c.deletions): every Sales record deleted through the ORM leaves one entry, in the delete's own
transaction, written in bulk; old entries are pruned."""

from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.models import Account, DeletedRecord, Quote, QuoteDetail
from p2c.databases import sales_database
from tests.factories import AccountFactory, DeletedRecordFactory, QuoteDetailFactory

pytestmark = pytest.mark.django_db


def entries():
    return set(DeletedRecord.objects.values_list("model", "record_id"))


def test_a_deleted_record_is_logged_with_its_table_key_and_time():
    account = AccountFactory()
    key, before = account.pk, timezone.now()

    account.delete()

    [entry] = DeletedRecord.objects.all()
    assert (entry.model, entry.record_id) == ("crm.Account", key)
    assert before <= entry.deleted_on <= timezone.now()
    assert DeletedRecord.deleted_since(Account, before - timedelta(seconds=1)) == {key}
    assert DeletedRecord.deleted_since(Account, timezone.now()) == set()


def test_a_queryset_delete_logs_every_record_in_a_few_statements():
    accounts = Account.objects.bulk_create(AccountFactory.build_batch(2500))

    with CaptureQueriesContext(connections[sales_database()]) as queries:
        Account.objects.filter(pk__in=[a.pk for a in accounts]).delete()

    assert entries() == {("crm.Account", a.pk) for a in accounts}
    inserts = [q for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "crm_deletedrecord"')]
    assert len(inserts) == 3  # a thousand entries per statement, not one per record


def test_the_records_a_delete_cascades_to_are_logged_too():
    line = QuoteDetailFactory()

    Quote.objects.filter(pk=line.quote_id).delete()

    assert not QuoteDetail.objects.exists()
    assert entries() == {("crm.Quote", line.quote_id), ("crm.QuoteDetail", line.pk)}


def test_a_delete_that_rolls_back_leaves_no_entry():
    account = AccountFactory()
    key = account.pk

    with pytest.raises(RuntimeError), transaction.atomic(using=sales_database()):
        account.delete()
        raise RuntimeError("the caller fails after the delete")

    assert Account.objects.filter(pk=key).exists()
    assert not DeletedRecord.objects.exists()


def test_entries_past_retention_are_pruned_when_the_table_logs_new_ones():
    old = timezone.now() - DeletedRecord.RETENTION - timedelta(hours=1)
    DeletedRecordFactory(model="crm.Account", deleted_on=old)
    kept = DeletedRecordFactory(model="crm.Account", deleted_on=timezone.now() - timedelta(days=1))
    other_table = DeletedRecordFactory(model="crm.Contact", deleted_on=old)  # pruned when contacts are deleted
    account = AccountFactory()
    key = account.pk

    account.delete()

    assert entries() == {("crm.Account", kept.record_id), ("crm.Contact", other_table.record_id),
                         ("crm.Account", key)}


def test_a_manager_deletes_nothing_without_a_queryset():
    # Account.objects.delete() would empty the table: like Django's own, the delete is the queryset's alone
    assert not hasattr(Account.objects, "delete")
    assert not hasattr(Quote.objects, "delete")
