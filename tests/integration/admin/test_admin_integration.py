"""Admin of the integration models (integration/admin/__init__.py): connection setup, table mappings (field
mappings inline, dependencies without cycles, reset to default, synchronise), value maps, couplings, jobs and
errors."""

import pytest
from django.contrib.auth.models import Permission, User

from crm.models import Account
from erp.models import Customer, SalespersonPurchaser
from integration.coupling.couplings import coupling_create, coupling_for
from integration.engine.sync import mapping_synchronize
from integration.models import (
    ConnectionSetup,
    Coupling,
    FailedInsert,
    IntegrationTableMapping,
    SyncJob,
    SyncJobError,
    ValueMap,
)
from tests.admin_helpers import admin_form_data, admin_url
from tests.integration.helpers import ACTIVE, run_action, texts

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


@pytest.mark.parametrize("model", [IntegrationTableMapping, ValueMap, Coupling, SyncJob, SyncJobError, FailedInsert])
def test_changelists_open(superuser_client, mappings, model):
    assert superuser_client.get(admin_url(model, "changelist")).status_code == 200


def test_connection_setup_opens_its_one_record_with_links_to_the_pages(superuser_client):
    response = superuser_client.get(admin_url(ConnectionSetup, "changelist"))
    assert response.status_code == 302
    page = superuser_client.get(response.url)
    assert "Full synchronisation review" in page.content.decode() and "Assisted set-up" in page.content.decode()


@pytest.mark.parametrize(("codenames", "links"), [
    (["view_connectionsetup"], []),
    (["view_connectionsetup", "run_synchronization"], ["Full synchronisation review"]),
    (["change_connectionsetup", "run_synchronization"], ["Full synchronisation review", "Assisted set-up"]),
])
def test_connection_setup_shows_only_the_pages_the_user_may_open(client, codenames, links):
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    page = client.get(admin_url(ConnectionSetup, "change", ConnectionSetup.get_solo().pk)).content.decode()
    for text in ["Full synchronisation review", "Assisted set-up"]:
        assert (text in page) == (text in links), text
    if "Assisted set-up" in links:
        assert client.get(admin_url(ConnectionSetup, "changelist").replace("connectionsetup/", "connectionsetup/assisted-setup/")).status_code == 200


def test_mapping_page_shows_field_mappings_and_refuses_a_cyclic_dependency(superuser_client, mappings):
    customer, salespeople = mappings["CUSTOMER"], mappings["SALESPEOPLE"]
    page = superuser_client.get(admin_url(IntegrationTableMapping, "change", salespeople.pk))
    assert page.status_code == 200
    assert "field_mappings-TOTAL_FORMS" in page.content.decode()
    data = admin_form_data(page)
    data["dependencies"] = [str(customer.pk)]  # CUSTOMER already depends on SALESPEOPLE
    response = superuser_client.post(admin_url(IntegrationTableMapping, "change", salespeople.pk), data)
    assert response.status_code == 200
    assert "Cyclic dependency" in response.content.decode()
    assert not salespeople.dependencies.exists()


def test_reset_to_default_asks_then_restores_the_default_field_mappings(superuser_client, mappings):
    mapping = mappings["CUSTOMER"]
    count = mapping.field_mappings.count()
    mapping.field_mappings.filter(erp_field="email").delete()
    mapping.direction = "to_integration"
    mapping.save()
    confirm = run_action(superuser_client, IntegrationTableMapping, "reset_to_default", [mapping.pk])
    assert confirm.status_code == 200 and "couplings are kept" in confirm.content.decode()
    done = run_action(superuser_client, IntegrationTableMapping, "reset_to_default", [mapping.pk],
                      {"p2c-submit": "Confirm"})
    assert done.status_code == 302
    mapping.refresh_from_db()
    assert mapping.direction == "bidirectional" and mapping.field_mappings.count() == count


def test_synchronise_modified_records_queues_jobs_per_direction(superuser_client, mappings, salesperson_pair,
                                                                  django_capture_on_commit_callbacks):
    salesperson, user = salesperson_pair
    account = Account.objects.create(name="Synced", owner=user, **ACTIVE)
    customer = Customer.objects.create(name="Synced", phone_no="42", salesperson=salesperson)
    coupling_create(erp_record=customer, crm_record=account)
    with django_capture_on_commit_callbacks(execute=True):
        done = run_action(superuser_client, IntegrationTableMapping, "synchronize_modified",
                          [mappings["CUSTOMER"].pk])
    assert done.status_code == 302
    assert set(SyncJob.objects.filter(mapping_name="CUSTOMER").values_list("direction", flat=True)) == {
        "to_integration", "from_integration"}
    assert "Synchronise CUSTOMER: 2 queued." in " ".join(texts(done))
    account.refresh_from_db()
    assert account.telephone1 == "42"


def test_run_full_synchronisation_of_a_mapping_asks_first(superuser_client, mappings):
    mapping = mappings["CURRENCY"]
    confirm = run_action(superuser_client, IntegrationTableMapping, "synchronize_full", [mapping.pk])
    assert confirm.status_code == 200 and not SyncJob.objects.exists()
    run_action(superuser_client, IntegrationTableMapping, "synchronize_full", [mapping.pk], {"p2c-submit": "Confirm"})
    assert SyncJob.objects.filter(mapping_name="CURRENCY", full=True).exists()


def test_value_map_with_entries(superuser_client, mappings):
    value_map = ValueMap.objects.first()
    page = superuser_client.get(admin_url(ValueMap, "change", value_map.pk))
    assert page.status_code == 200 and "entries-TOTAL_FORMS" in page.content.decode()


@pytest.fixture
def coupled(mappings):
    account = Account.objects.create(name="Coupled Account", **ACTIVE)
    customer = Customer.objects.create(name="Coupled Customer")
    return coupling_create(erp_record=customer, crm_record=account), account, customer


def test_coupling_list_links_both_records_and_filters_by_pair(superuser_client, coupled):
    coupling, account, customer = coupled
    response = superuser_client.get(admin_url(Coupling, "changelist"), {"pair": "erp.Customer|crm.Account"})
    html = response.content.decode()
    assert admin_url(Account, "change", account.pk) in html and admin_url(Customer, "change", customer.pk) in html
    assert "Coupled Account" in html
    other = superuser_client.get(admin_url(Coupling, "changelist"), {"pair": "erp.Item|crm.Product"})
    assert len(other.context["cl"].result_list) == 0
    detail = superuser_client.get(admin_url(Coupling, "change", coupling.pk))
    assert detail.status_code == 200 and "Coupled Customer" in detail.content.decode()


def test_coupling_actions_restore_skipped_and_delete(superuser_client, coupled):
    coupling, account, _customer = coupled
    coupling.skipped = True
    coupling.save()
    done = run_action(superuser_client, Coupling, "skipped_restore", [coupling.pk])
    assert done.status_code == 302
    coupling.refresh_from_db()
    assert coupling.skipped is False
    run_action(superuser_client, Coupling, "couplings_delete", [coupling.pk])
    assert Coupling.objects.filter(pk=coupling.pk).exists()  # asked first
    run_action(superuser_client, Coupling, "couplings_delete", [coupling.pk], {"p2c-submit": "Confirm"})
    assert coupling_for(account) is None


def test_coupling_synchronise_action(superuser_client, coupled, django_capture_on_commit_callbacks):
    coupling, _account, _customer = coupled
    with django_capture_on_commit_callbacks(execute=True):
        done = run_action(superuser_client, Coupling, "couplings_synchronize", [coupling.pk])
    assert done.status_code == 302
    assert SyncJob.objects.filter(mapping_name="CUSTOMER").count() == 2


@pytest.fixture
def failed_job(mappings, salesperson_pair):
    """A customer whose salesperson is not coupled fails ERP → Sales; its coupling is skipped."""
    account = Account.objects.create(name="Failing", **ACTIVE)
    customer = Customer.objects.create(name="Failing", phone_no="7")
    coupling = coupling_create(erp_record=customer, crm_record=account)
    job = SyncJob.objects.create(table_mapping=mappings["CUSTOMER"], mapping_name="CUSTOMER",
                                 direction="to_integration", status="error", failed=1)
    error = job.errors.create(source_model="erp.Customer", source_id=str(customer.pk), destination_model="crm.Account",
                              destination_id=str(account.pk), message="Salesperson is not coupled")
    coupling.skipped, coupling.last_crm_result, coupling.last_crm_job = True, "failure", job
    coupling.save()
    return job, error, coupling, account, customer


def test_job_list_filters_and_error_inline(superuser_client, failed_job):
    job, *_ = failed_job
    for params in ({"status__exact": "error"}, {"mapping_name": "CUSTOMER"}, {"type__exact": "synchronization"},
                   {"created_at__year": str(job.created_at.year)}):
        response = superuser_client.get(admin_url(SyncJob, "changelist"), params)
        assert [j.pk for j in response.context["cl"].result_list] == [job.pk], params
    page = superuser_client.get(admin_url(SyncJob, "change", job.pk))
    assert page.status_code == 200 and "Salesperson is not coupled" in page.content.decode()


def test_error_page_opens_both_records(superuser_client, failed_job):
    _job, error, _coupling, account, customer = failed_job
    page = superuser_client.get(admin_url(SyncJobError, "change", error.pk))
    html = page.content.decode()
    assert admin_url(Customer, "change", customer.pk) in html and admin_url(Account, "change", account.pk) in html
    listing = superuser_client.get(admin_url(SyncJobError, "changelist")).content.decode()
    assert admin_url(Account, "change", account.pk) in listing


def test_error_actions_restore_skipped_then_retry(superuser_client, failed_job, salesperson_pair,
                                                  django_capture_on_commit_callbacks):
    _job, error, coupling, account, customer = failed_job
    salesperson, _user = salesperson_pair
    Customer.objects.filter(pk=customer.pk).update(salesperson=salesperson)
    restored = run_action(superuser_client, SyncJobError, "errors_restore_skipped", [error.pk])
    assert "Restore skipped records: 1 done." in " ".join(texts(restored))
    coupling.refresh_from_db()
    assert coupling.skipped is False
    with django_capture_on_commit_callbacks(execute=True):
        retried = run_action(superuser_client, SyncJobError, "errors_retry", [error.pk])
    assert retried.status_code == 302
    retry_job = SyncJob.objects.exclude(pk=_job.pk).get()
    assert retry_job.direction == "to_integration" and retry_job.failed == 0
    account.refresh_from_db()
    assert account.telephone1 == "7"


def test_a_failed_insert_skipped_twice_is_listed_restored_and_retried(
    superuser_client, mappings, salesperson_pair, django_capture_on_commit_callbacks
):
    mapping = mappings["CUSTOMER"]
    mapping.sync_only_coupled = False
    mapping.save()
    stranger = SalespersonPurchaser.objects.create(code="SP09", name="Sam Stranger")
    customer = Customer.objects.create(name="Never Created AB", salesperson=stranger)
    for _ in range(2):
        mapping.refresh_from_db()
        mapping_synchronize(mapping=mapping, direction="to_integration")
    entry = FailedInsert.objects.get(source_id=str(customer.pk))
    assert entry.skipped and "SP09" in entry.message

    listing = superuser_client.get(admin_url(FailedInsert, "changelist"), {"skipped__exact": "1"}).content.decode()
    assert "Never Created AB" in listing and admin_url(Customer, "change", customer.pk) in listing

    error = SyncJobError.objects.filter(source_id=str(customer.pk)).latest("pk")
    restored = run_action(superuser_client, SyncJobError, "errors_restore_skipped", [error.pk])
    assert "Restore skipped records: 1 done." in " ".join(texts(restored))
    entry.refresh_from_db()
    assert not entry.skipped

    salesperson, _user = salesperson_pair
    Customer.objects.filter(pk=customer.pk).update(salesperson=salesperson)
    with django_capture_on_commit_callbacks(execute=True):
        run_action(superuser_client, FailedInsert, "failed_inserts_retry", [entry.pk])
    assert coupling_for(customer) is not None
    assert not FailedInsert.objects.exists()


def test_job_retry_action(superuser_client, failed_job, django_capture_on_commit_callbacks):
    job, *_ = failed_job
    with django_capture_on_commit_callbacks(execute=True):
        run_action(superuser_client, SyncJob, "jobs_retry", [job.pk])
    assert SyncJob.objects.count() == 2


def test_integration_actions_refused_without_permissions(client, failed_job):
    job, error, coupling, *_ = failed_job
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(
        codename__in=["view_syncjob", "view_syncjoberror", "view_coupling", "change_coupling", "delete_coupling",
                      "view_integrationtablemapping"]))
    client.force_login(user)
    listing = client.get(admin_url(SyncJobError, "changelist"))
    assert listing.status_code == 200
    assert run_action(client, SyncJobError, "errors_retry", [error.pk]).status_code == 403
    assert run_action(client, SyncJobError, "errors_restore_skipped", [error.pk]).status_code == 403
    assert run_action(client, SyncJob, "jobs_retry", [job.pk]).status_code == 403
    assert run_action(client, Coupling, "couplings_delete", [coupling.pk]).status_code == 403
    assert run_action(client, IntegrationTableMapping, "synchronize_modified", [1]).status_code == 403
    assert SyncJob.objects.count() == 1 and Coupling.objects.filter(pk=coupling.pk).exists()
