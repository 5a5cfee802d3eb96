"""Nothing is readable anonymously; reads need the model's view permission, writes its add/change/delete."""

import pytest
from django.apps import apps
from rest_framework.test import APIClient

from tests.api.builders import make
from tests.api.clients import client_for
from tests.api.routes import endpoint_id, registered_endpoints

ENDPOINTS = registered_endpoints()
# Internal counters with no meaning outside the numbering code (a number sequence is the numbering's state).
NOT_EXPOSED = {"crm.NumberSequence", "crm.DataverseRequestCount"}  # the latter: the Dataverse door's own bookkeeping

pytestmark = pytest.mark.django_db


def urls_for(app, prefix, viewset):
    model = viewset.queryset.model
    obj = make(model)
    key = getattr(obj, viewset.lookup_field)
    return model, [f"/api/{app}/{prefix}/", f"/api/{app}/{prefix}/{key}/"]


def perm(model, action):
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def test_every_sales_and_erp_model_has_an_endpoint():
    exposed = {viewset.queryset.model for _app, _prefix, viewset in ENDPOINTS}
    missing = [
        model._meta.label
        for app in ("crm", "erp")
        for model in apps.get_app_config(app).get_models()
        if model not in exposed and model._meta.label not in NOT_EXPOSED
    ]
    assert missing == []


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=endpoint_id)
def test_anonymous_is_refused(endpoint):
    _model, urls = urls_for(*endpoint)
    client = APIClient()
    for url in urls:
        assert client.get(url).status_code in (401, 403), url
        assert client.post(urls[0], {}, format="json").status_code in (401, 403), url


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=endpoint_id)
def test_user_without_permissions_is_refused(endpoint, user_with_perms):
    _model, urls = urls_for(*endpoint)
    client = client_for(user_with_perms())
    for url in urls:
        assert client.get(url).status_code == 403, url
        assert client.options(url).status_code == 403, url
    assert client.post(urls[0], {}, format="json").status_code == 403
    assert client.patch(urls[1], {}, format="json").status_code == 403
    assert client.delete(urls[1]).status_code == 403


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=endpoint_id)
def test_user_with_view_permission_reads(endpoint, user_with_perms):
    model, urls = urls_for(*endpoint)
    client = client_for(user_with_perms(perm(model, "view")))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[:300])
    # Reading is not writing.
    assert client.patch(urls[1], {}, format="json").status_code == 403


# Read-only endpoints (contact business relations: made with the contact operations) answer writes with 405.
WRITABLE = [e for e in ENDPOINTS if hasattr(e[2], "partial_update")]


@pytest.mark.parametrize("endpoint", WRITABLE, ids=endpoint_id)
def test_user_with_change_permission_writes(endpoint, user_with_perms):
    model, urls = urls_for(*endpoint)
    client = client_for(user_with_perms(perm(model, "view"), perm(model, "change")))
    response = client.patch(urls[1], {}, format="json")
    assert response.status_code == 200, (urls[1], response.content[:300])


def test_token_authentication(api):
    assert api.get("/api/crm/accounts/").status_code == 200
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert bad.get("/api/crm/accounts/").status_code in (401, 403)


def test_session_authentication(client, superuser):
    client.force_login(superuser)
    assert client.get("/api/erp/customers/").status_code == 200


def test_bulk_needs_add_and_change(user_with_perms):
    add_only = client_for(user_with_perms("crm.view_account", "crm.add_account"))
    assert add_only.post("/api/crm/accounts/bulk/", [], format="json").status_code == 403
    both = client_for(user_with_perms("crm.add_account", "crm.change_account"))
    assert both.post("/api/crm/accounts/bulk/", [], format="json").status_code == 200
