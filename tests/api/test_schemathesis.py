"""Property-based run of the whole API against its own OpenAPI schema (``/api/schema/``), in-process over WSGI.

The schema is read from ``/api/schema/`` as a superuser with a DRF token; every operation then gets a bounded
number of generated requests, valid and invalid ones, sent with that token. No answer may be a server error, have
an undocumented status code or content type, break the documented response schema, or accept a request the schema
forbids (a number for a text field, ``true`` spelt ``1``, a page size of ``""``). Derandomised, and without the
project's own literals as values (``CONSTANTS``), so CI sends the same requests every run until the schema changes.

Run it alone: ``python -m pytest tests/api/test_schemathesis.py -q -p no:cacheprovider``. A failure lists each
operation with schemathesis' report (what was sent as a curl command, what came back, which check failed).
``P2C_SCHEMATHESIS_EXAMPLES`` raises the number of requests per operation and mode for a deeper local run (CI: 2).

Every check of a stateless run does (``CHECKS``): server errors, status codes, content types, response schemas and
headers, ``positive_data_acceptance`` (a schema-valid request is not refused) and ``negative_data_rejection`` (a
schema-violating one is), a missing required header, authentication not ignored (401 without the token), methods
an operation lacks (405 with ``Allow``). The stateful checks (``use_after_free``, ``ensure_resource_availability``)
run in schemathesis' stateful phase against a real server (tests/api/test_schemathesis_server.py). Every
exclusion is named, with its reason, in tests/api/schemathesis_rules.py. Each generated request is a new one for
``Idempotency-Key`` (the stored keys are forgotten before each).

(Schemathesis' own pytest integration, ``schemathesis.pytest.from_fixture``, does not run under pytest 9, so the
operations are driven here with Hypothesis directly.)
"""

import os
import time

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from p2c.models import IdempotencyKey
from p2c.wsgi import application

from .schemathesis_rules import SKIPPED_PATHS, schema_valid_request_accepted, schema_violating_request_rejected

EXAMPLES = int(os.environ.get("P2C_SCHEMATHESIS_EXAMPLES", "2"))
# Literals of the project's own code as values (schemathesis' constants analysis, Hypothesis' local constants): off,
# so that the requests depend on the schema alone, not on any string anywhere in the code or on which tests ran
# before; ``P2C_SCHEMATHESIS_CONSTANTS=1`` turns them on for a deeper local run (they found the "bulk" key).
CONSTANTS = os.environ.get("P2C_SCHEMATHESIS_CONSTANTS", "0") == "1"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, schema_violating_request_rejected, schema_valid_request_accepted,
          missing_required_header, ignored_auth, unsupported_method, allow_header_conformance]
REPORT_CHARS = int(os.environ.get("P2C_SCHEMATHESIS_REPORT_CHARS", "3000"))  # of each operation's report


@pytest.fixture
def keep_test_connection():
    """Calls through the real WSGI handler must not close the test's database connection (Django's own test
    client does the same): ``close_old_connections`` would drop it mid-transaction on PostgreSQL."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def modes_for(operation):
    modes = [GenerationMode.POSITIVE]
    if operation.method.upper() in ("POST", "PUT", "PATCH") or (operation.method.upper() == "GET" and operation.query):
        # Invalid bodies and query strings; a path parameter alone has no invalid value worth generating.
        modes.append(GenerationMode.NEGATIVE)
    return modes


def operation_failures(operation, mode, headers, sent):
    """Schemathesis' report of what ``operation`` got wrong in ``mode``, or None. ``sent`` counts the requests."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        # Each generated request is a new one: a key another generated request used is a 422 (test_idempotency.py).
        IdempotencyKey.objects.all().delete()
        sent.append(mode)
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        run()
    except Unsatisfiable:
        return None  # no request of this mode exists for the operation
    except (Exception, BaseExceptionGroup) as exc:  # every operation's failures, reported together
        return str(exc)
    return None


@pytest.fixture
def hypothesis_project_constants(monkeypatch):
    """Hypothesis draws a twentieth of its values from the literals of the project's loaded modules; left out unless
    ``CONSTANTS`` (its internals: Hypothesis is pinned in requirements-dev.txt)."""
    from hypothesis.internal.conjecture import providers

    if not CONSTANTS:
        monkeypatch.setattr(providers.HypothesisProvider, "_local_constants",
                            property(lambda provider: providers.Constants()))
    providers.CONSTANTS_CACHE.cache.clear()  # what earlier tests computed from them
    yield
    providers.CONSTANTS_CACHE.cache.clear()


@pytest.mark.django_db
def test_api_conforms_to_its_schema(superuser, keep_test_connection, hypothesis_project_constants):
    token = Token.objects.create(user=superuser).key
    headers = {"Authorization": f"Token {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, headers=headers)
    schema.config.analysis.constants.enabled = CONSTANTS
    failures, operations, sent, started = [], 0, [], time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith(SKIPPED_PATHS):
            continue
        operations += 1
        for mode in modes_for(operation):
            report = operation_failures(operation, mode, headers, sent)
            if report:
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value} requests):\n"
                                f"{report[:REPORT_CHARS]}")
    print(f"schemathesis: {operations} operations, {len(sent)} requests, {EXAMPLES} examples per mode, "
          f"{time.monotonic() - started:.0f} s, {len(failures)} failing")
    assert operations > 100
    if failures:
        pytest.fail(f"{len(failures)} operation(s) do not answer as the schema says:\n\n" + "\n\n".join(failures),
                    pytrace=False)
