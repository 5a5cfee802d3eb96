"""The engine synchronising CUSTOMER with a Sales reached over HTTP (docs/decisions.md#sales-over-http): a real p2c
process serves Sales's Dataverse Web API over HTTPS (server.py), and the integration, configured remote
(``SALES_API_URL``…), reaches it only through `DataverseSide` (`side_for`). ERP customers become Sales accounts and
Sales accounts ERP customers; a settled run writes nothing; ``manage.py sync`` killed with SIGKILL at random points and
run again leaves no duplicate on either side, every source record coupled once, no intent and no job running.

The Sales server shares this test run's databases (its own tables are the test database's ``crm_*``): the checks
read them directly, the engine never does. Real processes, so every write is committed (``transaction=True``).
"""

import os
import random
import signal
import subprocess
import sys
import time

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from crm.models import Account, SystemUser, Unit
from erp.models import Customer, UnitOfMeasure
from integration.background import realtime
from integration.engine import sides
from integration.engine.sides import DjangoSide, side_for
from integration.engine.sides.dataverse import DataverseSide
from integration.engine.sync import mapping_synchronize
from integration.full_sync.partitions import mapping_synchronize_partitioned
from integration.models import (
    Coupling,
    CouplingIntent,
    Direction,
    FailedInsert,
    SideCursor,
    SyncJob,
    SyncJobError,
    SyncResult,
)
from tests.concurrency import REPO, child_database_env
from tests.crm.dataverse.server import https_server_process

from .server import NAMES, Served, logins_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TO, FROM = Direction.TO_INTEGRATION, Direction.FROM_INTEGRATION
TRIALS = int(os.environ.get("P2C_FAULT_TRIALS", "2"))  # kills per direction (more with P2C_FAULT_TRIALS)
CHUNK = 20
NEW_IN_SALES = 150
SALES_USER = NAMES["integration"]  # the login the integration signs in to Sales as  # accounts someone creates in Sales each trial (one $batch)


@pytest.fixture(scope="module")
def sales_server(django_db_setup, tmp_path_factory):
    """The module's Sales server process, started once (its logins are each test's: `served`)."""
    with https_server_process(tmp_path_factory.mktemp("sales-web-api")) as server:
        yield server


@pytest.fixture
def served(transactional_db, sales_server, monkeypatch):
    """The module's Sales server with its logins made again for each test (committed: a transactional test empties
    the tables at its end, the logins with them), and this process's transports to it made anew (no token of an
    earlier test's logins); started again if a test killed it and did not live to start it."""
    if sales_server.process.poll() is not None:
        sales_server.start()
    logins_create()
    monkeypatch.setattr(sides, "_transports", {})
    return Served(sales_server.base, sales_server.ca_file, sales_server)


@pytest.fixture
def remote(served, monkeypatch):
    """This process configured with Sales over the Web API; the environment a child process needs for the same."""
    return served.point_at(monkeypatch)


@pytest.fixture
def customers(customer_mapping, salesperson_pair):
    return customer_mapping, salesperson_pair[0]


def synchronize(mapping, direction, **options):
    [job] = mapping_synchronize(mapping=mapping, direction=direction, **options)
    assert job.status == SyncJob.Status.SUCCESS, job.message
    return job


def written(job):
    return job.inserted + job.modified + job.failed


def accounts_by_number():
    return dict(Account.objects.values_list("account_number", "pk"))


def test_sales_models_are_reached_over_the_web_api_once_configured(remote):
    assert isinstance(side_for(Account, key="crm"), DataverseSide)
    assert isinstance(side_for(Customer, key="erp"), DjangoSide)


def test_customers_become_accounts_and_accounts_customers_over_http_and_a_settled_run_writes_nothing(
        customers, remote, served, monkeypatch):
    mapping, salesperson = customers
    Customer.objects.bulk_create([Customer(no=f"C{i:03d}", name=f"Customer {i}", email=f"c{i}@example.com",
                                           salesperson=salesperson) for i in range(30)])
    job = synchronize(mapping, TO)
    assert (job.inserted, job.failed) == (30, 0)
    couplings = dict(Coupling.objects.filter(erp_model="erp.Customer", crm_model="crm.Account")
                     .values_list("erp_id", "crm_id"))
    names = dict(Account.objects.values_list("pk", "name"))
    assert len(couplings) == len(set(couplings.values())) == len(names) == 30
    assert {names[couplings[c.pk]] for c in Customer.objects.all()} == {f"Customer {i}" for i in range(30)}
    assert not CouplingIntent.objects.exists()
    # The integration's own writes do not come back, and nothing is written again either way
    assert written(synchronize(mapping, FROM)) == 0
    assert written(synchronize(mapping, TO)) == 0

    # Someone changes three accounts in Sales and creates five: they reach the ERP, once
    someone_else = served.someone_else(monkeypatch)
    for account_id in list(couplings.values())[:3]:
        answer = someone_else.request("PATCH", f"accounts({account_id})", json={"name": "Renamed in Sales"},
                                      headers={"If-Match": "*"}, what="test")
        assert answer.status_code in (200, 204), answer.text
    owner = salesperson_pair_user()
    for i in range(5):
        answer = someone_else.request("POST", "accounts", what="test", json={
            "name": f"New in Sales {i}", "accountnumber": f"S{i}", "customertypecode": 3,
            "ownerid@odata.bind": f"/systemusers({owner})"})
        assert answer.status_code in (200, 201, 204), answer.text
    job = synchronize(mapping, FROM)
    assert (job.inserted, job.modified, job.failed) == (5, 3, 0), job.message
    assert Customer.objects.filter(name="Renamed in Sales").count() == 3
    assert Customer.objects.filter(name__startswith="New in Sales").count() == 5
    assert Customer.objects.count() == 35 and Account.objects.count() == 35
    assert SideCursor.objects.filter(table_mapping=mapping, name="crm").exists()  # the delta link, kept
    # Settled both ways: nothing written
    assert written(synchronize(mapping, FROM)) == 0
    assert written(synchronize(mapping, TO)) == 0
    # An ERP change goes to Sales as an update of the coupled account (its ETag carried)
    Customer.objects.filter(no="C000").update(name="Renamed in the ERP", modified_at=timezone.now())
    job = synchronize(mapping, TO)
    assert (job.inserted, job.modified, job.failed) == (0, 1, 0), job.message
    assert Account.objects.filter(name="Renamed in the ERP").count() == 1
    assert written(synchronize(mapping, FROM)) == 0


def test_an_account_changed_in_sales_between_read_and_write_is_not_overwritten(customers, remote, served,
                                                                               monkeypatch):
    """The update carries the ETag read; Sales answers 412 for an account someone changed since: the account holds
    newer data, skipped (not failed), and keeps what they wrote."""
    mapping, salesperson = customers
    customer = Customer.objects.create(no="C001", name="Adatum", salesperson=salesperson)
    synchronize(mapping, TO)
    account_id = Coupling.objects.get(erp_model="erp.Customer", erp_id=customer.pk).crm_id
    someone_else = served.someone_else(monkeypatch)
    read = DataverseSide.records

    def records_then_changed(side, keys, **options):
        found = read(side, keys, **options)
        answer = someone_else.request("PATCH", f"accounts({account_id})", json={"telephone1": "+1 555 0100"},
                                      headers={"If-Match": "*"}, what="test")
        assert answer.status_code in (200, 204), answer.text
        return found

    monkeypatch.setattr(DataverseSide, "records", records_then_changed)
    Customer.objects.filter(pk=customer.pk).update(name="Adatum (ERP)", modified_at=timezone.now())
    job = synchronize(mapping, TO)
    assert (job.modified, job.failed, job.skipped) == (0, 0, 1), job.message
    assert "holds newer data" in job.message
    account = Account.objects.get(pk=account_id)
    assert (account.name, account.telephone1) == ("Adatum", "+1 555 0100")


def salesperson_pair_user():
    return Coupling.objects.get(erp_model="erp.SalespersonPurchaser", crm_model="crm.SystemUser").crm_id


# -- SIGKILL of manage.py sync, then a rerun ---------------------------------------------------------------------------
def kill_and_rerun(env, direction, rng, longest, *, at_intents=False):
    """``manage.py sync CUSTOMER --direction <direction>`` killed after a random moment (anywhere from start-up to
    the end of the run), or ``at_intents``: once it has intended Sales writes (between intending and confirming a
    chunk), then run again to its end. (Whether it died mid-run, the rerun's time.)"""
    command = [sys.executable, "manage.py", "sync", "CUSTOMER", "--direction", direction]
    victim = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if at_intents:
        deadline = time.monotonic() + 120
        while not CouplingIntent.objects.exists() and victim.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
    else:
        time.sleep(rng.uniform(0.5, longest))
    victim.send_signal(signal.SIGKILL)
    died = victim.wait() == -signal.SIGKILL
    started = time.monotonic()
    rerun = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, f"the rerun failed:\n{rerun.stdout}\n{rerun.stderr}"
    return died, time.monotonic() - started


def check_coupled_once(source_model, pair_field, expected):
    couplings = list(Coupling.objects.filter(erp_model="erp.Customer", crm_model="crm.Account")
                     .values_list("erp_id", "crm_id"))
    erp_ids, crm_ids = [e for e, _ in couplings], [c for _, c in couplings]
    assert len(set(erp_ids)) == len(erp_ids) and len(set(crm_ids)) == len(crm_ids), "a record coupled twice"
    assert Customer.objects.count() == Account.objects.count() == len(couplings) == expected, (
        f"{Customer.objects.count()} customers, {Account.objects.count()} accounts, {len(couplings)} couplings for "
        f"{expected} records: a duplicate or a lost one")
    assert not CouplingIntent.objects.exists(), "intents left after the rerun"
    assert not SyncJob.objects.filter(status=SyncJob.Status.RUNNING).exists(), "a job left running"


def test_a_sync_over_http_killed_anywhere_doubles_nothing_either_way(customers, remote, served, monkeypatch):
    """Each trial: new ERP customers and a new name for all, ``sync --direction to`` killed (every other trial once
    it has intended Sales writes) and run again; then new accounts in Sales, ``sync --direction from`` killed and run
    again; each time checked, and a settled run writes nothing either way."""
    mapping, salesperson = customers
    env = {**os.environ, **child_database_env(), **remote, "P2C_SYNC_CHUNK_SIZE": str(CHUNK), "PYTHONUNBUFFERED": "1"}
    seed = int(os.environ.get("P2C_FAULT_SEED", random.randrange(10**6)))
    rng = random.Random(seed)
    print(f"\nkills over HTTP: seed {seed} (P2C_FAULT_SEED={seed} repeats it)")
    someone_else = served.someone_else(monkeypatch)
    owner = salesperson_pair_user()
    longest, total = {"to": 4.0, "from": 3.0}, 0
    for trial in range(TRIALS):
        Customer.objects.bulk_create([Customer(no=f"T{trial}{i:03d}", name="new", salesperson=salesperson)
                                      for i in range(100)])
        Customer.objects.update(name=f"v{trial}", modified_at=timezone.now())
        total += 100
        died, took = kill_and_rerun(env, "to", rng, longest["to"], at_intents=trial % 2 == 1)
        longest["to"] = max(longest["to"], took + 2)  # start-up and the whole run
        check_coupled_once(Customer, "erp_id", total)
        assert set(Account.objects.values_list("name", flat=True)) == {f"v{trial}"}, "a changed customer not in Sales"
        assert written(synchronize(mapping, TO)) == 0
        body = "".join(
            f"--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
            f"POST {served.base}/api/data/v9.2/accounts HTTP/1.1\r\nContent-Type: application/json\r\n\r\n"
            f'{{"name": "Sales {trial} {i}", "accountnumber": "S{trial}{i:03d}", "customertypecode": 3, '
            f'"ownerid@odata.bind": "/systemusers({owner})"}}\r\n' for i in range(NEW_IN_SALES)) + "--b--\r\n"
        answer = someone_else.request("POST", "$batch", content=body.encode(), what="test",
                                      headers={"Content-Type": "multipart/mixed; boundary=b"})
        assert answer.status_code == 200, answer.text
        total += NEW_IN_SALES
        assert Account.objects.count() == total
        died_from, took = kill_and_rerun(env, "from", rng, longest["from"])
        longest["from"] = max(longest["from"], took + 2)
        check_coupled_once(Account, "crm_id", total)
        assert written(synchronize(mapping, FROM)) == 0
        assert written(synchronize(mapping, TO)) == 0
        print(f"trial {trial}: to killed {'mid-run' if died else 'after its end'}, from killed "
              f"{'mid-run' if died_from else 'after its end'}; {total} records each side, coupled once")


# -- The Sales server killed mid-run, then started again -------------------------------------------------------------
SERVER_KILL_RECORDS = 1500


def test_the_sales_server_killed_mid_run_fails_the_job_naming_its_url_and_the_next_run_completes(
        customers, remote, served, monkeypatch):
    """``manage.py sync CUSTOMER --direction to`` writing accounts; the Sales server's processes SIGKILLed once some
    are written: the job fails, naming Sales's address, in one line (no traceback), no record marked failed (the
    fault is Sales's, not theirs). The server started again, the next run completes: every customer an account,
    coupled once, nothing doubled, no intent left; a settled run writes nothing either way."""
    mapping, salesperson = customers
    Customer.objects.bulk_create([Customer(no=f"K{i:04d}", name=f"Customer {i}", salesperson=salesperson)
                                  for i in range(SERVER_KILL_RECORDS)])
    # Sales gone for good as far as this run knows: a short deadline for its retries
    env = {**os.environ, **child_database_env(), **remote, "P2C_SYNC_CHUNK_SIZE": str(CHUNK),
           "SALES_API_DEADLINE_SECONDS": "5", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "manage.py", "sync", "CUSTOMER", "--direction", "to"]
    run = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while Account.objects.count() < CHUNK * 3 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert run.poll() is None, "the run ended before the server could be killed"
    served.process.kill()
    out, err = run.communicate(timeout=120)
    job = SyncJob.objects.filter(table_mapping=mapping).latest("pk")
    assert job.status == SyncJob.Status.FAILED, (job.status, job.message, out, err)
    assert served.base in job.message, job.message
    assert "Traceback" not in out + err, err
    assert served.base in out + err, (out, err)  # told to whoever ran it
    assert job.failed == 0 and not SyncJobError.objects.exists() and not FailedInsert.objects.exists()
    assert not Coupling.objects.filter(erp_model="erp.Customer", last_crm_result=SyncResult.FAILURE).exists()
    assert Account.objects.count() < SERVER_KILL_RECORDS  # it did stop mid-run

    served.process.start()
    rerun = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, f"the rerun failed:\n{rerun.stdout}\n{rerun.stderr}"
    check_coupled_once(Customer, "erp_id", SERVER_KILL_RECORDS)
    assert set(Account.objects.values_list("name", flat=True)) == {f"Customer {i}" for i in range(SERVER_KILL_RECORDS)}
    assert written(synchronize(mapping, TO)) == 0
    assert written(synchronize(mapping, FROM)) == 0


# -- Near-real-time from a Sales over the Web API: polling its delta link ---------------------------------------------
def test_a_change_in_sales_over_http_arrives_after_a_poll_and_a_settled_poll_is_one_request(customers, remote, served,
                                                                                           monkeypatch):
    """Sales's writes raise no signal in this process: the poll (beat's, every P2C_SALES_POLL_SECONDS) reads the
    changes since its delta link, and a change someone made in Sales reaches the ERP; the integration's own writes
    do not come back; a poll with nothing changed sends one request."""
    mapping, salesperson = customers
    Customer.objects.bulk_create([Customer(no=f"R{i}", name=f"Customer {i}", salesperson=salesperson)
                                  for i in range(3)])
    synchronize(mapping, TO)
    mapping.realtime_sync = True
    mapping.save()
    realtime.config_clear()
    transport = side_for(Account, key="crm").transport  # the process's own, which the poll uses
    assert realtime.sales_changes_poll() == {}  # the first poll starts following the changes
    assert SideCursor.objects.filter(table_mapping=mapping, name=realtime.POLL_CURSOR).exists()

    before = transport.requests_sent
    assert realtime.sales_changes_poll() == {}
    assert transport.requests_sent - before == 1  # settled: one request

    customer = Customer.objects.get(no="R1")
    account_id = Coupling.objects.get(erp_model="erp.Customer", erp_id=customer.pk).crm_id
    answer = served.someone_else(monkeypatch).request("PATCH", f"accounts({account_id})", what="test",
                                                      json={"name": "Renamed in Sales"}, headers={"If-Match": "*"})
    assert answer.status_code in (200, 204), answer.text
    assert Customer.objects.get(pk=customer.pk).name == "Customer 1"  # nothing until the poll
    assert realtime.sales_changes_poll() == {mapping.name: [account_id]}
    assert Customer.objects.get(pk=customer.pk).name == "Renamed in Sales"  # synchronised (eager here)

    # The integration's own write to Sales (a change in the ERP synchronised) is not polled back
    Customer.objects.filter(no="R2").update(name="Renamed in the ERP", modified_at=timezone.now())
    synchronize(mapping, TO)  # (near-real-time sent it at the commit already: a local ERP's commits tell it)
    assert Account.objects.filter(name="Renamed in the ERP").count() == 1
    assert realtime.sales_changes_poll() == {}
    before = transport.requests_sent
    assert realtime.sales_changes_poll() == {}
    assert transport.requests_sent - before == 1


def test_a_change_in_sales_in_the_second_of_the_last_synchronisation_reaches_the_erp_through_the_poll(
        customers, remote, served, monkeypatch):
    """Sales's modified-on is in whole seconds: a change someone makes in the second the integration last wrote the
    account carries the very modified-on its coupling holds. The poll takes it as a change all the same (its writer
    is not the integration), the run of its id does not leave it as unchanged, and it reaches the ERP; a settled
    poll and a settled run write nothing."""
    mapping, salesperson = customers
    customer = Customer.objects.create(no="W1", name="Customer 1", salesperson=salesperson)
    synchronize(mapping, TO)
    mapping.realtime_sync = True
    mapping.save()
    realtime.config_clear()
    assert realtime.sales_changes_poll() == {}  # following the changes from now
    coupling = Coupling.objects.get(erp_model="erp.Customer", erp_id=customer.pk)
    answer = served.someone_else(monkeypatch).request("PATCH", f"accounts({coupling.crm_id})", what="test",
                                                      json={"name": "Renamed in Sales"}, headers={"If-Match": "*"})
    assert answer.status_code in (200, 204), answer.text
    # The last synchronisation in the second of the change, whatever this machine's speed: the coupling holds the
    # change's modified-on as the Web API gives it, as a run in that second leaves it
    sales = side_for(Account, key="crm")
    changed_on = sales.rows([coupling.crm_id], fields=[])[coupling.crm_id]["modifiedon"]
    assert changed_on.microsecond == 0  # whole seconds, as Dataverse gives them
    Coupling.objects.filter(pk=coupling.pk).update(last_synced_crm_modified=changed_on)

    assert realtime.sales_changes_poll() == {mapping.name: [coupling.crm_id]}
    assert Customer.objects.get(pk=customer.pk).name == "Renamed in Sales"  # synchronised (eager here)
    before = sales.transport.requests_sent
    assert realtime.sales_changes_poll() == {}
    assert sales.transport.requests_sent - before == 1  # settled: one request, nothing enqueued
    assert written(synchronize(mapping, FROM)) == 0
    assert written(synchronize(mapping, TO)) == 0


def test_synchronise_now_preselects_get_for_a_change_in_sales_in_the_second_of_the_last_synchronisation(
        customers, remote, served, monkeypatch):
    """*Synchronise now* on one record: Sales's modified-on is in whole seconds, so a change someone makes in the
    second the integration last wrote the account carries the modified-on its coupling holds; it is preselected as a
    Get all the same (its writer is not the integration). The integration's own write in that second is no change:
    Merge, neither side changed."""
    from integration.operations.synchronising import GET, MERGE, synchronize_now_choices

    mapping, salesperson = customers
    customer = Customer.objects.create(no="N1", name="Customer 1", salesperson=salesperson)
    synchronize(mapping, TO)
    coupling = Coupling.objects.get(erp_model="erp.Customer", erp_id=customer.pk)
    sales = side_for(Account, key="crm")
    written_on = sales.rows([coupling.crm_id], fields=[])[coupling.crm_id]["modifiedon"]
    Coupling.objects.filter(pk=coupling.pk).update(last_synced_crm_modified=written_on)
    assert synchronize_now_choices(model=Customer, ids=[customer.pk])[1] == MERGE

    answer = served.someone_else(monkeypatch).request("PATCH", f"accounts({coupling.crm_id})", what="test",
                                                      json={"name": "Renamed in Sales"}, headers={"If-Match": "*"})
    assert answer.status_code in (200, 204), answer.text
    changed_on = sales.rows([coupling.crm_id], fields=[])[coupling.crm_id]["modifiedon"]
    assert changed_on.microsecond == 0  # whole seconds, as Dataverse gives them
    Coupling.objects.filter(pk=coupling.pk).update(last_synced_crm_modified=changed_on)  # as a run in that second
    assert synchronize_now_choices(model=Customer, ids=[customer.pk])[1] == GET


def server_requests():
    """The requests the Sales server counted (its service protection's slots, every login): counted at the server."""
    from django.db.models import Sum

    from crm.models import DataverseRequestCount

    return DataverseRequestCount.objects.filter(slot__gte=0).aggregate(n=Sum("count"))["n"] or 0


def test_two_realtime_mappings_of_one_sales_table_are_polled_with_one_request(customers, remote, served,
                                                                            monkeypatch):
    """Two mappings reading Sales accounts near-real-time: one poll of the table serves both (a settled poll is one
    request at the server, not one a mapping), and a change in Sales reaches both mappings' enqueue."""
    from integration.models import IntegrationTableMapping

    mapping, salesperson = customers
    Customer.objects.bulk_create([Customer(no=f"T{i}", name=f"Customer {i}", salesperson=salesperson)
                                  for i in range(2)])
    synchronize(mapping, TO)
    mapping.realtime_sync = True
    mapping.save()
    other = IntegrationTableMapping.objects.create(name="ACCOUNTS TOO", erp_model="erp.Customer",
                                                   crm_model="crm.Account", direction=Direction.FROM_INTEGRATION,
                                                   realtime_sync=True, is_enabled=True)
    realtime.config_clear()
    side_for(Account, key="crm").transport.signed_in_user()  # signed in, user known: the polls send only reads
    assert realtime.sales_changes_poll() == {}
    links = dict(SideCursor.objects.filter(name=realtime.POLL_CURSOR).values_list("table_mapping_id", "value"))
    assert set(links) == {mapping.pk, other.pk} and len(set(links.values())) == 1  # one link, kept by both

    before = server_requests()
    assert realtime.sales_changes_poll() == {}
    assert server_requests() - before == 1  # settled: one request for the table, not one per mapping

    account_id = Coupling.objects.get(erp_model="erp.Customer", erp_id=Customer.objects.get(no="T1").pk).crm_id
    answer = served.someone_else(monkeypatch).request("PATCH", f"accounts({account_id})", what="test",
                                                      json={"name": "Renamed in Sales"}, headers={"If-Match": "*"})
    assert answer.status_code in (200, 204), answer.text
    monkeypatch.setattr(realtime.queue, "mapping_synchronize_ids_enqueue", lambda **kw: None)  # counted, not run
    before = server_requests()
    assert realtime.sales_changes_poll() == {mapping.name: [account_id], other.name: [account_id]}
    assert server_requests() - before == 1  # the changes alone: who the integration signs in as is known


# -- A partitioned run from a Sales over the Web API keeps its delta link ---------------------------------------------
def test_a_partitioned_run_from_sales_over_http_keeps_the_delta_link_and_the_next_run_reads_only_what_changed(
        customers, remote, served, monkeypatch, settings):
    """Partitions read key ranges, which give no delta link: the run takes one before they read and keeps it once
    they are all done, so the next run reads the one account changed since, not the 60."""
    mapping, _salesperson = customers
    settings.P2C_SYNC_PARTITION_SIZE = 20
    owner = salesperson_pair_user()
    body = "".join(
        f"--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        f"POST {served.base}/api/data/v9.2/accounts HTTP/1.1\r\nContent-Type: application/json\r\n\r\n"
        f'{{"name": "Sales {i}", "accountnumber": "P{i:03d}", "customertypecode": 3, '
        f'"ownerid@odata.bind": "/systemusers({owner})"}}\r\n' for i in range(60)) + "--b--\r\n"
    someone_else = served.someone_else(monkeypatch)
    answer = someone_else.request("POST", "$batch", content=body.encode(), what="test",
                                  headers={"Content-Type": "multipart/mixed; boundary=b"})
    assert answer.status_code == 200, answer.text
    [job] = mapping_synchronize_partitioned(mapping=mapping, direction=FROM, workers=2)
    assert job.status == SyncJob.Status.SUCCESS, job.message
    assert job.partitions.count() >= 3 and job.inserted == 60 and Customer.objects.count() == 60
    assert SideCursor.objects.filter(table_mapping=mapping, name="crm").exists()  # the delta link, kept
    assert not SideCursor.objects.filter(name__startswith="run_").exists()

    account_id = Account.objects.get(account_number="P007").pk
    answer = someone_else.request("PATCH", f"accounts({account_id})", json={"name": "Renamed in Sales"},
                                  headers={"If-Match": "*"}, what="test")
    assert answer.status_code in (200, 204), answer.text
    [job] = mapping_synchronize_partitioned(mapping=mapping, direction=FROM, workers=2)
    assert (job.status, job.inserted, job.modified, job.unchanged, job.skipped) == (
        SyncJob.Status.SUCCESS, 0, 1, 0, 0), job.message  # the one changed account read, not the 60
    assert not job.partitions.exists()  # Sales counted one change since the delta link: not worth partitions
    assert Customer.objects.filter(name="Renamed in Sales").count() == 1


def test_a_rule_reads_and_writes_sales_over_http_one_unit_a_unit_group(mappings, remote):
    """The rules' own reads and writes of Sales (integration/rules/reads.py) go through the Web API too: UNIT OF
    MEASURE gives each unit group it writes one unit, written by the application user Sales knows the integration
    as (not this process's integration user), and a second run finds them and writes no second unit."""
    UnitOfMeasure.objects.create(code="PCS", description="Piece")
    UnitOfMeasure.objects.create(code="BOX", description="Box")
    job = synchronize(mappings["UNIT OF MEASURE"], TO, create_new=True)
    assert (job.inserted, job.failed) == (2, 0)
    UnitOfMeasure.objects.filter(code="BOX").update(description="Boxes", modified_at=timezone.now())
    job = synchronize(mappings["UNIT OF MEASURE"], TO, create_new=True)
    assert (job.inserted, job.modified, job.failed) == (0, 1, 0)

    application_user = SystemUser.objects.get(user_id=get_user_model().objects.get(username=SALES_USER).pk)
    assert sorted(Unit.objects.values_list("unit_group__name", "name", "modifiedby")) == [
        ("BOX", "BOX", application_user.pk), ("PCS", "PCS", application_user.pk)]
