"""Clients and users for the API tests, and the schema they read."""

import json

import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("api-admin", "admin@example.com", None)


@pytest.fixture
def api(superuser):
    """An API client authenticated as a superuser with a DRF token."""
    client = APIClient()
    token = Token.objects.create(user=superuser)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def user_with_perms(django_user_model):
    """``user_with_perms("crm.view_account", ...)``: a plain user holding exactly those permissions."""
    counter = iter(range(1, 10_000))

    def build(*perms):
        user = django_user_model.objects.create_user(f"user{next(counter)}", password=None)
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        return user

    return build


def client_for(user):
    client = APIClient()
    client.force_authenticate(user=user)
    return client


_SCHEMA = {}


@pytest.fixture
def schema(api):
    """The OpenAPI schema as the API serves it (``/api/schema/``), asked once per test process: it is made from the
    code alone, and making it takes seconds. Each test gets its own copy."""
    if "json" not in _SCHEMA:
        response = api.get("/api/schema/", {"format": "json"})
        assert response.status_code == 200, response.content[:300]
        _SCHEMA["json"] = response.content
    return json.loads(_SCHEMA["json"])
