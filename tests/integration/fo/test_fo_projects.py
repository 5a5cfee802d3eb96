"""docs/features.md P1, P6: projects from templates, the prerequisite check, execution history, re-run, cleanup, and the
doors (command, Celery task, API, admin)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from erp.models import Customer
from integration.fo.projects import (
    ProjectRefused,
    prerequisites_missing,
    project_run_execute,
    project_run_rerun,
    project_run_start,
    project_runs_cleanup,
    task_run_skip_reasons,
)
from integration.fo.templates import (
    ACCOUNTS_TEMPLATE,
    CONTACT_TO_CUSTOMER_TEMPLATE,
    CONTACTS_TEMPLATE,
    TEMPLATES,
    fo_templates_install,
    project_delete,
)
from integration.models import (
    IntegrationProject,
    IntegrationProjectRun,
    IntegrationTableMapping,
    IntegrationTemplate,
)
from tests.concurrency import dead_holder_token
from tests.integration.fo_helpers import make_account

pytestmark = pytest.mark.django_db


def run(project, **kwargs):
    return project_run_execute(run_id=project_run_start(project=project, **kwargs).pk)


def test_shipped_templates_and_their_tasks(db):
    fo_templates_install()
    fo_templates_install()  # idempotent
    assert {t.name: [task.name for task in t.tasks.all()] for t in IntegrationTemplate.objects.all()} == {
        ACCOUNTS_TEMPLATE: ["Accounts - Customers"],
        CONTACTS_TEMPLATE: ["Contacts"],
        CONTACT_TO_CUSTOMER_TEMPLATE: ["ContactToCustomer"],
    }
    assert len(TEMPLATES) == 3


def test_a_project_task_owns_an_engine_table_mapping(fo_projects):
    task = fo_projects["contacts"].tasks.get()
    mapping = task.table_mapping
    assert (mapping.crm_model, mapping.erp_model, mapping.direction) == ("crm.Contact", "erp.Contact",
                                                                         "from_integration")
    assert mapping.crm_filter == {"is_active_customer": False, "is_company_an_account": True}
    assert mapping.field_mappings.filter(erp_field="no", crm_field="contact_number",
                                         use_for_match_coupling=True).exists()
    # It runs with its project only: the BC synchronisation (sync --all, coupling actions) leaves it alone.
    from crm.models import Contact as SalesContact
    from integration.coupling.couplings import mappings_for_model

    assert not mapping.is_enabled
    assert mapping.pk not in {m.pk for m in mappings_for_model(SalesContact)}
    project_delete(project=fo_projects["contacts"])
    assert not IntegrationTableMapping.objects.filter(pk=mapping.pk).exists()


@pytest.mark.parametrize("project", ["contacts", "contact_to_customer"])
def test_contacts_projects_are_refused_before_the_accounts_task_has_succeeded(fo_projects, project):
    assert prerequisites_missing(project=fo_projects[project]) == ["Accounts - Customers"]
    with pytest.raises(ProjectRefused) as info:
        project_run_start(project=fo_projects[project])
    assert "Accounts - Customers" in str(info.value)
    assert not IntegrationProjectRun.objects.exists()
    with pytest.raises(CommandError, match="Accounts - Customers"):
        call_command("p2c_run", fo_projects[project].name)
    run(fo_projects["accounts"])
    assert prerequisites_missing(project=fo_projects[project]) == []
    assert run(fo_projects[project]).status == "success"


def test_a_failed_accounts_run_does_not_meet_the_prerequisite(fo_projects, another_run):
    another_run(fo_projects["accounts"].tasks.get().table_mapping)
    failed = run(fo_projects["accounts"])
    assert failed.status == "error" and "Accounts - Customers" in failed.message
    assert "being synchronised by another run" in failed.task_runs.get().message
    assert prerequisites_missing(project=fo_projects["contacts"]) == ["Accounts - Customers"]


def test_execution_history_per_task_and_rerun(fo_projects):
    make_account("A1")
    make_account("A2")
    make_account("Gone", state_code="inactive")
    first = run(fo_projects["accounts"])
    task_run = first.task_runs.get()
    assert (task_run.read, task_run.upserted, task_run.inserted, task_run.failed) == (2, 2, 2, 0)
    assert task_run_skip_reasons(task_run) == {"account is inactive": 1} and task_run.skipped == 1
    assert task_run.sync_job is not None and first.started_at and first.finished_at
    assert "2 read" in task_run.message
    again = project_run_execute(run_id=project_run_rerun(run=first).pk)
    assert again.rerun_of_id == first.pk and again.full
    assert again.task_runs.get().unchanged == 2 and again.task_runs.get().upserted == 0
    assert Customer.objects.count() == 2


def test_execute_is_idempotent_and_one_run_at_a_time(fo_projects):
    queued = project_run_start(project=fo_projects["accounts"])
    with pytest.raises(ProjectRefused, match="already running"):
        project_run_start(project=fo_projects["accounts"])
    done = project_run_execute(run_id=queued.pk)
    assert done.status == "success"
    finished_at = done.finished_at
    assert project_run_execute(run_id=queued.pk).finished_at == finished_at  # a redelivered task does nothing


def test_cleanup_removes_old_history_but_keeps_the_proof_of_a_prerequisite(fo_projects):
    old = run(fo_projects["accounts"])
    older = run(fo_projects["accounts"])
    IntegrationProjectRun.objects.filter(pk__in=[old.pk, older.pk]).update(
        created_at=timezone.now() - timedelta(days=60)
    )
    recent = run(fo_projects["contacts"])
    assert project_runs_cleanup(older_than=timedelta(days=45)) == 1
    remaining = set(IntegrationProjectRun.objects.values_list("pk", flat=True))
    assert recent.pk in remaining and len(remaining) == 2
    assert prerequisites_missing(project=fo_projects["contacts"]) == []
    call_command("p2c_cleanup_runs", "--days", "0")


def test_history_age_is_configurable(settings, monkeypatch):
    from integration.fo.projects import history_days

    assert history_days() == 45
    monkeypatch.setenv("P2C_PROJECT_HISTORY_DAYS", "10")
    assert history_days() == 10
    settings.P2C_PROJECT_HISTORY_DAYS = 7
    assert history_days() == 7


def test_celery_task_runs_a_queued_run(fo_projects):
    from integration.tasks import run_project

    make_account("Celery Ltd")
    queued = project_run_start(project=fo_projects["accounts"])
    result = run_project.delay(queued.pk).get()
    assert result == {"run": queued.pk, "status": "success"}
    assert run_project.delay(queued.pk).get()["status"] == "success"
    assert Customer.objects.count() == 1


def test_p2c_run_command_creates_runs_and_reports(fo_projects, capsys):
    make_account("Cmd AB")
    call_command("p2c_run", "Accounts")
    out = capsys.readouterr().out
    assert "Accounts - Customers [Completed]" in out and "1 read" in out
    call_command("p2c_run", "Accounts EU", "--create", ACCOUNTS_TEMPLATE)
    assert IntegrationProject.objects.filter(name="Accounts EU").exists()


# -- API -----------------------------------------------------------------------------------------------------------
@pytest.fixture
def api(admin_client):
    return admin_client


def test_api_lists_projects_and_starts_and_inspects_runs(fo_projects, api, django_capture_on_commit_callbacks):
    make_account("Api AB")
    listing = api.get("/api/integration/projects/").json()
    names = [p["name"] for p in listing["results"]]
    assert {"Accounts", "Contacts", "Contacts to Customer"} <= set(names)
    contacts = fo_projects["contacts"]
    refused = api.post(f"/api/integration/projects/{contacts.pk}/run/", {}, content_type="application/json")
    assert refused.status_code == 409
    assert "Accounts - Customers" in refused.json()["detail"]
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(f"/api/integration/projects/{fo_projects['accounts'].pk}/run/", {"full": True},
                           content_type="application/json")
    assert started.status_code == 202, started.content
    run_id = started.json()["id"]
    detail = api.get(f"/api/integration/project-runs/{run_id}/").json()
    assert detail["status"] == "success"
    assert detail["task_runs"][0]["task_name"] == "Accounts - Customers"
    assert detail["task_runs"][0]["upserted"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        rerun = api.post(f"/api/integration/project-runs/{run_id}/rerun/")
    assert rerun.status_code == 202 and rerun.json()["rerun_of"] == run_id
    assert api.get("/api/integration/templates/").status_code == 200


def test_api_needs_the_run_permission(fo_projects, client, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", password="x")
    user.user_permissions.add(Permission.objects.get(codename="view_integrationproject"))
    client.force_login(user)
    assert client.get("/api/integration/projects/").status_code == 200
    response = client.post(f"/api/integration/projects/{fo_projects['accounts'].pk}/run/")
    assert response.status_code == 403


# -- admin ------------------------------------------------------------------------------------------------------------
def test_admin_run_project_action_and_pages(fo_projects, admin_client, django_capture_on_commit_callbacks):
    make_account("Admin AB")
    url = reverse("admin:integration_integrationproject_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"action": "run_project",
                                           "_selected_action": [fo_projects["accounts"].pk,
                                                                fo_projects["contacts"].pk]}, follow=True)
    text = response.content.decode()
    # One started, one refused: a warning that counts each kind and names the refusal's reason.
    [message] = list(response.context["messages"])
    assert message.level_tag == "warning" and "Run project: 1 queued, 1 refused." in message.message
    assert "Accounts - Customers" in text  # the refusal of the contacts project names the missing task
    run_ = IntegrationProjectRun.objects.get()
    assert run_.status == "success"
    for name in ("integrationprojectrun", "integrationproject", "integrationtemplate", "integrationprojecttask"):
        assert admin_client.get(reverse(f"admin:integration_{name}_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:integration_integrationprojectrun_change", args=[run_.pk])).status_code == 200
    task = fo_projects["accounts"].tasks.get()
    assert admin_client.get(reverse("admin:integration_integrationprojecttask_change", args=[task.pk])).status_code == 200
    assert admin_client.get(reverse("admin:integration_integrationproject_change",
                                    args=[fo_projects["accounts"].pk])).status_code == 200


def test_admin_edits_a_task_filter_and_value_map(fo_projects, admin_client):
    task = fo_projects["accounts"].tasks.get()
    url = reverse("admin:integration_integrationprojecttask_change", args=[task.pk])
    defaults = list(task.defaults.order_by("erp_field"))
    data = {
        "name": task.name, "sequence": task.sequence, "prerequisites": "[]",
        "source_filter": '{"state_code": "active", "customer_type_code": "customer"}',
        "defaults-TOTAL_FORMS": str(len(defaults)), "defaults-INITIAL_FORMS": str(len(defaults)),
        "defaults-MIN_NUM_FORMS": "0", "defaults-MAX_NUM_FORMS": "1000",
    }
    for i, d in enumerate(defaults):
        data.update({f"defaults-{i}-id": d.pk, f"defaults-{i}-task": task.pk, f"defaults-{i}-erp_field": d.erp_field,
                     f"defaults-{i}-default_value": d.default_value, f"defaults-{i}-key_field": d.key_field,
                     f"defaults-{i}-value_map": '{"SE": "S1"}' if d.erp_field == "site" else "{}"})
        if d.erp_field == "site":
            data[f"defaults-{i}-key_field"] = "address1_country"
        if d.required:
            data[f"defaults-{i}-required"] = "on"
    response = admin_client.post(url, data)
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.table_mapping.crm_filter == {"state_code": "active", "customer_type_code": "customer"}
    assert task.defaults.get(erp_field="site").value_map == {"SE": "S1"}
    bad = dict(data, source_filter='{"nope": 1}')
    assert "has no field" in admin_client.post(url, bad).content.decode()


def test_admin_makes_projects_from_templates(integration_user, number_series, admin_client):
    templates_url = reverse("admin:integration_integrationtemplate_changelist")
    fo_templates_install()  # what the data migration does in a database built by migrating
    assert admin_client.get(templates_url).status_code == 200
    accounts = IntegrationTemplate.objects.get(name=ACCOUNTS_TEMPLATE)
    response = admin_client.post(templates_url, {"action": "create_projects", "_selected_action": [accounts.pk]},
                                 follow=True)
    assert "1 project created: Accounts" in response.content.decode()
    add_url = reverse("admin:integration_integrationproject_add")
    contacts = IntegrationTemplate.objects.get(name=CONTACTS_TEMPLATE)
    response = admin_client.post(add_url, {
        "name": "Contacts EU", "template": contacts.pk, "description": "",
        "tasks-TOTAL_FORMS": "0", "tasks-INITIAL_FORMS": "0", "tasks-MIN_NUM_FORMS": "0", "tasks-MAX_NUM_FORMS": "0",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    project = IntegrationProject.objects.get(name="Contacts EU")
    assert [t.name for t in project.tasks.all()] == ["Contacts"]
    assert project.tasks.get().table_mapping.field_mappings.exists()


def test_a_run_left_in_process_by_a_dead_worker_does_not_block_the_project(fo_projects):
    stuck = project_run_start(project=fo_projects["accounts"])
    # Its process was killed a few seconds ago: the project is free at once, the run says why.
    IntegrationProjectRun.objects.filter(pk=stuck.pk).update(status="running", holder=dead_holder_token(),
                                                              started_at=timezone.now() - timedelta(seconds=5))
    fresh = project_run_start(project=fo_projects["accounts"])
    stuck.refresh_from_db()
    assert stuck.status == "error" and "stopped (killed or crashed)" in stuck.message
    assert project_run_execute(run_id=fresh.pk).status == "success"
