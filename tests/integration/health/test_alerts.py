"""Alerts by e-mail (integration/health/alerts.py), with Django's locmem backend: a problem is told once, not again
within the period unless it got worse, and its recovery is told once; nothing goes out without recipients or with the
connection disabled; beat sends them from its own process; the setup refuses a recipient that is no address."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from integration.health.alerts import alerts_send
from integration.health.heartbeats import heartbeat_record
from integration.models import AlertState, ConnectionSetup, Coupling, FailedInsert, Heartbeat, SyncJob

pytestmark = pytest.mark.django_db

TO = "to_integration"


@pytest.fixture(autouse=True)
def locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def watched(mappings):
    setup = ConnectionSetup.get_solo()
    setup.alert_recipients = "ops@example.com,\nfinance@example.com"
    setup.alert_lag_minutes = 60
    setup.alert_worker_minutes = 10
    setup.alert_period_minutes = 60
    setup.save()
    heartbeat_record(kind=Heartbeat.Kind.WORKER, name="celery@one")
    return mappings


def failed_job(mapping, message="The job failed: ERP offline"):
    return SyncJob.objects.create(table_mapping=mapping, mapping_name=mapping.name, direction=TO,
                                  status=SyncJob.Status.FAILED, message=message)


def subjects():
    return [m.subject for m in mail.outbox]


def check(now):
    """The alerts due at ``now``, a worker alive then."""
    heartbeat_record(kind=Heartbeat.Kind.WORKER, name="celery@one", now=now)
    return alerts_send(now=now)


def test_a_failed_job_is_told_once_then_its_recovery_once(watched):
    customer = watched["CUSTOMER"]
    now = timezone.now()
    failed_job(customer)
    assert check(now) == ["[p2c] CUSTOMER: a synchronisation job failed"]
    message = mail.outbox[0]
    assert message.to == ["ops@example.com", "finance@example.com"]
    assert "ERP offline" in message.body and "CUSTOMER (ERP → Sales)" in message.body

    assert check(now + timedelta(minutes=1)) == []  # still failed: not told again
    assert check(now + timedelta(hours=2)) == []  # nor later: nothing new failed

    SyncJob.objects.create(table_mapping=customer, mapping_name="CUSTOMER", direction=TO,
                           status=SyncJob.Status.SUCCESS)
    assert check(now + timedelta(hours=2, minutes=1)) == [
        "[p2c] CUSTOMER: recovered (a synchronisation job failed)"]
    assert "Recovered: Job failed, open since" in mail.outbox[-1].body
    assert check(now + timedelta(hours=2, minutes=2)) == []
    assert len(mail.outbox) == 2


def test_at_most_one_message_per_mapping_and_kind_per_period(watched):
    customer = watched["CUSTOMER"]
    now = timezone.now()
    failed_job(customer, "first")
    check(now)
    failed_job(customer, "second")  # worse: another job failed, but within the period
    assert check(now + timedelta(minutes=30)) == []
    sent = check(now + timedelta(minutes=61))
    assert sent == ["[p2c] CUSTOMER: a synchronisation job failed"] and "second" in mail.outbox[-1].body
    failed_job(watched["CONTACT"])  # another mapping: its own alert at once
    assert check(now + timedelta(minutes=62)) == ["[p2c] CONTACT: a synchronisation job failed"]


def test_newly_skipped_records_lag_and_a_silent_worker(watched):
    customer = watched["CUSTOMER"]
    now = timezone.now()
    FailedInsert.objects.create(erp_model="erp.Customer", crm_model="crm.Account", direction=TO, source_id="7",
                                message="No salesperson", failed_at=now, skipped=True)
    customer.erp_watermark = now - timedelta(hours=3)
    customer.save()
    from erp.models import Customer

    late = Customer.objects.create(name="Late")
    Customer.objects.filter(pk=late.pk).update(modified_at=now - timedelta(minutes=90))
    Coupling.objects.create(erp_model="erp.Customer", crm_model="crm.Account", erp_id=late.pk,
                            crm_id="00000000-0000-0000-0000-0000000000bb")
    Heartbeat.objects.update(seen_at=now - timedelta(minutes=11))
    sent = alerts_send(now=now)
    assert sorted(sent) == sorted(["[p2c] CUSTOMER: records skipped", "[p2c] CUSTOMER: synchronisation behind",
                                   "[p2c] no worker"])
    bodies = "\n".join(m.body for m in mail.outbox)
    assert "1 records of CUSTOMER are skipped" in bodies and "older than 60 minutes" in bodies
    assert "No Celery worker has been seen for 11" in bodies

    # More records skipped after the period: told again; the worker back: its recovery.
    FailedInsert.objects.create(erp_model="erp.Customer", crm_model="crm.Account", direction=TO, source_id="8",
                                message="No salesperson", failed_at=now, skipped=True)
    heartbeat_record(kind=Heartbeat.Kind.WORKER, name="celery@one", now=now + timedelta(minutes=70))
    sent = alerts_send(now=now + timedelta(minutes=70))
    assert sorted(sent) == ["[p2c] CUSTOMER: records skipped", "[p2c] recovered (no worker)"]
    assert "2 records of CUSTOMER" in mail.outbox[-2].body + mail.outbox[-1].body


def test_nothing_is_sent_without_recipients_or_with_the_connection_disabled(watched):
    failed_job(watched["CUSTOMER"])
    setup = ConnectionSetup.get_solo()
    setup.alert_recipients = ""
    setup.save()
    assert alerts_send() == [] and not mail.outbox
    setup.alert_recipients = "ops@example.com"
    setup.is_enabled = False
    setup.save()
    assert alerts_send() == [] and not mail.outbox and not AlertState.objects.exists()


def test_the_setup_refuses_a_recipient_that_is_not_an_address(db):
    setup = ConnectionSetup.get_solo()
    setup.alert_recipients = "ops@example.com, not an address"
    with pytest.raises(ValidationError) as refused:
        setup.full_clean()
    assert "not an address is not an e-mail address." in str(refused.value)


@pytest.mark.django_db(transaction=True)  # django-celery-beat's tick closes old connections, as in beat's process
def test_beat_writes_its_heartbeat_and_sends_the_alerts_from_its_tick(watched):
    from integration.health import heartbeats
    from p2c.celery import app

    failed_job(watched["CUSTOMER"])
    scheduler = heartbeats.BeatScheduler(app=app, lazy=True)
    scheduler.tick()
    assert subjects() == ["[p2c] CUSTOMER: a synchronisation job failed"]
    assert Heartbeat.objects.filter(kind="beat").exists()
    scheduler.tick()  # the next tick, seconds later: neither again
    assert len(mail.outbox) == 1 and Heartbeat.objects.filter(kind="beat").count() == 1


def test_sync_health_send_alerts_for_cron(watched):
    from tests.integration.helpers import call

    failed_job(watched["CUSTOMER"])
    code, out, _err = call("sync_health", "--no-broker", "--send-alerts", "--problems-only")
    assert code == 1 and "Alert sent: [p2c] CUSTOMER: a synchronisation job failed" in out
    assert len(mail.outbox) == 1


def test_each_recipient_reads_the_alert_in_the_language_they_chose(watched, client):
    """The finance user chose Swedish in the admin header: their alert is in Swedish, the other one in
    P2C_LANGUAGE (English), the job's message in each language too."""
    from django.contrib.auth.models import User
    from django.utils import translation

    from integration.engine.job_log import job_summary_said

    finance = User.objects.create_user("finance", "finance@example.com", "pw", is_staff=True)
    client.force_login(finance)
    client.post("/i18n/setlang/", {"language": "sv", "next": "/admin/"})
    assert client.cookies["django_language"].value == "sv"  # Django's own switch still does its part
    job = failed_job(watched["CUSTOMER"], message="")
    with translation.override("en"):
        job.message_set(job_summary_said(job, {}))
    job.save()
    check(timezone.now())
    by_address = {message.to[0]: message for message in mail.outbox}
    assert set(by_address) == {"ops@example.com", "finance@example.com"} and len(mail.outbox) == 2
    swedish, english = by_address["finance@example.com"], by_address["ops@example.com"]
    assert english.subject == "[p2c] CUSTOMER: a synchronisation job failed"
    assert "nothing to synchronise" in english.body
    assert "a synchronisation job failed" not in swedish.subject and "CUSTOMER" in swedish.subject
    assert "nothing to synchronise" not in swedish.body and "inget att synkronisera" in swedish.body, swedish.body
