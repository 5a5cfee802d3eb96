"""The Dataverse Web API tests' fixtures: a superuser and a client with its token."""

import pytest
from rest_framework.authtoken.models import Token

from tests.crm.dataverse.client import Dataverse


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("dv-admin", "dv@example.com", "pw")


@pytest.fixture
def dv(admin_user):
    return Dataverse(Token.objects.create(user=admin_user).key)
