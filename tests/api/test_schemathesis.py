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
an operation lacks (405 with ``Allow``). Not run: the stateful checks (``use_after_free``,
``ensure_resource_availability``, ``object_level_authorization``), which need schemathesis' stateful phase and its
links between operations, a runner its pytest integration would give (below). The exclusions are named where they
are made: a reference to a record that does not exist (``refers_to_missing_records``), a configuration import whose
content names what does not exist, and the two data checks on bulk upserts (``is_bulk``). Each generated request
is a new one for ``Idempotency-Key`` (the stored keys are forgotten before each). Text may hold no NUL or lone
surrogate, and the schema says so (``pattern``, p2c.api.schema), so the generator is left to its defaults.

(Schemathesis' own pytest integration, ``schemathesis.pytest.from_fixture``, does not run under pytest 9, so the
operations are driven here with Hypothesis directly.)
"""

import os
import re
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
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from p2c.models import IdempotencyKey
from p2c.wsgi import application

EXAMPLES = int(os.environ.get("P2C_SCHEMATHESIS_EXAMPLES", "2"))
# Literals of the project's own code as values (schemathesis' constants analysis, Hypothesis' local constants): off,
# so that the requests depend on the schema alone, not on any string anywhere in the code or on which tests ran
# before; ``P2C_SCHEMATHESIS_CONSTANTS=1`` turns them on for a deeper local run (they found the "bulk" key).
CONSTANTS = os.environ.get("P2C_SCHEMATHESIS_CONSTANTS", "0") == "1"
# DRF's and Django's messages for a reference to a record that does not exist: a related field's by primary key
# or by natural key, a filter's by primary key (ModelChoiceField; an enum's invalid choice says the value instead),
# and a table mapping's option set that its Sales table does not have (which depends on the table chosen).
MISSING_RECORD = re.compile(r'Invalid pk ".*" - object does not exist\.|Object with \w+=.* does not exist\.'
                            r"|Select a valid choice\. That choice is not one of the available choices\."
                            r"|crm\.\w+ has no option set '.*'\.", re.S)
# The same, said by an operation of the integration: a table mapping named in the query that does not exist.
MISSING_RECORD_CODES = ("unknown_mapping",)
CONFIGURATION_IMPORT = "/api/integration/configuration/import/"


def refers_to_missing_records(response):
    """A 400 whose every message says that a record the request names does not exist."""
    try:
        body = response.json()
    except ValueError:
        return False
    if response.status_code != 400 or not isinstance(body, dict) or not body:
        return False
    if body.get("code") in MISSING_RECORD_CODES:  # a refusal's code (a field named "code" holds a list)
        return True
    return all(
        isinstance(messages, list) and messages
        and all(isinstance(m, str) and MISSING_RECORD.fullmatch(m) for m in messages)
        for messages in body.values())


def is_bulk(case):
    """A bulk upsert (``…/bulk/``) answers each record on its own: a record the schema (or the stored data) refuses
    is an ``error`` in the results while the others are written (200), and a batch whose every record is refused is
    a 400 with the same results. The status tells the batch's fate, not each record's, so the two data checks
    (a schema-valid request accepted, a schema-violating one rejected) do not apply to it; every other check does,
    and tests/api/test_bulk.py holds the per-record answers."""
    return case.operation.path.endswith("/bulk/")


def body_breaks_a_pattern(case):
    """Whether a field of the request's JSON body breaks the ``pattern`` the schema gives it, or the body meets none
    of its record's ``anyOf`` alternatives. Schemathesis' positive generator does so now and then (``"purchaser":
    "\\u0000"`` against ``^[^\\u0000…]*…$``): such a request is not schema-valid, and its refusal is right."""
    body = case.body
    if not isinstance(body, dict):
        return False
    raw = case.operation.schema.raw_schema
    schema = (raw["paths"][case.operation.path][case.method.lower()].get("requestBody", {}).get("content", {})
              .get("application/json", {}).get("schema", {}))
    if "$ref" in schema:
        schema = raw["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    properties = schema.get("properties", {})
    if any(isinstance(value, str) and "pattern" in properties.get(name, {})
           and re.search(properties[name]["pattern"], value) is None
           for name, value in body.items()):
        return True
    # a record's anyOf (one of its names not blank, p2c.api.schema): no alternative met
    alternatives = schema.get("anyOf") or []
    return bool(alternatives) and not any(
        all(isinstance(body.get(name), str) and re.search(rule.get("pattern", ""), body[name])
            for name, rule in alternative.get("properties", {}).items() if name in alternative.get("required", ()))
        for alternative in alternatives)


@schemathesis.check
def schema_violating_request_rejected(ctx, response, case):
    """schemathesis' ``negative_data_rejection``, bulk upserts excepted (``is_bulk``)."""
    if is_bulk(case):
        return None
    return negative_data_rejection(ctx, response, case)


@schemathesis.check
def schema_valid_request_accepted(ctx, response, case):
    """schemathesis' ``positive_data_acceptance``, but for two refusals no schema can state, which depend on the
    stored data rather than on the request's shape:

    - a reference to a record that does not exist (the generated ids and keys name none; 400 naming the field,
      as for a record the client deleted meanwhile): ``refers_to_missing_records``;
    - a configuration import whose sections name models, fields and records that do not exist (the schema states
      the file's frame, its format, version and sections): 400 ``invalid_configuration`` listing each key at fault.

    And a request that is not schema-valid after all: a field breaking its pattern, or a record meeting none of its
    ``anyOf`` alternatives (``body_breaks_a_pattern``).

    Every other 4xx outside the expected statuses (2xx, 401, 403, 404, 409) still fails."""
    if is_bulk(case):
        return None
    if refers_to_missing_records(response) or (response.status_code == 400 and body_breaks_a_pattern(case)):
        return None
    if (case.operation.path == CONFIGURATION_IMPORT and response.status_code == 400
            and response.json().get("code") == "invalid_configuration"):
        return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, schema_violating_request_rejected, schema_valid_request_accepted,
          missing_required_header, ignored_auth, unsupported_method, allow_header_conformance]
SKIPPED_PATHS = ("/api/schema", "/api/docs", "/api/auth")
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
