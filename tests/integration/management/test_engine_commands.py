"""The management commands: integration_setup, sync, couple, sync_status; and the lock across processes."""

import subprocess
import sys
import textwrap
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from crm.models import Account
from erp.models import Customer, SalespersonPurchaser
from integration.models import IntegrationTableMapping, SyncJob
from tests.concurrency import child_database_env
from tests.integration.helpers import call

pytestmark = pytest.mark.django_db


def test_integration_setup_creates_then_leaves_then_resets(integration_user, number_series):
    code, out, _ = call("integration_setup")
    assert code == 0 and "table mappings" in out
    count = IntegrationTableMapping.objects.count()
    code, out, _ = call("integration_setup")
    assert "exist already" in out
    code, out, _ = call("integration_setup", "--reset")
    assert "restored" in out and IntegrationTableMapping.objects.count() == count


def test_sync_command_reports_counts_and_dry_run_changes(mappings, salesperson_pair):
    salesperson, _ = salesperson_pair
    IntegrationTableMapping.objects.filter(name="CUSTOMER").update(sync_only_coupled=False)
    Customer.objects.create(name="Tailspin Toys", salesperson=salesperson)

    code, out, _ = call("sync", "CUSTOMER", "--direction", "to", "--dry-run")
    assert code == 0 and "Dry run" in out and "name: None → 'Tailspin Toys'" in out
    assert not Account.objects.exists()

    code, out, _ = call("sync", "CUSTOMER", "--direction", "to")
    assert code == 0 and "1 inserted" in out
    assert Account.objects.filter(name="Tailspin Toys").exists()


def test_sync_command_refuses_unknown_mapping_and_needs_a_target(mappings):
    with pytest.raises(Exception, match="No such mapping: NOPE"):
        call_command("sync", "NOPE")
    with pytest.raises(Exception, match="or use --all"):
        call_command("sync")


def test_sync_all_runs_in_dependency_order(mappings):
    code, out, _ = call("sync", "--all", "--direction", "to")
    assert code == 0
    names = [line.split(" [")[0] for line in out.splitlines() if " [" in line]
    assert names.index("CURRENCY") < names.index("CUSTOMER") < names.index("CONTACT")


def test_sync_exits_non_zero_when_a_job_fails_as_a_whole(mappings, monkeypatch):
    from integration.engine import sync as engine

    def explode(queryset, size, attnames=None, **options):
        raise RuntimeError("database went away")
        yield  # pragma: no cover

    monkeypatch.setattr(engine, "iterate_chunks", explode)
    code, out, _ = call("sync", "CURRENCY")
    assert code == 1 and "database went away" in out
    assert SyncJob.objects.get(mapping_name="CURRENCY").status == SyncJob.Status.FAILED


def test_couple_command_and_sync_status(mappings, salesperson_pair):
    salesperson, _ = salesperson_pair
    Customer.objects.create(name="Wide World Importers", salesperson=salesperson)
    Account.objects.create(name="wide world importers", customer_type_code="customer")
    code, out, _ = call("couple", "CUSTOMER", "--match-on", "name")
    assert code == 0 and "1 coupled" in out
    code, out, _ = call("sync_status")
    line = next(line for line in out.splitlines() if line.startswith("CUSTOMER "))
    assert line.split()[2] == "1"  # couplings


def test_couple_command_from_the_sales_records(mappings, salesperson_pair):

    from integration.coupling.couplings import coupling_for

    salesperson, user = salesperson_pair
    customer = Customer.objects.create(name="Fabrikam", salesperson=salesperson)
    account = Account.objects.create(name="FABRIKAM", customer_type_code="customer", owner=user)
    newcomer = Account.objects.create(name="Newcomer", customer_type_code="customer", owner=user)

    code, out, _ = call("couple", "CUSTOMER", "--match-on", "name", "--from", "sales", "--create-new")

    assert code == 0 and "1 coupled, 1 created" in out, out
    assert coupling_for(account).erp_id == customer.pk
    assert Customer.objects.get(pk=coupling_for(newcomer).erp_id).name == "Newcomer"
    with pytest.raises(CommandError, match="starts from its ERP records"):
        call_command("couple", "CURRENCY", "--from", "sales", stdout=StringIO())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_processes_do_not_both_run_a_mapping(mappings):
    """A second process is refused while the first holds the mapping's lock (PostgreSQL, two OS processes)."""
    holder = textwrap.dedent("""
        import os, sys, time, django
        os.environ["DJANGO_SETTINGS_MODULE"] = "p2c.settings"
        django.setup()
        from integration.engine.locks import mapping_lock
        from integration.models import IntegrationTableMapping
        with mapping_lock(IntegrationTableMapping.objects.get(name="CURRENCY")):
            print("locked", flush=True)
            sys.stdin.readline()  # held until the test has seen the second process refused, however slow it was
    """)
    env = {**child_database_env(), "PATH": "/usr/bin:/bin"}
    first = subprocess.Popen([sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True, env=env)
    assert first.stdout.readline().strip() == "locked"
    second = subprocess.run([sys.executable, "manage.py", "sync", "CURRENCY"], capture_output=True, text=True,
                            env=env, timeout=60)
    first.communicate("release\n", timeout=30)
    assert second.returncode == 1
    assert "being synchronised by another run" in second.stderr
    # Once the first has finished, the mapping runs again.
    started = time.monotonic()
    third = subprocess.run([sys.executable, "manage.py", "sync", "CURRENCY"], capture_output=True, text=True,
                           env=env, timeout=60)
    assert third.returncode == 0, third.stderr
    assert time.monotonic() - started < 60


def test_sync_status_counts_records_that_could_not_be_created(mappings):
    mapping = mappings["CUSTOMER"]
    mapping.sync_only_coupled = False
    mapping.save()
    stranger = SalespersonPurchaser.objects.create(code="SP09", name="Sam Stranger")
    Customer.objects.create(name="Never Created AB", salesperson=stranger)
    call("sync", "CUSTOMER", "--direction", "to")
    line = next(line for line in call("sync_status")[1].splitlines() if line.startswith("CUSTOMER "))
    assert line.split()[2:5] == ["0", "0", "1"]  # coupled, skipped, failing
    call("sync", "CUSTOMER", "--direction", "to")
    line = next(line for line in call("sync_status")[1].splitlines() if line.startswith("CUSTOMER "))
    # The same failure twice: skipped, and no longer counted failing (as the health page counts it: one count).
    assert line.split()[2:5] == ["0", "1", "0"]
