"""One operation, the same behaviour from every door (docs/decisions.md#one-operation-every-door): full synchronisation
start/restart, Run project, Create in ERP from Sales orders. The same arranged data through the admin, the API, the
command and the task: the same records written, the same counts and reasons, the same refusals (a disabled connection
among them); the admin message at the outcome's level, the command's exit code; ``/api/`` lists the sections; the admin
index leads to the integration's pages."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from crm.models import SalesOrder
from erp.models import SalesHeader
from integration.full_sync.run import full_sync_start
from integration.models import ConnectionSetup, FullSyncRun, IntegrationProjectRun
from p2c.outcomes import OperationRefused
from tests.integration.fo_helpers import make_account
from tests.integration.sales_orders_world import world_build


@pytest.fixture
def boss(db):
    return get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")


@pytest.fixture
def admin(client, boss):
    client.force_login(boss)
    return client


def disable_connection():
    ConnectionSetup.objects.filter(pk=1).update(is_enabled=False)


def only_message(response):
    [message] = list(response.context["messages"])
    return message


# -- full synchronisation ---------------------------------------------------------------------------------------------
REVIEW = "admin:integration_full_sync_review"
FULL_SYNC_API = "/api/integration/full-sync/"


def test_a_disabled_connection_refuses_the_full_synchronisation_from_every_door(mappings, admin):
    disable_connection()
    with pytest.raises(OperationRefused, match="connection is not enabled"):
        full_sync_start()
    message = only_message(admin.post(reverse(REVIEW), {"start": "Start"}, follow=True))
    assert message.level_tag == "error" and "connection is not enabled" in message.message
    answer = admin.post(FULL_SYNC_API, {}, content_type="application/json")
    assert answer.status_code == 409 and answer.json()["code"] == "connection_disabled"
    with pytest.raises(CommandError, match="connection is not enabled"):
        call_command("full_sync", "--start", stdout=StringIO())
    assert not FullSyncRun.objects.exists()  # nothing started anywhere


def test_restarting_a_finished_run_is_refused_from_every_door(mappings, admin):
    FullSyncRun.objects.create(status=FullSyncRun.Status.FINISHED)
    message = only_message(admin.post(reverse(REVIEW), {"restart": "Restart"}, follow=True))
    assert message.level_tag == "error" and "nothing to restart" in message.message
    answer = admin.post(FULL_SYNC_API, {"restart": True}, content_type="application/json")
    assert answer.status_code == 409 and "nothing to restart" in answer.json()["detail"]
    with pytest.raises(CommandError, match="nothing to restart"):
        call_command("full_sync", "--restart", stdout=StringIO())
    assert FullSyncRun.objects.count() == 1  # no new run quietly started


def test_a_start_counts_the_same_lines_queued_from_the_page_the_api_and_the_command(mappings, admin):
    queued = {}
    message = only_message(admin.post(reverse(REVIEW), {"start": "Start"}, follow=True))
    queued["admin"] = message.message.split(": ", 1)[1].split(".", 1)[0]
    assert message.level_tag == "success"
    FullSyncRun.objects.update(status=FullSyncRun.Status.FAILED)
    answer = admin.post(FULL_SYNC_API, {}, content_type="application/json")
    assert answer.status_code == 202
    queued["api"] = answer.json()["outcome"]["summary"].split(": ", 1)[1].split(".", 1)[0]
    FullSyncRun.objects.update(status=FullSyncRun.Status.FAILED)
    out = StringIO()
    call_command("full_sync", "--start", stdout=out)
    queued["command"] = out.getvalue().split(": ", 1)[1].split(".", 1)[0]
    assert len(set(queued.values())) == 1 and "queued" in queued["admin"], queued
    # A second start while one is in process starts nothing, and says so (info, 200).
    again = admin.post(FULL_SYNC_API, {}, content_type="application/json")
    assert again.status_code == 200 and "already in process" in again.json()["outcome"]["summary"]


@pytest.mark.parametrize("args, error", [
    (["--wait", "-3"], "argument --wait: -3 is out of range"), (["--wait", "soon"], "not a whole number"),
    (["--start", "--restart"], "not allowed with"),
])
def test_full_sync_arguments_are_checked(mappings, args, error):
    # call_command raises what manage.py prints with exit status 2 (an argparse error naming the option)
    with pytest.raises(CommandError, match=error):
        call_command("full_sync", *args)
    assert not FullSyncRun.objects.exists()


def test_full_sync_wait_takes_a_default_and_exits_1_when_the_run_is_still_running(mappings):
    out = StringIO()
    with pytest.raises(CommandError, match="Still running after"):  # nothing runs the queued lines here
        call_command("full_sync", "--start", "--wait", "1", stdout=out)
    FullSyncRun.objects.update(status=FullSyncRun.Status.FINISHED)
    call_command("full_sync", "--wait", stdout=out)  # the README's form: --wait without seconds


# -- F&O projects -------------------------------------------------------------------------------------------------------
def test_run_project_refusal_and_start_are_told_alike(fo_projects, admin,
                                                     django_capture_on_commit_callbacks):
    contacts = fo_projects["contacts"]  # its prerequisite task has never run: refused everywhere
    message = only_message(admin.post(reverse("admin:integration_integrationproject_changelist"),
                                      {"action": "run_project", "_selected_action": [contacts.pk]}, follow=True))
    assert message.level_tag == "error" and "Accounts - Customers" in message.message
    answer = admin.post(f"/api/integration/projects/{contacts.pk}/run/", {}, content_type="application/json")
    assert answer.status_code == 409 and "Accounts - Customers" in answer.json()["detail"]
    with pytest.raises(CommandError, match="Accounts - Customers"):
        call_command("p2c_run", contacts.name, stdout=StringIO())
    assert not IntegrationProjectRun.objects.exists()

    make_account("Door AB")
    with django_capture_on_commit_callbacks(execute=True):
        message = only_message(admin.post(reverse("admin:integration_integrationproject_changelist"),
                                          {"action": "run_project", "_selected_action": [fo_projects["accounts"].pk]},
                                          follow=True))
    assert message.level_tag == "success" and "Run project: 1 queued." in message.message
    assert IntegrationProjectRun.objects.get().status == "success"


def test_p2c_run_exits_1_when_a_row_failed(fo_projects, monkeypatch):
    from integration.fo import projects as module
    from integration.models import SyncJobError

    make_account("Good AB")
    bad = make_account("Bad AB")
    real = module.mapping_synchronize

    def one_row_fails(request):
        jobs = real(request)
        job = jobs[0]
        job.failed += 1
        job.save(update_fields=["failed"])
        SyncJobError.objects.create(job=job, source_model="crm.Account", source_id=str(bad.pk),
                                    message=f"Account {bad.name}: Credit Limit (LCY): too many decimals.")
        return jobs

    monkeypatch.setattr(module, "mapping_synchronize", one_row_fails)
    err = StringIO()
    with pytest.raises(CommandError, match="1 record"):
        call_command("p2c_run", "Accounts", stdout=StringIO(), stderr=err)
    assert "1 failed" in err.getvalue() and "Credit Limit (LCY)" in err.getvalue()


# -- Sales orders to ERP orders ------------------------------------------------------------------------------------------
@pytest.fixture
def world(mappings, salesperson_pair):
    return world_build(salesperson_pair=salesperson_pair)


def test_create_in_erp_tells_the_same_counts_from_the_admin_the_command_and_the_task(world, admin):
    from integration.tasks import create_sales_orders_task

    def arrange():
        return world.order(), world.order(state="active")

    good, bad = arrange()
    message = only_message(admin.post(reverse("admin:crm_salesorder_changelist"),
                                      {"action": "create_in_erp", "_selected_action": [good.pk, bad.pk]}, follow=True))
    assert message.level_tag == "warning" and "Create in ERP: 1 done, 1 failed." in message.message

    good, bad = arrange()
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("create_sales_orders", good.number, bad.number, stdout=StringIO(), stderr=err)
    assert "Create in ERP: 1 done, 1 failed." in err.getvalue() and "must be submitted" in err.getvalue()

    good, bad = arrange()
    result = create_sales_orders_task.delay([good.pk, bad.pk]).get()
    assert (result["created"], result["failed"]) == (1, 1) and "must be submitted" in result["summary"]
    assert SalesHeader.objects.count() == 3  # one per door, the refused ones nowhere


def test_create_in_erp_is_refused_while_the_connection_is_disabled(world, admin):
    from integration.tasks import create_sales_orders_task

    order = world.order()
    disable_connection()
    message = only_message(admin.post(reverse("admin:crm_salesorder_changelist"),
                                      {"action": "create_in_erp", "_selected_action": [order.pk]}, follow=True))
    assert message.level_tag == "error" and "connection is not enabled" in message.message
    with pytest.raises(CommandError, match="connection is not enabled"):
        call_command("create_sales_orders", order.number, stdout=StringIO())
    assert "connection is not enabled" in create_sales_orders_task.delay([order.pk]).get()["skipped"]
    assert not SalesHeader.objects.exists()
    assert SalesOrder.objects.get(pk=order.pk).sent_to_back_office_on is None


# -- findable -----------------------------------------------------------------------------------------------------------
def test_api_root_lists_the_sections(client):
    sections = client.get("/api/", HTTP_ACCEPT="application/json").json()
    for name in ("crm", "erp", "integration", "schema", "docs"):
        assert sections[name].endswith(f"/api/{name}/"), sections
    assert client.get("/api/nothing-here/").status_code == 404


def test_admin_index_and_integration_page_lead_to_the_wizard_review_and_log(admin, db):
    for url in (reverse("admin:index"), reverse("admin:app_list", args=["integration"])):
        html = admin.get(url).content.decode()
        for target in ("admin:integration_setup_wizard", "admin:integration_full_sync_review",
                       "admin:integration_syncjob_changelist"):
            assert f'href="{reverse(target)}"' in html, (url, target)
    html = admin.get(reverse("admin:app_list", args=["crm"])).content.decode()
    assert "p2c-start-here" not in html  # only on the index and the Integration page
