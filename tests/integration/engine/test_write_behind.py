"""Chunks of new rows written behind (engine/write_behind.py), on PostgreSQL: by a thread of their own while the
next chunk is read, in order, each whole, counted once committed, their messages in the caller's language; a write
that fails fails the job as before, leaving whole chunks that a rerun completes without duplicates. With Sales in a
database of its own, ERP → Sales chunks too, each intended, written and confirmed before it is counted."""

import threading

import pytest
from django.db import connections
from django.utils import translation

from crm.models import Account
from erp.models import Customer
from integration.engine import sync
from integration.engine.sync import mapping_synchronize
from integration.models import Coupling, CouplingIntent, SyncJob
from p2c.databases import sales_separate

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

FROM = "from_integration"  # Sales accounts → ERP customers
TO = "to_integration"  # ERP customers → Sales accounts


def accounts(n, owner, start=0):
    Account.objects.bulk_create([Account(name=f"Account {i}", customer_type_code="customer", owner=owner)
                                 for i in range(start, start + n)])


def writers(monkeypatch):
    """(thread name, active language, couplings read) of each chunk written by `ChunkRun.write_decided`."""
    seen, real = [], sync.ChunkRun.write_decided

    def spy(self):
        seen.append((threading.current_thread().name, translation.get_language(), len(self.couplings)))
        return real(self)

    monkeypatch.setattr(sync.ChunkRun, "write_decided", spy)
    return seen


def committed(model):
    """Rows of ``model`` another connection sees: what is committed."""
    other = connections.create_connection(model.objects.db)
    try:
        with other.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {model._meta.db_table}")
            return cursor.fetchone()[0]
    finally:
        other.close()


def test_chunks_of_new_rows_are_written_behind_in_order_and_counted_once_committed(
        customer_mapping, salesperson_pair, settings, monkeypatch):
    settings.P2C_SYNC_CHUNK_SIZE = 100
    _, owner = salesperson_pair
    accounts(450, owner)
    seen, counted, couplings_before = writers(monkeypatch), [], committed(Coupling)  # the salesperson's

    def progress(*, job, done, total):
        counted.append((job.inserted, committed(Coupling) - couplings_before, committed(Customer)))

    with translation.override("fr"):
        [job] = mapping_synchronize(mapping=customer_mapping, direction=FROM, progress=progress)

    assert (job.status, job.inserted, job.failed) == ("success", 450, 0), job.message
    assert [name.startswith("p2c-chunk-writer") for name, _, _ in seen] == [True] * 5
    assert {language for _, language, _ in seen} == {"fr"}
    # each chunk counted once it was committed, customers and couplings together
    assert counted == [(n, n, n) for n in (100, 200, 300, 400, 450)]
    assert Customer.objects.count() == Coupling.objects.filter(erp_model="erp.Customer").count() == 450
    assert {name for name in (t.name for t in threading.enumerate()) if name.startswith("p2c-chunk-writer")} == set()


def test_without_write_behind_the_same_rows_are_written_one_chunk_at_a_time(
        customer_mapping, salesperson_pair, settings, monkeypatch):
    settings.P2C_SYNC_CHUNK_SIZE = 100
    settings.P2C_SYNC_WRITE_BEHIND = False
    _, owner = salesperson_pair
    accounts(250, owner)
    seen = writers(monkeypatch)

    [job] = mapping_synchronize(mapping=customer_mapping, direction=FROM)

    assert (job.status, job.inserted) == ("success", 250)
    assert seen == []
    assert Customer.objects.count() == Coupling.objects.filter(erp_model="erp.Customer").count() == 250


def test_a_chunk_whose_write_fails_behind_fails_the_job_and_leaves_whole_chunks_a_rerun_completes(
        customer_mapping, salesperson_pair, settings, monkeypatch):
    settings.P2C_SYNC_CHUNK_SIZE = 100
    _, owner = salesperson_pair
    accounts(350, owner)
    real_write, calls = sync.ChunkRun._write_couplings, []

    def write_then_crash(self):
        calls.append(threading.current_thread().name)
        real_write(self)
        if len(calls) == 2:
            raise RuntimeError("the disk is full")

    monkeypatch.setattr(sync.ChunkRun, "_write_couplings", write_then_crash)
    [crashed] = mapping_synchronize(mapping=customer_mapping, direction=FROM)

    assert crashed.status == SyncJob.Status.FAILED and "the disk is full" in crashed.message
    assert all(name.startswith("p2c-chunk-writer") for name in calls)
    assert crashed.inserted == 100  # the chunk committed, not the one rolled back
    assert Customer.objects.count() == Coupling.objects.filter(erp_model="erp.Customer").count() == 100
    customer_mapping.refresh_from_db()
    assert customer_mapping.locked_by == ""

    monkeypatch.setattr(sync.ChunkRun, "_write_couplings", real_write)
    [rerun] = mapping_synchronize(mapping=customer_mapping, direction=FROM)

    assert (rerun.status, rerun.inserted, rerun.failed) == ("success", 250, 0), rerun.message
    assert Customer.objects.count() == Coupling.objects.filter(erp_model="erp.Customer").count() == 350


def test_chunks_with_coupled_rows_are_decided_and_written_with_their_rows_locked_not_behind(
        customer_mapping, salesperson_pair, settings, monkeypatch):
    """A second load: 200 accounts coupled and changed since, 100 new, in chunks of both (keys are UUIDs)."""
    settings.P2C_SYNC_CHUNK_SIZE = 100
    _, owner = salesperson_pair
    accounts(200, owner)
    mapping_synchronize(mapping=customer_mapping, direction=FROM)
    Account.objects.update(telephone1="+46 8 123 4567")
    accounts(100, owner, start=200)
    seen = writers(monkeypatch)

    [job] = mapping_synchronize(mapping=customer_mapping, direction=FROM)

    assert (job.status, job.modified, job.inserted, job.failed) == ("success", 200, 100, 0), job.message
    assert {couplings for _, _, couplings in seen} <= {0}  # only chunks without a coupled row were written behind
    assert Customer.objects.filter(phone_no="+46 8 123 4567").count() == 200
    assert Customer.objects.count() == Coupling.objects.filter(erp_model="erp.Customer").count() == 300


@pytest.mark.skipif(not sales_separate(), reason="needs Sales in a database of its own: set SALES_DATABASE_URL")
def test_with_sales_in_a_database_of_its_own_chunks_are_intended_written_and_confirmed_behind_in_order(
        customer_mapping, salesperson_pair, settings, monkeypatch):
    settings.P2C_SYNC_CHUNK_SIZE = 100
    salesperson, _ = salesperson_pair
    Customer.objects.bulk_create([Customer(no=f"C{i:04d}", name=f"Customer {i}", salesperson=salesperson)
                                  for i in range(250)])
    seen, counted, couplings_before = writers(monkeypatch), [], committed(Coupling)  # the salesperson's

    def progress(*, job, done, total):
        counted.append((job.inserted, committed(Account), committed(Coupling) - couplings_before,
                        committed(CouplingIntent)))

    [job] = mapping_synchronize(mapping=customer_mapping, direction=TO, progress=progress)

    assert (job.status, job.inserted, job.failed) == ("success", 250, 0), job.message
    assert [name.startswith("p2c-chunk-writer") for name, _, _ in seen] == [True] * 3
    # each chunk counted once its accounts and couplings were committed, and its intents forgotten
    assert counted == [(n, n, n, 0) for n in (100, 200, 250)]
    assert Account.objects.count() == Coupling.objects.filter(crm_model="crm.Account").count() == 250
