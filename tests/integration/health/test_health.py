"""The health page (Integration → Health) and its selectors (integration/health/reads.py): per mapping and direction the
last run and its result, the lag, the records waiting, failed and skipped, the conflicts; the workers' and beat's
heartbeats; the charts; a constant number of queries whatever the log's size."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.models import Account
from erp.models import Customer
from integration.health import heartbeats
from integration.health.heartbeats import heartbeat_record
from integration.health.reads import health_summary, mappings_health
from integration.models import Coupling, Direction, FailedInsert, Heartbeat, SyncConflict, SyncJob
from p2c.records import writing_as

pytestmark = pytest.mark.django_db

HEALTH = "admin:integration_health"
TO, FROM = Direction.TO_INTEGRATION, Direction.FROM_INTEGRATION


@pytest.fixture
def superuser_client(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def job(mapping, direction, status, *, ago, **fields):
    created = timezone.now() - ago
    made = SyncJob.objects.create(table_mapping=mapping, mapping_name=mapping.name, direction=direction, status=status,
                                  started_at=created, finished_at=created + timedelta(seconds=10), **fields)
    SyncJob.objects.filter(pk=made.pk).update(created_at=created)
    return made


def customer_changed(name, *, now, ago, synced_ago):
    """An ERP customer changed ``ago`` before ``now``, coupled and last synchronised at the change ``synced_ago``
    (None: not coupled)."""
    customer = Customer.objects.create(name=name)
    Customer.objects.filter(pk=customer.pk).update(modified_at=now - ago)
    if synced_ago is not None:
        Coupling.objects.create(erp_model="erp.Customer", crm_model="crm.Account", erp_id=customer.pk,
                                crm_id=uuid.uuid4(), last_synced_erp_modified=now - synced_ago)
    return customer


def row_of(rows, name, direction):
    return next(r for r in rows if r.mapping.name == name and r.direction == direction)


def test_the_figures_of_a_failed_job_a_two_hour_lag_and_a_dead_worker(superuser_client, mappings):
    customer = mappings["CUSTOMER"]
    now = timezone.now()
    job(customer, TO, SyncJob.Status.SUCCESS, ago=timedelta(hours=4), full=True, inserted=900, unchanged=100)
    job(customer, TO, SyncJob.Status.FAILED, ago=timedelta(hours=1), message="The ERP database went away.")
    job(customer, FROM, SyncJob.Status.SUCCESS, ago=timedelta(minutes=30), modified=3)
    customer.erp_watermark = now - timedelta(hours=3)
    customer.save()
    waiting = customer_changed("Waiting two hours", now=now, ago=timedelta(hours=2), synced_ago=timedelta(hours=4))
    customer_changed("Waiting a minute", now=now, ago=timedelta(minutes=1), synced_ago=timedelta(hours=4))
    customer_changed("Not coupled (Synch. Only Coupled Records)", now=now, ago=timedelta(hours=2.5), synced_ago=None)
    customer_changed("Written by the last run", now=now, ago=timedelta(hours=2.5), synced_ago=timedelta(hours=2.5))
    customer_changed("Synchronised before", now=now, ago=timedelta(hours=5), synced_ago=timedelta(hours=5))
    assert waiting.pk
    FailedInsert.objects.create(erp_model="erp.Customer", crm_model="crm.Account", direction=TO, source_id="1",
                                message="No salesperson", failed_at=now)
    FailedInsert.objects.create(erp_model="erp.Customer", crm_model="crm.Account", direction=TO, source_id="2",
                                message="No salesperson", failed_at=now, skipped=True)
    heartbeat_record(kind=Heartbeat.Kind.WORKER, name="celery@dead", now=now - timedelta(minutes=10))
    heartbeat_record(kind=Heartbeat.Kind.BEAT, name="beat-host", now=now - timedelta(seconds=20))

    summary = health_summary(now=now)
    to = row_of(summary.rows, "CUSTOMER", TO)
    assert to.last_job.status == SyncJob.Status.FAILED and to.last_failed
    assert to.waiting == 2 and timedelta(hours=2) <= to.lag < timedelta(hours=2, minutes=1)
    assert (to.failed, to.skipped) == (1, 1)
    assert to.full_rows_per_second == 100  # 1,000 rows in 10 s
    by_hour = {hour: (s, f) for hour, s, f in to.jobs_per_hour}
    assert len(by_hour) == 24
    assert by_hour[(now - timedelta(hours=4)).replace(minute=0, second=0, microsecond=0)] == (1, 0)
    assert by_hour[(now - timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)] == (0, 1)
    frm = row_of(summary.rows, "CUSTOMER", FROM)
    assert not frm.last_failed and frm.full_rows_per_second is None
    assert frm.waiting == 0 and frm.lag == timedelta(0)
    assert sum(r for _d, r in frm.records_per_day) == 3
    assert summary.connection.workers_alive == 0 and summary.connection.beat_alive
    kinds = {(kind, name) for kind, name, _data in summary.problems()}
    assert ("no_worker", None) in kinds and ("job_failed", "CUSTOMER") in kinds and ("no_beat", None) not in kinds

    html = superuser_client.get(reverse(HEALTH)).content.decode()
    assert "none alive, last seen 10" in html and "celery@dead (silent)" in html
    page_row = html.split('data-mapping="CUSTOMER" data-direction="to_integration"')[1].split("</tr>")[0]
    assert "Failed" in page_row and "2\xa0hours" in page_row and 'class="p2c-number p2c-waiting">2<' in page_row
    assert "<svg" in html and "cdn" not in html.lower()
    assert row_of(health_summary(now=now).rows, "PAYMENT TERMS", TO).waiting is None  # an option mapping: no records


def test_sales_changes_waiting_leave_out_the_integration_users_writes_and_the_uncoupled(mappings, integration_user):
    customer = mappings["CUSTOMER"]
    now = timezone.now()
    customer.crm_watermark = now - timedelta(hours=3)
    customer.save()
    waiting, echoed, alone, synced = (Account.objects.create(name=n, customer_type_code="customer")
                                      for n in ("Waiting", "Echo", "Alone", "Synced"))
    for account, ago in ((waiting, 90), (alone, 30), (synced, 20)):
        Account.objects.filter(pk=account.pk).update(modifiedon=now - timedelta(minutes=ago))
    with writing_as(integration_user.pk):  # the integration's own write, never read back
        Account.objects.filter(pk=echoed.pk).update(modifiedon=now - timedelta(minutes=60))
    for n, (account, synced_ago) in enumerate(((waiting, 200), (echoed, 200), (synced, 20))):
        Coupling.objects.create(erp_model="erp.Customer", crm_model="crm.Account", erp_id=n + 1, crm_id=account.pk,
                                last_synced_crm_modified=now - timedelta(minutes=synced_ago))
    frm = row_of(mappings_health(now=now), "CUSTOMER", FROM)
    assert frm.waiting == 1 and frm.lag == timedelta(minutes=90)


def test_a_live_worker_and_the_conflicts_and_couplings_failed(superuser_client, mappings):
    customer = mappings["CUSTOMER"]
    heartbeat_record(kind=Heartbeat.Kind.WORKER, name="celery@alive")
    coupling = Coupling.objects.create(erp_model="erp.Customer", crm_model="crm.Account", erp_id=1,
                                       crm_id="00000000-0000-0000-0000-000000000001", last_crm_result="failure")
    Coupling.objects.create(erp_model="erp.Customer", crm_model="crm.Account", erp_id=2,
                            crm_id="00000000-0000-0000-0000-000000000002", last_erp_result="failure", skipped=True)
    SyncConflict.objects.create(coupling=coupling, table_mapping=customer, since=timezone.now())
    rows = mappings_health()
    to, frm = row_of(rows, "CUSTOMER", TO), row_of(rows, "CUSTOMER", FROM)
    assert (to.failed, to.skipped, frm.failed, frm.skipped) == (1, 0, 0, 1)
    assert to.conflicts == frm.conflicts == 1
    html = superuser_client.get(reverse(HEALTH)).content.decode()
    assert "1 alive" in html and "celery@alive" in html


def test_the_page_costs_the_same_queries_for_10_and_10000_jobs(superuser_client, mappings):
    customer, contact = mappings["CUSTOMER"], mappings["CONTACT"]
    now = timezone.now()

    def log(n):
        SyncJob.objects.all().delete()
        SyncJob.objects.bulk_create([
            SyncJob(table_mapping=(customer, contact)[i % 2], mapping_name=("CUSTOMER", "CONTACT")[i % 2],
                    direction=(TO, FROM)[i % 3 % 2], status=(SyncJob.Status.SUCCESS, SyncJob.Status.ERROR)[i % 5 == 0],
                    full=i % 7 == 0, started_at=now - timedelta(minutes=i), finished_at=now, inserted=i % 4)
            for i in range(n)
        ], batch_size=2000)
        SyncJob.objects.update(created_at=now - timedelta(minutes=1))

    counts = []
    for n in (10, 10_000):
        log(n)
        with CaptureQueriesContext(connection) as queries:
            response = superuser_client.get(reverse(HEALTH))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_the_page_needs_the_right_to_read_the_log_and_the_index_links_it(client, mappings):
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(user)
    assert client.get(reverse(HEALTH)).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_syncjob"))
    assert client.get(reverse(HEALTH)).status_code == 200
    index = client.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse(HEALTH)}"' in index


def test_heartbeats_overwrite_their_row_and_the_worker_writes_on_its_timer():
    class Timer:  # the consumer's timer, as Celery's worker has it: call_repeatedly(seconds, function, args)
        calls = []

        def call_repeatedly(self, seconds, function, args):
            self.calls.append((seconds, function, args))

    class Consumer:
        hostname = "celery@host-1"
        timer = Timer()

    heartbeats.worker_heartbeats_start(Consumer())
    first = Heartbeat.objects.get(kind="worker", name="celery@host-1").seen_at
    seconds, function, args = Consumer.timer.calls[0]
    assert seconds == heartbeats.HEARTBEAT_EVERY
    function(*args)
    assert Heartbeat.objects.count() == 1
    assert Heartbeat.objects.get().seen_at >= first
