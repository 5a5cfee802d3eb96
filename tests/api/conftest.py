"""The schema the API tests read (their users and clients are in tests/conftest.py and tests/api/clients.py)."""

import json

import pytest

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
