"""Property-based run of the whole API against its own OpenAPI schema (``/api/schema/``), in-process over WSGI.

The schema is read from ``/api/schema/`` as a superuser with a DRF token; every operation then gets a bounded
number of generated requests, valid and invalid ones, sent with that token. No answer may be a server error,
have an undocumented content type or break the documented schema. Derandomised so CI sends the same requests
every run; ``P2C_SCHEMATHESIS_EXAMPLES`` raises the number per operation and mode for a deeper local run.

(Schemathesis' own pytest integration, ``schemathesis.pytest.from_fixture``, does not run under pytest 9, so the
operations are driven here with Hypothesis directly.)
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from p2c.wsgi import application

EXAMPLES = int(os.environ.get("P2C_SCHEMATHESIS_EXAMPLES", "2"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture
def keep_test_connection():
    """Calls through the real WSGI handler must not close the test's database connection (Django's own test
    client does the same): ``close_old_connections`` would drop it mid-transaction on PostgreSQL."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_api_conforms_to_its_schema(superuser, keep_test_connection):
    token = Token.objects.create(user=superuser).key
    headers = {"Authorization": f"Token {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, headers=headers)
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith(("/api/schema", "/api/docs", "/api/auth")):
            continue
        operations += 1
        modes = [GenerationMode.POSITIVE]
        if operation.method.upper() in ("POST", "PATCH") or (operation.method.upper() == "GET" and operation.query):
            # Invalid bodies and query strings; a path parameter alone has no invalid value worth generating.
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case):
                response = case.call(headers=headers)
                case.validate_response(response, checks=CHECKS, headers=headers)

            try:
                run()
            except Unsatisfiable:
                pass  # no request of this mode exists for the operation
            except (Exception, ExceptionGroup) as exc:  # every operation's failures, reported together
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}"[:2000])
    assert operations > 100
    assert not failures, "\n\n".join(failures)
