"""A full synchronisation of the demo plus ``P2C_FAULT_ACCOUNTS`` extra Sales accounts (default 200; the issue's run:
20,000), the integration reaching a real Sales server process over HTTPS through the tests' fault-injecting proxy
(proxy.py): 10% of the answers 429 with ``Retry-After``, 5% 503, 2% dropped connections (half of them after Sales
did the work: an answer lost), 1% stalled for 20 s (the client gives up after ``SALES_API_TIMEOUT_SECONDS``). It
completes with 0 duplicates and 0 lost on either side, no request before its ``Retry-After``, and no record failed
for a transient error (docs/decisions.md#sales-over-http)."""

import os
import ssl
import time

import pytest
from django.core.management import call_command

from crm.models import Account, SystemUser
from erp.models import Customer
from integration.defaults import integration_setup_reset
from integration.demo import demo_seed
from integration.full_sync.run import full_sync_start
from integration.models import Coupling, CouplingIntent, FailedInsert, FullSyncRun, SyncJobError

from .proxy import FaultProxy
from .server import CLIENT_ID, CLIENT_SECRET, serving

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ACCOUNTS = int(os.environ.get("P2C_FAULT_ACCOUNTS", "200"))
DEMO_SCALE = int(os.environ.get("P2C_FAULT_DEMO_SCALE", "0"))  # 0: no demo (CI); 1 or more: the demo too
SEED = int(os.environ.get("P2C_FAULT_SEED", "61"))
# Met by the first requests whatever the dice say, so that a small run meets every fault too
FORCED = ("429", "503", "drop-after", "stall", "drop-before", "429")


@pytest.fixture
def served(transactional_db, tmp_path):
    from integration.demo import demo_reset

    with serving(tmp_path) as server:
        yield server
        if DEMO_SCALE:
            demo_reset()  # before the server's logins go: the demo's orders hold its contacts


def extra_accounts(count):
    """``count`` customer accounts someone keyed in Sales, owned by a demo salesperson."""
    owner = SystemUser.objects.filter(is_integration_user=False, user__isnull=True).order_by("pk").first()  # or none
    Account.objects.bulk_create([
        Account(name=f"Extra {i:05d}", account_number=f"X{i:05d}", customer_type_code="customer", owner=owner)
        for i in range(count)], batch_size=5000)


def test_a_full_synchronisation_through_faults_loses_nothing_doubles_nothing_and_waits_every_retry_after(
        served, number_series, monkeypatch):
    begun = time.monotonic()
    if DEMO_SCALE:
        demo_seed(scale=DEMO_SCALE, seed=SEED)
    extra_accounts(ACCOUNTS)
    print(f"\nseeded in {time.monotonic() - begun:.1f} s")
    ca = ssl.create_default_context(cafile=served.ca_file)
    with FaultProxy(served.base, ca, throttled=0.10, unavailable=0.05, dropped=0.02, stalled=0.01, stall_seconds=20,
                    seed=SEED, forced_on_writes=FORCED, forced_methods=("GET", "POST", "PATCH"),
                    forced_every=2) as proxy:
        for name, value in (("SALES_API_URL", proxy.url), ("SALES_API_TOKEN_URL", f"{proxy.url}/o/token/"),
                            ("SALES_API_CLIENT_ID", CLIENT_ID), ("SALES_API_CLIENT_SECRET", CLIENT_SECRET),
                            ("SSL_CERT_FILE", served.ca_file), ("SALES_API_TIMEOUT_SECONDS", "2")):
            monkeypatch.setenv(name, value)
        integration_setup_reset()
        call_command("integration_connection", "enable")
        started = time.monotonic()
        full_sync_start()  # Celery eager: the whole run, here
        seconds = time.monotonic() - started
    run = FullSyncRun.objects.order_by("-pk").first()
    failures = [(e.job.table_mapping.name, e.message_text) for e in SyncJobError.objects.select_related("job")]
    assert run.status == FullSyncRun.Status.FINISHED, (run.status, [
        (line.mapping_name, line.status, line.message_text) for line in run.lines.all()], failures[:5])
    # No record failed for a transient error (a record refused for what it holds is told, and is no transient)
    transient = ("429", "503", "timed out", "did not answer", "onnection", proxy.url)
    assert [f for f in failures if any(word in f[1] for word in transient)] == []
    assert not FailedInsert.objects.filter(message__iregex=r"429|503|timed out|did not answer|connection").exists()
    # 0 lost, 0 duplicates: every extra account became one customer, coupled once, and every Sales account is coupled
    extra = Customer.objects.filter(name__startswith="Extra ")
    assert extra.count() == len(set(extra.values_list("name", flat=True))) == ACCOUNTS
    pairs = Coupling.objects.filter(erp_model="erp.Customer", crm_model="crm.Account")
    assert pairs.count() == len(set(pairs.values_list("crm_id", flat=True))) == len(
        set(pairs.values_list("erp_id", flat=True)))
    assert set(pairs.values_list("crm_id", flat=True)) >= set(
        Account.objects.filter(customer_type_code="customer", state_code="active").values_list("pk", flat=True))
    assert Account.objects.count() == len(set(Account.objects.values_list("name", "account_number")))
    assert not CouplingIntent.objects.exists()
    assert proxy.counts["429"] and proxy.early == []  # no request before its Retry-After
    if DEMO_SCALE == 0:
        assert failures == []
    print("\n".join(f"refused: {name}: {text[:200]}" for name, text in failures))
    print(f"\n{ACCOUNTS} extra accounts, demo at scale {DEMO_SCALE}: {seconds:.1f} s; faults met: {proxy.counts}")
