"""docs/features.md I7: the synchronisation log does not grow for ever. Jobs (with their errors) and full
synchronisation runs older than the retention are deleted, from the jobs list (BC's "Delete entries older than 7 days" /
"Delete all entries"), the API, the command and the daily task, keeping the failed jobs records still wait on."""

import uuid
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from integration import task_names
from integration.background.schedules import LOG_CLEANUP_NAME, log_cleanup_schedule_create
from integration.background.sync_log import sync_log_cleanup
from integration.models import (
    ConnectionSetup,
    Coupling,
    Direction,
    FailedInsert,
    FullSyncLine,
    FullSyncRun,
    IntegrationProject,
    IntegrationProjectRun,
    IntegrationProjectTaskRun,
    SyncJob,
    SyncJobError,
)
from integration.tasks import sync_log_cleanup_task

pytestmark = pytest.mark.django_db


def job(days_old, *, status=SyncJob.Status.SUCCESS, errors=0, failed=0):
    created = SyncJob.objects.create(mapping_name="CUSTOMER", direction=Direction.TO_INTEGRATION, status=status,
                                     failed=failed or errors)
    SyncJobError.objects.bulk_create([SyncJobError(job=created, source_model="erp.Customer", source_id=str(i),
                                                   message="Name is blank") for i in range(errors)])
    SyncJob.objects.filter(pk=created.pk).update(created_at=timezone.now() - timedelta(days=days_old))
    return created


def coupling(**kwargs):
    return Coupling.objects.create(erp_model="erp.Customer", crm_model="crm.Account",
                                   erp_id=Coupling.objects.count() + 1, crm_id=uuid.uuid4(), **kwargs)


def full_sync_run(days_old, *, status=FullSyncRun.Status.FINISHED, to_job=None):
    run = FullSyncRun.objects.create(status=status)
    FullSyncLine.objects.create(run=run, mapping_name="CUSTOMER", recommendation="full_synchronization",
                                to_job=to_job)
    FullSyncRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(days=days_old))
    return run


@pytest.fixture
def log():
    """A log as it grows: old and new jobs; old failed jobs that records still point at, and one nobody needs."""
    old_ok, new_ok = job(40, errors=0), job(2)
    old_failed_nobody = job(40, status=SyncJob.Status.ERROR, errors=2)
    old_failed_skipped = job(40, status=SyncJob.Status.ERROR, errors=1)
    old_failed_retrying = job(40, status=SyncJob.Status.ERROR, errors=1)
    old_failed_insert = job(40, status=SyncJob.Status.ERROR, errors=1)
    old_running = job(40, status=SyncJob.Status.RUNNING)
    old_of_kept_project_run = job(40)
    old_of_running_full_sync = job(40)
    succeeded_since = coupling(last_crm_job=old_failed_nobody, last_crm_result="success")
    coupling(last_crm_job=old_failed_skipped, last_crm_result="failure", skipped=True)
    coupling(last_erp_job=old_failed_retrying, last_erp_result="failure")
    FailedInsert.objects.create(erp_model="erp.Customer", crm_model="crm.Account", direction=Direction.TO_INTEGRATION,
                                source_id="7", message="Name is blank", job=old_failed_insert,
                                failed_at=timezone.now())
    project_run = IntegrationProjectRun.objects.create(project=IntegrationProject.objects.create(name="Accounts"),
                                                       status="success")
    IntegrationProjectTaskRun.objects.create(run=project_run, task_name="Accounts", sync_job=old_of_kept_project_run)
    old_run, new_run = full_sync_run(40, to_job=old_ok), full_sync_run(1)
    running_run = full_sync_run(40, status=FullSyncRun.Status.RUNNING, to_job=old_of_running_full_sync)
    return {
        "deleted": {old_ok.pk, old_failed_nobody.pk},
        "kept": {new_ok.pk, old_failed_skipped.pk, old_failed_retrying.pk, old_failed_insert.pk, old_running.pk,
                 old_of_kept_project_run.pk, old_of_running_full_sync.pk},
        "runs_deleted": {old_run.pk}, "runs_kept": {new_run.pk, running_run.pk},
        "succeeded_since": succeeded_since, "new_ok": new_ok.pk, "new_run": new_run.pk,
    }


def assert_cleaned(log):
    assert set(SyncJob.objects.values_list("pk", flat=True)) == log["kept"]
    assert not SyncJobError.objects.filter(job_id__in=log["deleted"]).exists()
    assert SyncJobError.objects.count() == 3  # the errors of the three failed jobs kept
    assert set(FullSyncRun.objects.values_list("pk", flat=True)) == log["runs_kept"]
    log["succeeded_since"].refresh_from_db()
    assert log["succeeded_since"].last_crm_job_id is None  # the coupling stays; its link to the gone job is cleared


@pytest.mark.parametrize("chunk_size", [10_000, 1])
def test_old_entries_go_the_evidence_stays(log, chunk_size):
    outcome = sync_log_cleanup(older_than_days=30, chunk_size=chunk_size)
    assert outcome.counts["done"] == 2 and outcome.level == "success"
    assert "2 jobs, 2 job errors and 1 full synchronisation run deleted." in outcome.summary()
    assert "5 old jobs kept" in outcome.summary()  # two couplings, a failed insert, a project run, a full sync
    assert_cleaned(log)


def test_dry_run_counts_and_deletes_nothing(log):
    before = SyncJob.objects.count(), SyncJobError.objects.count(), FullSyncRun.objects.count()
    outcome = sync_log_cleanup(older_than_days=30, dry_run=True)
    assert "2 jobs, 2 job errors and 1 full synchronisation run would be deleted." in outcome.summary()
    assert (SyncJob.objects.count(), SyncJobError.objects.count(), FullSyncRun.objects.count()) == before


def test_all_entries_and_the_setup_retention(log):
    setup = ConnectionSetup.get_solo()
    assert setup.log_retention_days == 30
    setup.log_retention_days = 50
    setup.save()
    assert sync_log_cleanup().counts["done"] == 0  # nothing is 50 days old
    outcome = sync_log_cleanup(older_than_days=0)
    assert outcome.verb.endswith("(all)")
    # Every entry, but still not what records wait on, nor a running job or run.
    assert set(SyncJob.objects.values_list("pk", flat=True)) == log["kept"] - {log["new_ok"]}
    assert set(FullSyncRun.objects.values_list("pk", flat=True)) == log["runs_kept"] - {log["new_run"]}


def test_command_prints_what_it_deletes(log, capsys):
    call_command("sync_log_cleanup", "--older-than", "30", "--dry-run")
    out = capsys.readouterr().out
    assert "would be deleted" in out and SyncJob.objects.filter(pk__in=log["deleted"]).count() == 2
    call_command("sync_log_cleanup", "--older-than", "30")
    out = capsys.readouterr().out
    assert "older than 30 days: 2 done." in out and "2 jobs, 2 job errors" in out
    assert_cleaned(log)
    with pytest.raises(CommandError, match="argument --older-than: -1 is out of range"):
        call_command("sync_log_cleanup", "--older-than", "-1")


def test_api_cleanup(log, admin_user, django_user_model):
    api = APIClient()
    viewer = django_user_model.objects.create_user("viewer", password=None)
    api.force_authenticate(viewer)
    assert api.post("/api/integration/jobs/cleanup/", {}, format="json").status_code == 403
    api.force_authenticate(admin_user)
    response = api.post("/api/integration/jobs/cleanup/", {"older_than_days": -1}, format="json")
    assert response.status_code == 400 and "older_than_days" in response.data
    response = api.post("/api/integration/jobs/cleanup/", {"dry_run": True}, format="json")  # setup: 30 days
    assert response.status_code == 200 and response.data["counts"]["done"] == 2
    assert SyncJob.objects.filter(pk__in=log["deleted"]).count() == 2
    response = api.post("/api/integration/jobs/cleanup/", {"older_than_days": 30}, format="json")
    assert response.status_code == 200 and response.data["counts"]["done"] == 2
    assert_cleaned(log)


def test_admin_delete_entries_older_than_7_days(log, admin_client):
    changelist = admin_client.get("/admin/integration/syncjob/")
    assert b"Delete entries older than 7 days" in changelist.content and b"Delete all entries" in changelist.content
    page = admin_client.get("/admin/integration/syncjob/cleanup/?days=7")
    assert b"Are you sure that you want to delete the 2 entries?" in page.content
    assert SyncJob.objects.filter(pk__in=log["deleted"]).count() == 2
    response = admin_client.post("/admin/integration/syncjob/cleanup/", {"days": "7"}, follow=True)
    assert_cleaned(log)
    assert "2 jobs, 2 job errors and 1 full synchronisation run deleted." in response.content.decode()


def test_admin_cleanup_needs_the_delete_permission(log, client, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("staff", password=None, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_syncjob"))
    client.force_login(user)
    assert b"Delete all entries" not in client.get("/admin/integration/syncjob/").content
    assert client.post("/admin/integration/syncjob/cleanup/", {"days": "0"}).status_code == 403
    assert SyncJob.objects.filter(pk__in=log["deleted"]).count() == 2


def test_daily_task_uses_the_setup_retention(log):
    task = log_cleanup_schedule_create()
    assert PeriodicTask.objects.get(name=LOG_CLEANUP_NAME).task == task_names.SYNC_LOG_CLEANUP
    assert log_cleanup_schedule_create().pk == task.pk  # idempotent
    result = sync_log_cleanup_task.delay().get()
    assert result["counts"]["done"] == 2
    assert_cleaned(log)


def test_the_wizard_schedules_both_clean_ups():
    from integration.admin.wizard import _schedules_create

    _schedules_create(30)
    tasks = dict(PeriodicTask.objects.values_list("name", "task"))
    assert tasks[LOG_CLEANUP_NAME] == task_names.SYNC_LOG_CLEANUP
    assert tasks["Delete data integration project history"] == task_names.CLEANUP_PROJECT_RUNS


def test_the_retention_is_set_in_the_connection_setup(admin_client):
    from tests.admin_helpers import admin_form_data

    url = f"/admin/integration/connectionsetup/{ConnectionSetup.get_solo().pk}/change/"
    data = admin_form_data(admin_client.get(url))
    assert data["log_retention_days"] == "30"
    data["log_retention_days"] = "0"
    assert admin_client.post(url, data).status_code == 200  # refused: at least one day
    for too_many in ("36501", "99999999999"):  # past a hundred years (p2c.limits.MAX_AGE_DAYS): refused, told
        data["log_retention_days"] = too_many
        response = admin_client.post(url, data)
        assert response.status_code == 200 and "less than or equal to 36500" in response.content.decode()
    data["log_retention_days"], data["alert_lag_minutes"] = "36500", "52560001"
    response = admin_client.post(url, data)
    assert response.status_code == 200 and "less than or equal to 52560000" in response.content.decode()
    data["log_retention_days"], data["alert_lag_minutes"] = "7", "60"
    assert admin_client.post(url, data).status_code == 302
    assert ConnectionSetup.get_solo().log_retention_days == 7


def test_a_job_deleted_one_at_a_time_clears_the_couplings_that_name_it():
    """The couplings' jobs have no database constraint (a first load checked one per coupling): deleting a job
    otherwise, as the admin's delete does, still leaves its couplings with no job rather than a dangling one."""
    gone, kept = job(1), job(1)
    both = coupling(last_erp_job=gone, last_crm_job=kept)
    gone.delete()
    both.refresh_from_db()
    assert (both.last_erp_job_id, both.last_crm_job_id) == (None, kept.pk)


@pytest.mark.parametrize("days", [36_501, 1_000_000, 99_999_999_999])
def test_the_cleanup_takes_up_to_a_hundred_years_at_every_door(log, admin_user, admin_client, days):
    """Bounded doors (docs/decisions.md): 1,000,000 days was a 500 ("date value out of range"), 99,999,999,999 "Python
    int too large". The operation holds the bound (p2c.limits.MAX_AGE_DAYS); the API states it in its schema, the admin
    tells it, the command refuses it in one usage line."""
    message = "The age must be at most 36,500 days (a hundred years)"
    with pytest.raises(Exception, match=r"at most 36,500 days"):
        sync_log_cleanup(older_than_days=days)
    api = APIClient()
    api.force_authenticate(admin_user)
    response = api.post("/api/integration/jobs/cleanup/", {"older_than_days": days}, format="json")
    assert response.status_code == 400 and "older_than_days" in response.data
    for method in (admin_client.get, admin_client.post):
        response = method(f"/admin/integration/syncjob/cleanup/?days={days}", {"days": days}, follow=True)
        assert response.status_code == 200 and message in response.content.decode()
    with pytest.raises(CommandError, match=f"argument --older-than: {days} is out of range"):
        call_command("sync_log_cleanup", "--older-than", str(days))
    assert SyncJob.objects.filter(pk__in=log["deleted"]).count() == 2  # nothing deleted
    # At the bound: nothing is that old, nothing goes, and every door answers.
    assert api.post("/api/integration/jobs/cleanup/", {"older_than_days": 36_500},
                    format="json").data["counts"]["done"] == 0
    assert b"36500" in admin_client.get("/admin/integration/syncjob/cleanup/?days=36500").content
    call_command("sync_log_cleanup", "--older-than", "36500")
    assert SyncJob.objects.filter(pk__in=log["deleted"]).count() == 2


def test_the_schema_states_the_cleanup_bound(admin_user):
    api = APIClient()
    api.force_authenticate(admin_user)
    schema = api.get("/api/schema/", {"format": "json"}).json()
    field = schema["components"]["schemas"]["SyncLogCleanup"]["properties"]["older_than_days"]
    assert field["maximum"] == 36_500 and field["minimum"] == 0
