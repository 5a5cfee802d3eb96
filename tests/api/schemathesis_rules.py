"""What schemathesis runs of the API leave out, and why: the one place for every exclusion.

Used by the in-process run (tests/api/test_schemathesis.py) and by the CLI against a real server
(tests/api/test_schemathesis_server.py, as ``SCHEMATHESIS_HOOKS=tests.api.schemathesis_rules``; importing it registers
the two checks below, which stand in for schemathesis' ``positive_data_acceptance`` and ``negative_data_rejection``).
What the generator is told not to send (NUL and lone surrogates in property names and free-form JSON) is in
``schemathesis.toml``, with its reason.

- ``SKIPPED_PATHS``: the schema and its docs (not API operations), the token login (a form of its own), and the
  Dataverse Web API under ``/api/data/`` (not part of the DRF schema).
- Three refusals depend on the stored data, not on the request's shape, so no schema can state them; a
  schema-valid request that gets one is not counted as refused: a reference to a record that does not exist
  (which takes a pagination cursor the server did not hand out as one) or a unique value already taken
  (``depends_on_stored_data``: each field's messages one or the other), an Idempotency-Key used for another request
  (422, ``reuses_a_key``). A
  configuration import whose sections name models, fields and records that do not exist is the first kind (400
  ``invalid_configuration``).
- Bulk upserts (``is_bulk``) answer each record on its own: a batch with a record the schema refuses is still a 200
  when another record is written, so ``negative_data_rejection`` does not apply to them. A schema-valid batch is
  checked like any request: every record it holds refused for one of the reasons above, or by the configuration's
  state (a result with a ``code``, when some records are refused for another of those reasons: a 400; every one by
  state: a 409) is not counted as refused (``bulk_refused_by_data``).
- A request that breaks a pattern or an ``anyOf`` of its body is not schema-valid, whatever the generator says
  (``body_breaks_a_pattern``).
- A PATCH keeps the stored values of the fields it leaves out, and a rule across fields (stated for a whole record:
  an option mapping runs one way) is met with those: a 400 naming only fields the PATCH left out depends on the
  stored record (``patch_meets_stored_values``).
"""

import re

import schemathesis
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

SKIPPED_PATHS = ("/api/schema", "/api/docs", "/api/auth", "/api/data/")
SKIPPED_PATHS_REGEX = "^(" + "|".join(re.escape(path) for path in SKIPPED_PATHS) + ")"

# DRF's and Django's messages for a reference to a record that does not exist: a related field's by primary key
# or by natural key, a filter's by primary key (ModelChoiceField; an enum's invalid choice says the value instead),
# a table mapping's option set that its Sales table does not have (which depends on the table chosen), and a page
# cursor (a position in a list that only the server hands out, p2c.api.pagination).
MISSING_RECORD = re.compile(r'Invalid pk ".*" - object does not exist\.|Object with \w+=.* does not exist\.'
                            r"|Select a valid choice\. That choice is not one of the available choices\."
                            r"|crm\.\w+ has no option set '.*'\.|Invalid cursor\.", re.S)
# The same, said by an operation of the integration: a table mapping named that does not exist, a field that no field
# mapping of the conflicts' table mappings has (a conflict resolved field by field).
MISSING_RECORD_CODES = ("unknown_mapping", "field_unknown")
# DRF's and Django's messages for a unique value another record holds.
UNIQUE_TAKEN = re.compile(r".* with this .* already exists\.|The fields .* must make a unique set\.", re.S)
CONFIGURATION_IMPORT = "/api/integration/configuration/import/"


def _messages(response):
    """The error body's ``{field: [messages]}``, or None when it is not one."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or not body:
        return None
    return body


def _every_message_matches(body, *patterns):
    """Whether every field's every message matches one of ``patterns`` (a request may name a record that does not
    exist in one field and a unique value taken in another: both depend on the stored data)."""
    fields = {name: messages for name, messages in body.items() if name not in ("code", "detail")}
    return bool(fields) and all(
        isinstance(messages, list) and messages
        and all(isinstance(m, str) and any(p.fullmatch(m) for p in patterns) for m in messages)
        for messages in fields.values())


def depends_on_stored_data(response):
    """A 400 whose every message says that a record the request names does not exist (``MISSING_RECORD``, or a
    refusal's code among ``MISSING_RECORD_CODES``) or that a value it gives is another record's already
    (``UNIQUE_TAKEN``): one field may say one and another field the other."""
    body = _messages(response)
    if response.status_code != 400 or body is None:
        return False
    if body.get("code") in MISSING_RECORD_CODES:  # a refusal's code (a field named "code" holds a list)
        return True
    return _every_message_matches(body, MISSING_RECORD, UNIQUE_TAKEN)


def patch_meets_stored_values(case, response):
    """A PATCH's 400 whose every field at fault is one the request left out (or a data-dependent refusal): a rule
    across fields met with the stored values of the fields a PATCH keeps, e.g. an option set named on a mapping
    stored as bidirectional. The schema states such rules for a whole record (POST, PUT), not for a PATCH."""
    body = _messages(response)
    if case.method.upper() != "PATCH" or response.status_code != 400 or body is None or not isinstance(case.body, dict):
        return False
    fields = {name: messages for name, messages in body.items() if name not in ("code", "detail")}
    return bool(fields) and all(
        (name not in case.body and name != "non_field_errors")
        or _every_message_matches({name: messages}, MISSING_RECORD, UNIQUE_TAKEN)
        for name, messages in fields.items())


def reuses_a_key(case, response):
    """A 422: the request's Idempotency-Key was used for another request (the generator draws keys from the
    header's pattern, and a short one comes back now and then)."""
    return response.status_code == 422 and bool(case.headers and case.headers.get("Idempotency-Key"))


def is_bulk(case):
    """A bulk upsert (``…/bulk/``) answers each record on its own: a record the schema (or the stored data) refuses
    is an ``error`` in the results while the others are written (200), and a batch whose every record is refused is
    a 400 with the same results (409 when the configuration's state refused every one). The status tells the
    batch's fate, not each record's, so a schema-violating batch may be accepted (``negative_data_rejection`` does
    not apply to it); every other check does, and tests/api/test_bulk.py holds the per-record answers."""
    return case.operation.path.endswith("/bulk/")


def bulk_refused_by_data(case, response):
    """A bulk upsert's 400 whose every refused record names a record that does not exist, takes a unique value
    already taken, or was refused by the configuration's state (its ``code``): nothing in the batch is wrong as
    sent, and each record says why it was refused."""
    body = _messages(response)
    if not is_bulk(case) or response.status_code != 400 or body is None or not isinstance(body.get("results"), list):
        return False
    refused = [result for result in body["results"] if result.get("status") == "error"]
    return bool(refused) and all(
        result.get("code") or (isinstance(result.get("errors"), dict)
                               and _every_message_matches(result["errors"], MISSING_RECORD, UNIQUE_TAKEN))
        for result in refused)


def body_breaks_a_pattern(case):
    """Whether a field of the request's JSON body breaks the ``pattern`` the schema gives it, or the body meets none
    of its record's ``anyOf`` alternatives. Schemathesis' positive generator does so now and then: such a request
    is not schema-valid, and its refusal is right. A list of records (a bulk upsert) breaks it when one record does."""
    raw = case.operation.schema.raw_schema
    schema = (raw["paths"][case.operation.path][case.method.lower()].get("requestBody", {}).get("content", {})
              .get("application/json", {}).get("schema", {}))
    return _breaks_a_pattern(case.body, schema, raw)


def _breaks_a_pattern(body, schema, raw):
    if "$ref" in schema:
        schema = raw["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if isinstance(body, list) and "items" in schema:
        return any(_breaks_a_pattern(item, schema["items"], raw) for item in body)
    if not isinstance(body, dict):
        return False
    properties = schema.get("properties", {})
    if any(isinstance(value, str) and "pattern" in properties.get(name, {})
           and re.search(properties[name]["pattern"], value) is None
           for name, value in body.items()):
        return True
    # a record's anyOf (one of its names given and not blank, p2c.api.schema): no alternative met
    alternatives = schema.get("anyOf") or []
    return bool(alternatives) and not any(
        all(_meets(body.get(name), rule) for name, rule in alternative.get("properties", {}).items()
            if name in alternative.get("required", ()))
        for alternative in alternatives)


def _meets(value, rule):
    """Whether ``value`` meets the type and pattern of ``rule`` (or of one of its ``oneOf``)."""
    if "oneOf" in rule:
        return any(_meets(value, one) for one in rule["oneOf"])
    if rule.get("type") == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, str) and re.search(rule.get("pattern", ""), value) is not None


@schemathesis.check
def schema_violating_request_rejected(ctx, response, case):
    """schemathesis' ``negative_data_rejection``, bulk upserts excepted (``is_bulk``)."""
    if is_bulk(case):
        return None
    return negative_data_rejection(ctx, response, case)


@schemathesis.check
def schema_valid_request_accepted(ctx, response, case):
    """schemathesis' ``positive_data_acceptance``, but for the refusals that depend on the stored data (a record
    that does not exist, a unique value taken, an Idempotency-Key reused; in a bulk upsert, each refused record's),
    and requests that are not schema-valid after all (the module's docstring says why). Every other 4xx outside
    the expected statuses (2xx, 401, 403, 404, 409) still fails."""
    if (depends_on_stored_data(response) or bulk_refused_by_data(case, response)
            or patch_meets_stored_values(case, response) or reuses_a_key(case, response)):
        return None
    if response.status_code == 400 and body_breaks_a_pattern(case):
        return None
    if (case.operation.path == CONFIGURATION_IMPORT and response.status_code == 400
            and (_messages(response) or {}).get("code") == "invalid_configuration"):
        return None
    return positive_data_acceptance(ctx, response, case)
