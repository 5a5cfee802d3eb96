"""Property-based run of the whole API against its own OpenAPI schema (``/api/schema/``), in-process over WSGI.

The schema is read from ``/api/schema/`` as a superuser with a DRF token; every operation then gets a bounded
number of generated requests, valid and invalid ones, sent with that token. No answer may be a server error, have
an undocumented status code or content type, break the documented response schema, or accept a request the schema
forbids (a number for a text field, ``true`` spelt ``1``, a page size of ``""``). Derandomised, so CI sends the
same requests every run.

Run it alone: ``python -m pytest tests/api/test_schemathesis.py -q -p no:cacheprovider``. A failure lists each
operation with schemathesis' report (what was sent as a curl command, what came back, which check failed).
``P2C_SCHEMATHESIS_EXAMPLES`` raises the number of requests per operation and mode for a deeper local run (CI: 2).

Not checked: that every schema-valid request is accepted (schemathesis' ``positive_data_acceptance``). Generated
references name records that do not exist, and numbers need their series set up: those are 400s the schema cannot
express. The blank text that the API refuses is in the schema (``minLength: 1``), see test_schema_and_deploy.py.

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
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from p2c.wsgi import application

EXAMPLES = int(os.environ.get("P2C_SCHEMATHESIS_EXAMPLES", "2"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]
SKIPPED_PATHS = ("/api/schema", "/api/docs", "/api/auth")
REPORT_CHARS = 3000  # of each operation's report


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


def operation_failures(operation, mode, headers):
    """Schemathesis' report of what ``operation`` got wrong in ``mode``, or None."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        run()
    except Unsatisfiable:
        return None  # no request of this mode exists for the operation
    except (Exception, BaseExceptionGroup) as exc:  # every operation's failures, reported together
        return str(exc)
    return None


@pytest.mark.django_db
def test_api_conforms_to_its_schema(superuser, keep_test_connection):
    token = Token.objects.create(user=superuser).key
    headers = {"Authorization": f"Token {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, headers=headers)
    # JSON may carry "\u0000", but no text the API stores may hold it (PostgreSQL cannot): the parser refuses it.
    schema.config.generation.update(allow_x00=False)
    failures, operations, started = [], 0, time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith(SKIPPED_PATHS):
            continue
        operations += 1
        for mode in modes_for(operation):
            report = operation_failures(operation, mode, headers)
            if report:
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value} requests):\n"
                                f"{report[:REPORT_CHARS]}")
    print(f"schemathesis: {operations} operations, {EXAMPLES} examples per mode, "
          f"{time.monotonic() - started:.0f} s, {len(failures)} failing")
    assert operations > 100
    if failures:
        pytest.fail(f"{len(failures)} operation(s) do not answer as the schema says:\n\n" + "\n\n".join(failures),
                    pytrace=False)
