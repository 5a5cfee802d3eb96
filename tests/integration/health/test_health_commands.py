"""The command line as a full door: enable and disable the connection (`integration_connection`), and the health
summary with an exit code a cron job acts on (`sync_health`)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.models import SystemUser
from integration.health.heartbeats import heartbeat_record
from integration.models import ConnectionSetup, FullSyncRun, Heartbeat, SyncJob
from tests.integration.helpers import call

pytestmark = pytest.mark.django_db


def test_a_script_sets_up_enables_and_starts_a_full_synchronisation(number_series, django_capture_on_commit_callbacks):
    SystemUser.objects.create(fullname="ERP Integration", access_mode="integration")
    assert call("integration_setup")[0] == 0
    code, _out, err = call("full_sync", "--start")
    assert code == 1 and "not enabled" in err  # what a script met before: refused
    code, out, _err = call("integration_connection", "enable")
    assert code == 0 and "enabled, with integration user ERP Integration" in out
    assert ConnectionSetup.get_solo().is_enabled
    with django_capture_on_commit_callbacks(execute=True):
        code, out, err = call("full_sync", "--start")
    assert code == 0, err
    assert FullSyncRun.objects.get().status == FullSyncRun.Status.FINISHED
    code, out, _err = call("integration_connection", "enable")
    assert code == 0 and "enabled already" in out


def test_enabling_needs_an_integration_user_and_names_the_one_given(db):
    code, _out, err = call("integration_connection", "enable")
    assert code == 1 and "needs an integration user" in err and not ConnectionSetup.get_solo().is_enabled
    code, _out, err = call("integration_connection", "enable", "--integration-user", "Nobody")
    assert code == 1 and "No Sales user is named Nobody" in err
    anna = SystemUser.objects.create(fullname="Anna", internal_email="anna@example.com")
    code, out, _err = call("integration_connection", "enable", "--integration-user", "ANNA@example.com")
    assert code == 0 and "integration user Anna" in out
    setup = ConnectionSetup.get_solo()
    assert setup.is_enabled and setup.integration_user == anna
    anna.refresh_from_db()
    assert anna.is_integration_user  # never read back from Sales from now on
    code, out, _err = call("integration_connection", "disable")
    assert code == 0 and "disabled" in out and not ConnectionSetup.get_solo().is_enabled
    assert "disabled already" in call("integration_connection", "disable")[1]


def test_sync_health_exits_0_when_healthy_and_1_naming_each_problem(mappings):
    heartbeat_record(kind=Heartbeat.Kind.WORKER, name="celery@one")
    heartbeat_record(kind=Heartbeat.Kind.BEAT, name="beat")
    code, out, err = call("sync_health", "--no-broker")
    assert code == 0 and "Healthy." in out and not err
    assert "CUSTOMER" in out and "ERP → Sales" in out

    customer = mappings["CUSTOMER"]
    SyncJob.objects.create(table_mapping=customer, mapping_name="CUSTOMER", direction="to_integration",
                           status=SyncJob.Status.FAILED, message="The job failed: database gone")
    Heartbeat.objects.filter(kind="worker").update(seen_at=timezone.now() - timedelta(minutes=15))
    code, out, err = call("sync_health", "--no-broker", "--problems-only")
    assert code == 1 and not out
    assert "No worker alive: celery@one was last seen 15\xa0minutes ago (killed or crashed?)." in err
    assert "CUSTOMER (ERP → Sales): the last job" in err and "database gone" in err


def test_sync_health_max_lag(mappings):
    from erp.models import Customer
    from integration.models import Coupling

    heartbeat_record(kind=Heartbeat.Kind.WORKER, name="celery@one")
    heartbeat_record(kind=Heartbeat.Kind.BEAT, name="beat")
    customer = mappings["CUSTOMER"]
    customer.erp_watermark = timezone.now() - timedelta(hours=3)
    customer.save()
    record = Customer.objects.create(name="Late")
    Customer.objects.filter(pk=record.pk).update(modified_at=timezone.now() - timedelta(hours=2))
    Coupling.objects.create(erp_model="erp.Customer", crm_model="crm.Account", erp_id=record.pk,
                            crm_id="00000000-0000-0000-0000-0000000000aa")
    assert call("sync_health", "--no-broker", "--max-lag", "180")[0] == 0
    code, _out, err = call("sync_health", "--no-broker", "--max-lag", "60")
    assert code == 1 and "CUSTOMER (ERP → Sales): 2\xa0hours behind." in err
    code, _out, err = call("sync_health", "--max-lag", "-5")
    assert code == 1 and "--max-lag" in err
