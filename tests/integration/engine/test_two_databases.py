"""Sales in a database of its own (docs/decisions.md#two-databases-intents-recorded-first): the router, intents
completed after a stopped run, and a Sales database that goes away in the middle of a run.

The whole suite runs with Sales in a second PostgreSQL database in CI's PostgreSQL pass (SALES_DATABASE_URL), where
PostgreSQL itself refuses any query that joins or nests tables of the two; the tests here check what that pass
cannot see by itself.
"""

import pytest
from django.core.management import call_command
from django.db import connections

from crm.models import Account, SystemUser
from erp.models import Customer
from integration.engine.intents import intents_complete, intents_record
from integration.engine.plan import plan_build
from integration.engine.sync import mapping_synchronize
from integration.models import Coupling, CouplingIntent, FailedInsert, SyncJob
from p2c.databases import SALES, database_for, sales_database, sales_separate

TO = "to_integration"
needs_two_databases = pytest.mark.skipif(
    not sales_separate(), reason="needs Sales in a database of its own: set SALES_DATABASE_URL=postgres://...")


def customers(n, salesperson, prefix="C"):
    return Customer.objects.bulk_create([Customer(no=f"{prefix}{i:04d}", name=f"Customer {prefix}{i}",
                                                  salesperson=salesperson) for i in range(n)])


# -- the router --------------------------------------------------------------------------------------------------------
def test_sales_models_go_to_the_sales_database_and_everything_else_to_default():
    assert database_for(Account) == database_for(SystemUser) == sales_database()
    assert database_for(Customer) == database_for(Coupling) == "default"
    assert sales_database() == (SALES if sales_separate() else "default")


@needs_two_databases
@pytest.mark.django_db(transaction=True)
def test_each_database_holds_only_its_own_tables():
    sales_tables = set(connections[SALES].introspection.table_names())
    erp_tables = set(connections["default"].introspection.table_names())
    assert {"crm_account", "crm_systemuser"} <= sales_tables
    assert not any(t.startswith(("erp_", "integration_", "auth_")) for t in sales_tables)
    assert {"erp_customer", "integration_coupling", "auth_user"} <= erp_tables
    assert not any(t.startswith("crm_") for t in erp_tables)
    call_command("migrate", database=SALES, verbosity=0, check=True)  # nothing left to apply on either
    call_command("migrate", verbosity=0, check=True)


# -- intents of a stopped run ------------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_intents_of_a_stopped_run_adopt_what_reached_sales_and_forget_the_rest(customer_mapping, salesperson_pair,
                                                                               integration_user):
    salesperson, _ = salesperson_pair
    written, lost = customers(2, salesperson)
    plan = plan_build(mapping=customer_mapping, direction=TO)
    job = SyncJob.objects.create(table_mapping=customer_mapping, mapping_name="CUSTOMER", direction=TO,
                                 status=SyncJob.Status.FAILED)
    reached = Account(name=written.name)
    missed = Account(name=lost.name)
    intents_record(plan=plan, job=job, inserts=[(written, reached), (lost, missed)])
    reached.save()  # the Sales write of one of them committed before the process was killed

    adopted, forgotten = intents_complete(erp_model="erp.Customer", crm_model="crm.Account",
                                          integration_user_id=integration_user.pk)

    assert (adopted, forgotten) == (1, 1)
    assert not CouplingIntent.objects.exists()
    coupling = Coupling.objects.get(erp_model="erp.Customer", crm_model="crm.Account")
    assert (coupling.erp_id, coupling.crm_id) == (written.pk, reached.pk)
    assert coupling.last_synced_crm_modified == Account.objects.get(pk=reached.pk).modifiedon
    # The next run finds the adopted pair unchanged and creates the lost one, once.
    [job] = mapping_synchronize(mapping=customer_mapping, direction=TO)
    assert (job.status, job.inserted, job.unchanged) == (SyncJob.Status.SUCCESS, 1, 1), job.counts()
    assert Account.objects.count() == Coupling.objects.filter(crm_model="crm.Account").count() == 2


@pytest.mark.django_db(transaction=True)
def test_intents_completed_in_several_batches_are_told_once_with_their_totals(customer_mapping, salesperson_pair,
                                                                              integration_user, monkeypatch, caplog):
    monkeypatch.setattr("integration.engine.intents.COMPLETE_BATCH", 2)
    salesperson, _ = salesperson_pair
    made = customers(5, salesperson)
    plan = plan_build(mapping=customer_mapping, direction=TO)
    job = SyncJob.objects.create(table_mapping=customer_mapping, mapping_name="CUSTOMER", direction=TO,
                                 status=SyncJob.Status.FAILED)
    accounts = [Account(name=customer.name) for customer in made]
    intents_record(plan=plan, job=job, inserts=list(zip(made, accounts, strict=True)))
    for account in accounts[:3]:  # three of the five Sales writes committed before the process was killed
        account.save()

    with caplog.at_level("INFO", logger="p2c.integration"):
        assert intents_complete(integration_user_id=integration_user.pk) == (3, 2)

    told = [r.getMessage() for r in caplog.records if "intended Sales writes" in r.getMessage()]
    assert told == ["Completed 5 intended Sales writes of erp.Customer ↔ crm.Account after a stopped run: 3 had "
                    "reached Sales (their couplings made or refreshed), 2 had not (the next run writes them)"]
    assert Coupling.objects.filter(crm_model="crm.Account").count() == 3


@pytest.mark.django_db(transaction=True)
def test_intents_of_a_running_job_are_left_to_it(customer_mapping, salesperson_pair):
    salesperson, _ = salesperson_pair
    [customer] = customers(1, salesperson)
    plan = plan_build(mapping=customer_mapping, direction=TO)
    running = SyncJob.objects.create(table_mapping=customer_mapping, mapping_name="CUSTOMER", direction=TO,
                                     status=SyncJob.Status.RUNNING)
    intents_record(plan=plan, job=running, inserts=[(customer, Account(name="Not yet written"))])

    assert intents_complete() == (0, 0)
    assert CouplingIntent.objects.count() == 1


# -- the Sales database goes away mid-run ------------------------------------------------------------------------------
def _after_first_chunk(action):
    calls = []

    def progress(*, job, done, total):
        calls.append(done)
        if len(calls) == 1:
            action()

    return progress


def _sales_connection_killed():
    pid = connections[SALES].connection.info.backend_pid
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


def _sales_read_only():
    with connections[SALES].cursor() as cursor:
        cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")


@needs_two_databases
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("takes_it_away", "says"), [
    (_sales_connection_killed, "did not answer"),
    (_sales_read_only, "refused the write"),
])
def test_a_sales_database_that_goes_away_mid_run_fails_the_job_cleanly_and_the_next_run_completes(
    customer_mapping, salesperson_pair, settings, takes_it_away, says
):
    """One chunk at a time: the run's own connection is the one that fails (written behind, below)."""
    salesperson, _ = salesperson_pair
    settings.P2C_SYNC_CHUNK_SIZE = 4
    settings.P2C_SYNC_WRITE_BEHIND = False
    customers(10, salesperson)

    try:
        [job] = mapping_synchronize(mapping=customer_mapping, direction=TO,
                                    progress=_after_first_chunk(takes_it_away))
    finally:
        connections[SALES].close()  # the database is back: a new connection, read-write

    assert job.status == SyncJob.Status.FAILED
    assert f"The Sales database ({SALES}) {says}" in job.message, job.message
    # Nothing half-written on the ERP side: the first chunk whole and coupled, no intents, no failed records.
    assert Account.objects.count() == Coupling.objects.filter(crm_model="crm.Account").count() == 4
    assert not CouplingIntent.objects.exists()
    assert not FailedInsert.objects.exists() and not job.errors.exists()
    customer_mapping.refresh_from_db()
    assert customer_mapping.erp_watermark is None  # the failed run did not move it

    [rerun] = mapping_synchronize(mapping=customer_mapping, direction=TO)
    assert (rerun.status, rerun.inserted, rerun.unchanged) == (SyncJob.Status.SUCCESS, 6, 4), rerun.counts()
    assert Account.objects.count() == Coupling.objects.filter(crm_model="crm.Account").count() == 10


def _sales_connections_killed():
    """Every connection to the Sales database ends (the writer thread's too), as when its server restarts."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                       [connections[SALES].settings_dict["NAME"]])


@needs_two_databases
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sales_database_that_goes_away_while_chunks_are_written_behind_leaves_whole_chunks(
    customer_mapping, salesperson_pair, settings
):
    """Chunks of new accounts are written behind (engine/write_behind.py); the chunk in flight when Sales goes away
    is written whole or not at all, and the rerun creates the rest once."""
    salesperson, _ = salesperson_pair
    settings.P2C_SYNC_CHUNK_SIZE = 4
    customers(12, salesperson)

    try:
        [job] = mapping_synchronize(mapping=customer_mapping, direction=TO,
                                    progress=_after_first_chunk(_sales_connections_killed))
    finally:
        connections[SALES].close()

    assert job.status == SyncJob.Status.FAILED
    assert f"The Sales database ({SALES}) did not answer" in job.message, job.message
    written = Account.objects.count()
    assert written in (4, 8)  # the first chunk, and the one in flight if it was committed before
    assert job.inserted == written == Coupling.objects.filter(crm_model="crm.Account").count()
    assert not CouplingIntent.objects.exists()

    [rerun] = mapping_synchronize(mapping=customer_mapping, direction=TO)
    assert (rerun.status, rerun.inserted, rerun.unchanged) == (SyncJob.Status.SUCCESS, 12 - written, written)
    assert Account.objects.count() == Coupling.objects.filter(crm_model="crm.Account").count() == 12


@pytest.mark.django_db(transaction=True)
def test_a_partition_taken_over_completes_the_intents_of_its_keys_though_the_shared_job_runs_on(
    customer_mapping, salesperson_pair, integration_user
):
    """The partitions of a run share its job: a worker killed mid-partition leaves intents of a running job. The
    worker that takes the partition over completes those of its keys, and leaves the other partitions' alone."""
    salesperson, _ = salesperson_pair
    inside, outside = customers(2, salesperson)
    plan = plan_build(mapping=customer_mapping, direction=TO)
    running = SyncJob.objects.create(table_mapping=customer_mapping, mapping_name="CUSTOMER", direction=TO,
                                     status=SyncJob.Status.RUNNING)
    reached, elsewhere = Account(name=inside.name), Account(name=outside.name)
    intents_record(plan=plan, job=running, inserts=[(inside, reached), (outside, elsewhere)])
    reached.save()

    adopted = intents_complete(erp_model="erp.Customer", crm_model="crm.Account",
                               integration_user_id=integration_user.pk, erp_range=(inside.pk, outside.pk))

    assert adopted == (1, 0)
    assert Coupling.objects.get(crm_model="crm.Account").erp_id == inside.pk
    assert list(CouplingIntent.objects.values_list("erp_id", flat=True)) == [outside.pk]


# -- a restore of a record deleted in Sales (deletion resolution "restore records") ------------------------------------
def _account_deleted_and_restoring(mapping, salesperson):
    """A customer synchronised to Sales, its account deleted there, the mapping set to restore such records."""
    [customer] = customers(1, salesperson)
    mapping_synchronize(mapping=mapping, direction=TO)
    Account.objects.all().delete()
    mapping.deletion_conflict_resolution = "restore_records"
    mapping.save()
    return customer


@needs_two_databases
@pytest.mark.django_db(transaction=True)
def test_a_restore_whose_sales_write_failed_keeps_its_coupling_and_the_next_run_restores(
    customer_mapping, salesperson_pair, monkeypatch
):
    from django.db import OperationalError

    from integration.engine.sync import ChunkRun

    customer = _account_deleted_and_restoring(customer_mapping, salesperson_pair[0])

    def sales_goes_away(self):
        raise OperationalError("server closed the connection unexpectedly")

    with monkeypatch.context() as patch:  # the intents are recorded, then the Sales write fails
        patch.setattr(ChunkRun, "_write_destination", sales_goes_away)
        [failed] = mapping_synchronize(mapping=customer_mapping, direction=TO)
    assert failed.status == SyncJob.Status.FAILED
    # The coupling to the deleted account stays until a restore replaces it: the customer is not forgotten
    assert Coupling.objects.filter(erp_model="erp.Customer", erp_id=customer.pk).count() == 1
    assert not CouplingIntent.objects.exists()

    [job] = mapping_synchronize(mapping=customer_mapping, direction=TO)

    assert (job.status, job.inserted) == (SyncJob.Status.SUCCESS, 1), job.counts()
    [account] = Account.objects.all()
    assert Coupling.objects.get(erp_model="erp.Customer", erp_id=customer.pk).crm_id == account.pk


@needs_two_databases
@pytest.mark.django_db(transaction=True)
def test_a_restore_that_reached_sales_before_the_run_stopped_is_adopted_in_place_of_the_old_coupling(
    customer_mapping, salesperson_pair, integration_user
):
    customer = _account_deleted_and_restoring(customer_mapping, salesperson_pair[0])
    plan = plan_build(mapping=customer_mapping, direction=TO)
    stopped = SyncJob.objects.create(table_mapping=customer_mapping, mapping_name="CUSTOMER", direction=TO,
                                     status=SyncJob.Status.FAILED)
    restored = Account(name=customer.name)
    intents_record(plan=plan, job=stopped, inserts=[(customer, restored)])
    restored.save()  # the Sales write committed; the process was killed before the couplings were confirmed

    assert intents_complete(erp_model="erp.Customer", crm_model="crm.Account",
                            integration_user_id=integration_user.pk) == (1, 0)

    assert Coupling.objects.get(erp_model="erp.Customer", erp_id=customer.pk).crm_id == restored.pk
    [job] = mapping_synchronize(mapping=customer_mapping, direction=TO)
    assert (job.inserted, job.uncoupled) == (0, 0), job.counts()
    assert list(Account.objects.values_list("pk", flat=True)) == [restored.pk]  # restored once
