"""API clients for the tests."""

from rest_framework.test import APIClient


def client_for(user):
    """An API client authenticated as ``user`` (without a token)."""
    client = APIClient()
    client.force_authenticate(user=user)
    return client
