"""The integration API: mappings, value maps, couplings, jobs, job errors, and the operations (couple, uncouple,
synchronise a record or a mapping, dry run, match-based coupling, restore skipped, full synchronisation)."""

import pytest
from rest_framework.test import APIClient

from crm.models import Account
from erp.models import Customer
from integration.api.record_actions import CouplingActionsMixin
from integration.models import (
    Coupling,
    IntegrationFieldMapping,
    IntegrationTableMapping,
    SyncJob,
    SyncJobError,
    ValueMap,
    ValueMapEntry,
)
from p2c.outcomes import Refusal
from tests.api.builders import make
from tests.api.clients import client_for
from tests.api.routes import endpoint_id, registered_endpoints

pytestmark = pytest.mark.django_db

COLLECTIONS = {
    "table-mappings": IntegrationTableMapping,
    "field-mappings": IntegrationFieldMapping,
    "value-maps": ValueMap,
    "value-map-entries": ValueMapEntry,
    "couplings": Coupling,
    "jobs": SyncJob,
    "job-errors": SyncJobError,
}


def perm(model, action):
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


@pytest.fixture
def records(mappings):
    mapping = mappings["CUSTOMER"]
    value_map = ValueMap.objects.first() or ValueMap.objects.create(name="VM")
    entry = ValueMapEntry.objects.create(value_map=value_map, erp_value="ZZ-API", crm_value="1")
    account, customer = Account.objects.create(name="Adatum"), Customer.objects.create(name="Adatum Corporation")
    coupling = Coupling.objects.create(erp_model="erp.Customer", crm_model="crm.Account", erp_id=customer.pk,
                                       crm_id=account.pk)
    job = SyncJob.objects.create(table_mapping=mapping, mapping_name=mapping.name, direction="to_integration")
    error = SyncJobError.objects.create(job=job, source_model="erp.Customer", source_id="1", message="Broken")
    return {
        "table-mappings": mapping, "field-mappings": mapping.field_mappings.first(), "value-maps": value_map,
        "value-map-entries": entry, "couplings": coupling, "jobs": job, "job-errors": error,
    }


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_collections_walk_anonymous_without_and_with_permission(collection, records, user_with_perms):
    model = COLLECTIONS[collection]
    urls = [f"/api/integration/{collection}/", f"/api/integration/{collection}/{records[collection].pk}/"]
    for url in urls:
        assert APIClient().get(url).status_code in (401, 403)
        assert client_for(user_with_perms()).get(url).status_code == 403
        response = client_for(user_with_perms(perm(model, "view"))).get(url)
        assert response.status_code == 200, (url, response.content[:300])
    reader = client_for(user_with_perms(perm(model, "view")))
    assert reader.delete(urls[1]).status_code in (403, 405)
    assert APIClient().post(urls[0], {}, format="json").status_code in (401, 403)


@pytest.mark.parametrize("collection", ["jobs", "job-errors"])
def test_jobs_and_errors_are_read_only(collection, api, records):
    assert api.post(f"/api/integration/{collection}/", {}, format="json").status_code == 405
    assert api.delete(f"/api/integration/{collection}/{records[collection].pk}/").status_code == 405


def test_jobs_filter_by_mapping_status_and_date(api, records):
    assert api.get("/api/integration/jobs/", {"mapping": "CUSTOMER", "status": "queued"}).json()["count"] == 1
    assert api.get("/api/integration/jobs/", {"mapping": "NOPE"}).json()["count"] == 0
    assert api.get("/api/integration/jobs/", {"created_after": "2999-01-01T00:00:00Z"}).json()["count"] == 0


def test_couplings_filter(api, records):
    assert api.get("/api/integration/couplings/", {"erp_model": "erp.Customer"}).json()["count"] == 1
    assert api.get("/api/integration/couplings/", {"skipped": "true"}).json()["count"] == 0


def test_table_mapping_validation_and_cyclic_dependency(api, mappings):
    bad = api.post("/api/integration/table-mappings/", {"name": "BAD", "erp_model": "erp.Nope",
                                                        "crm_model": "crm.Account"}, format="json")
    assert bad.status_code == 400 and "erp_model" in bad.json()
    a, b = mappings["CUSTOMER"], mappings["CONTACT"]
    b.dependencies.set([a])
    response = api.patch(f"/api/integration/table-mappings/{a.pk}/", {"dependencies": [b.pk]}, format="json")
    assert response.status_code == 400
    assert "Cyclic dependency" in response.json()["dependencies"][0] and "CUSTOMER" in response.json()["dependencies"][0]


def test_field_mapping_validation(api, mappings):
    response = api.post("/api/integration/field-mappings/", {"table_mapping": mappings["CUSTOMER"].pk,
                                                             "erp_field": "no_such_field", "crm_field": "name"},
                        format="json")
    assert response.status_code == 400 and "erp_field" in response.json()


def test_couple_uncouple_and_conflict(api, mappings, user_with_perms):
    account, customer = Account.objects.create(name="Adatum"), Customer.objects.create(name="Adatum Corporation")
    url = f"/api/crm/accounts/{account.pk}/couple/"
    assert APIClient().post(url, {"erp_id": customer.pk}, format="json").status_code in (401, 403)
    assert client_for(user_with_perms("crm.view_account")).post(
        url, {"erp_id": customer.pk}, format="json").status_code == 403
    allowed = client_for(user_with_perms("crm.view_account", "integration.change_couplings"))
    response = allowed.post(url, {"erp_id": customer.pk, "mapping": "CUSTOMER"}, format="json")
    assert response.status_code == 201, response.content
    assert Coupling.objects.filter(crm_id=account.pk, erp_id=customer.pk).exists()
    again = allowed.post(url, {"key": customer.no, "mapping": "CUSTOMER"}, format="json")
    assert again.status_code == 200, again.content

    other = Customer.objects.create(name="Someone Else")
    conflict = api.post(f"/api/erp/customers/{other.no}/couple/", {"crm_id": str(account.pk)}, format="json")
    assert conflict.status_code == 409, conflict.content
    body = conflict.json()
    assert "Adatum Corporation" in body["coupled_to"] and body["coupling"]["erp_id"] == customer.pk

    assert api.post(f"/api/erp/customers/{customer.no}/uncouple/").json()["removed"] == 1
    assert not Coupling.objects.filter(crm_id=account.pk).exists()


def test_couple_unknown_counterpart_is_404_and_bad_id_400(api, mappings):
    account = Account.objects.create(name="Adatum")
    url = f"/api/crm/accounts/{account.pk}/couple/"
    assert api.post(url, {"erp_id": "999999", "mapping": "CUSTOMER"}, format="json").status_code == 404
    assert api.post(url, {"erp_id": "x", "mapping": "CUSTOMER"}, format="json").status_code == 400
    neither = api.post(url, {"mapping": "CUSTOMER"}, format="json")
    assert neither.status_code == 400 and neither.json() == {"non_field_errors": ["Give the counterpart's id or its key."]}
    unknown = api.post(url, {"erp_id": 1, "mapping": "NO_SUCH"}, format="json")
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_mapping" and "mapping" in unknown.json()


def test_couple_says_in_its_schema_that_the_counterpart_is_named_by_id_or_key(api):
    schemas = api.get("/api/schema/?format=json").json()["components"]["schemas"]
    assert [alternative["required"] for alternative in schemas["CrmRecordCouple"]["anyOf"]] == [["erp_id"], ["key"]]
    assert [alternative["required"] for alternative in schemas["ErpRecordCouple"]["anyOf"]] == [["crm_id"], ["key"]]


def test_the_schema_lists_every_refusal_code_the_api_answers(api, mappings, schema):
    codes = schema["components"]["schemas"]["RefusalCode"]["enum"]
    assert codes == sorted(refusal.value for refusal in Refusal) and "no_mapping" in codes
    assert "no_mapping" in schema["components"]["schemas"]["Error"]["properties"]["code"]["description"]
    account, customer = Account.objects.create(name="Adatum"), Customer.objects.create(name="Adatum Corporation")
    IntegrationTableMapping.objects.filter(name="CUSTOMER").delete()
    response = api.post(f"/api/crm/accounts/{account.pk}/couple/", {"erp_id": customer.pk}, format="json")
    assert response.status_code == 409 and response.json()["code"] in codes


def test_couple_refused_by_the_configuration_is_409_with_its_code(api, mappings):
    """No table mapping couples the records, or several do and none is named: the configuration's state, 409."""
    account, customer = Account.objects.create(name="Adatum"), Customer.objects.create(name="Adatum Corporation")
    IntegrationTableMapping.objects.filter(name="CUSTOMER").delete()
    response = api.post(f"/api/crm/accounts/{account.pk}/couple/", {"erp_id": customer.pk}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "no_mapping", response.content
    assert "No table mapping couples Account records." in response.json()["detail"]


def test_cleanup_takes_an_age_up_to_its_bound(api):
    """The bound a date can hold (a hundred years), stated in the schema; one past it is a 400 naming the field."""
    at_bound = api.post("/api/integration/jobs/cleanup/", {"older_than_days": 36500, "dry_run": True}, format="json")
    assert at_bound.status_code == 200, at_bound.content
    for too_old in (36501, 1000000, 99999999999):
        response = api.post("/api/integration/jobs/cleanup/", {"older_than_days": too_old}, format="json")
        assert response.status_code == 400 and "older_than_days" in response.json(), response.content
    schema = api.get("/api/schema/?format=json").json()["components"]["schemas"]["SyncLogCleanup"]
    assert schema["properties"]["older_than_days"]["maximum"] == 36500


def test_record_synchronize_queues_a_job_that_finishes(api, mappings, settings, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    customer = Customer.objects.create(name="Adatum Corporation")
    # Not coupled: refused by the record's state, as the admin's Synchronise now refuses it (BC opens the coupling
    # dialog instead).
    refused = api.post(f"/api/erp/customers/{customer.no}/synchronize/")
    assert refused.status_code == 409 and refused.json()["code"] == "not_coupled", refused.content
    assert "is not coupled" in refused.json()["detail"] and not Account.objects.exists()
    account = Account.objects.create(name="Adatum")
    Coupling.objects.create(erp_model="erp.Customer", crm_model="crm.Account", erp_id=customer.pk, crm_id=account.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/erp/customers/{customer.no}/synchronize/", {"direction": "send"}, format="json")
    assert response.status_code == 202, response.content
    job = api.get(f"/api/integration/jobs/{response.json()['jobs'][0]}/").json()
    assert job["status"] in ("success", "error"), job


def test_mapping_synchronize_202_then_the_job_finishes(api, mappings, user_with_perms, settings,
                                                      django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    mapping = mappings["CUSTOMER"]
    url = f"/api/integration/table-mappings/{mapping.pk}/synchronize/"
    assert APIClient().post(url, {}, format="json").status_code in (401, 403)
    assert client_for(user_with_perms("integration.view_integrationtablemapping")).post(
        url, {}, format="json").status_code == 403
    Customer.objects.create(name="Adatum Corporation")
    allowed = client_for(user_with_perms("integration.view_integrationtablemapping",
                                         "integration.run_synchronization"))
    with django_capture_on_commit_callbacks(execute=True):
        response = allowed.post(url, {"direction": "to_integration", "full": True}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert len(body["jobs"]) == 1 and body["counts"]["queued"] == 1
    job = api.get(f"/api/integration/jobs/{body['jobs'][0]}/").json()
    assert job["status"] == "success", job
    assert job["inserted"] + job["skipped"] + job["modified"] + job["unchanged"] >= 1


def test_mapping_dry_run_returns_the_report(api, mappings):
    Customer.objects.create(name="Adatum Corporation")
    url = f"/api/integration/table-mappings/{mappings['CUSTOMER'].pk}/synchronize/"
    response = api.post(url, {"direction": "to_integration", "full": True, "dry_run": True}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["report"][0]["dry_run"] is True
    assert isinstance(response.json()["report"][0]["report"], list)
    assert not Account.objects.exists()
    assert api.post(url, {"direction": "sideways"}, format="json").status_code == 400


def test_match_coupling_and_restore_skipped(api, mappings, settings, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    mapping = mappings["CUSTOMER"]
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/integration/table-mappings/{mapping.pk}/couple/", {}, format="json")
    assert response.status_code == 202, response.content
    assert SyncJob.objects.get(pk=response.json()["jobs"][0]).status != "queued"
    account, customer = Account.objects.create(name="A"), Customer.objects.create(name="A")
    Coupling.objects.create(erp_model="erp.Customer", crm_model="crm.Account", erp_id=customer.pk,
                            crm_id=account.pk, skipped=True)
    restored = api.post(f"/api/integration/table-mappings/{mapping.pk}/restore-skipped/")
    assert restored.json()["restored"] == 1


def test_match_coupling_from_the_sales_records(api, mappings, django_capture_on_commit_callbacks):
    customer = Customer.objects.create(name="Proseware")
    account = Account.objects.create(name="proseware", customer_type_code="customer", state_code="active")
    mapping = mappings["CUSTOMER"]
    mapping.field_mappings.filter(erp_field="name").update(use_for_match_coupling=True, match_priority=1)
    url = f"/api/integration/table-mappings/{mapping.pk}/couple/"
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url, {"from_side": "crm", "create_new": False}, format="json")
    assert response.status_code == 202, response.content
    [job] = response.json()["jobs"]
    assert SyncJob.objects.get(pk=job).direction == "from_integration"
    assert SyncJob.objects.get(pk=job).coupled == 1
    assert Coupling.objects.get(crm_id=account.pk).erp_id == customer.pk

    refused = api.post(f"/api/integration/table-mappings/{mappings['CURRENCY'].pk}/couple/",
                       {"from_side": "crm"}, format="json")
    # The mapping's configuration refuses the direction (docs/decisions.md#the-two-apis: a refusal by state is a 409,
    # with its code).
    assert refused.status_code == 409 and "ERP records" in refused.json()["detail"]
    assert refused.json()["code"] == "direction_not_allowed"


def test_full_sync_start_and_status(api, mappings, user_with_perms):
    url = "/api/integration/full-sync/"
    assert APIClient().get(url).status_code in (401, 403)
    assert client_for(user_with_perms()).get(url).status_code == 403
    assert client_for(user_with_perms("integration.view_fullsyncrun")).post(url, {}, format="json").status_code == 403
    assert api.get(url).json()["run"] is None
    started = api.post(url, {}, format="json")
    assert started.status_code == 202, started.content
    status = api.get(url).json()
    assert status["run"]["id"] == started.json()["run"]["id"]
    # The run just started is moving: nothing to restart (409, saying why).
    refused = api.post(url, {"restart": True}, format="json")
    assert refused.status_code == 409 and "nothing to" in refused.json()["detail"]


def test_retried_synchronize_with_the_same_idempotency_key_queues_once(api, mappings):
    url = f"/api/integration/table-mappings/{mappings['CUSTOMER'].pk}/synchronize/"
    first = api.post(url, {"direction": "to_integration"}, format="json", HTTP_IDEMPOTENCY_KEY="sync-1")
    again = api.post(url, {"direction": "to_integration"}, format="json", HTTP_IDEMPOTENCY_KEY="sync-1")
    assert first.status_code == again.status_code == 202
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.json() == again.json()
    assert SyncJob.objects.filter(mapping_name="CUSTOMER").count() == 1


def test_schema_documents_the_integration_operations(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/integration/table-mappings/{id}/synchronize/", "/api/integration/table-mappings/{id}/couple/",
                 "/api/integration/table-mappings/{id}/restore-skipped/", "/api/integration/full-sync/",
                 "/api/integration/couplings/", "/api/integration/jobs/{id}/", "/api/crm/accounts/{id}/couple/",
                 "/api/crm/accounts/{id}/uncouple/", "/api/erp/customers/{no}/synchronize/"):
        assert path in schema["paths"], path


def test_a_disabled_mapping_is_not_synchronised(api, mappings):
    mapping = mappings["CUSTOMER"]
    mapping.is_enabled = False
    mapping.save()
    for operation in ("synchronize", "couple"):
        response = api.post(f"/api/integration/table-mappings/{mapping.pk}/{operation}/", {}, format="json")
        assert response.status_code == 409 and "disabled" in response.json()["detail"]
    assert not SyncJob.objects.exists()


# The endpoints whose viewset takes the coupling actions the integration registers (p2c.extensions)
RECORD_ENDPOINTS = [e for e in registered_endpoints() if issubclass(e[2].extended(), CouplingActionsMixin)]


@pytest.mark.parametrize("endpoint", RECORD_ENDPOINTS, ids=endpoint_id)
def test_record_operations_walk(endpoint, user_with_perms):
    app, prefix, viewset = endpoint
    model = viewset.queryset.model
    obj = make(model)
    base = f"/api/{app}/{prefix}/{getattr(obj, viewset.lookup_field)}"
    reader = client_for(user_with_perms(perm(model, "view")))
    for operation in ("couple", "uncouple", "synchronize"):
        assert APIClient().post(f"{base}/{operation}/", {}, format="json").status_code in (401, 403)
        assert reader.post(f"{base}/{operation}/", {}, format="json").status_code == 403
    coupler = client_for(user_with_perms(perm(model, "view"), "integration.change_couplings"))
    assert coupler.post(f"{base}/uncouple/").json()["removed"] == 0
    assert coupler.post(f"{base}/synchronize/").status_code == 403


def test_every_model_in_a_default_mapping_has_the_record_operations(mappings):
    with_actions = {e[2].queryset.model._meta.label for e in RECORD_ENDPOINTS}
    in_mappings = {label for m in mappings.values() if not m.is_option_mapping for label in (m.erp_model, m.crm_model)}
    assert in_mappings - with_actions == set()


def test_table_and_field_mapping_are_created(api):
    response = api.post("/api/integration/table-mappings/", {"name": "API-TEST", "erp_model": "erp.Customer",
                                                             "crm_model": "crm.Account"}, format="json")
    assert response.status_code == 201, response.content
    field = api.post("/api/integration/field-mappings/", {"table_mapping": response.json()["id"],
                                                          "erp_field": "name", "crm_field": "name"}, format="json")
    assert field.status_code == 201, field.content
    assert IntegrationFieldMapping.objects.filter(table_mapping__name="API-TEST").count() == 1


def test_removing_a_coupling_needs_change_couplings(records, user_with_perms):
    url = f"/api/integration/couplings/{records['couplings'].pk}/"
    assert client_for(user_with_perms("integration.view_coupling", "integration.delete_coupling")).delete(
        url).status_code == 403
    allowed = client_for(user_with_perms("integration.view_coupling", "integration.delete_coupling",
                                         "integration.change_couplings"))
    assert allowed.delete(url).status_code == 204
    assert not Coupling.objects.exists()
