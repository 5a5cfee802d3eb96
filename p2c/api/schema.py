"""OpenAPI: text fields as the serializers check them, and the error answers every endpoint can give, so clients
(and schemathesis) know them."""

from drf_spectacular import openapi
from rest_framework import serializers


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, plus what DRF refuses in a text field that must not be blank: an empty value
    and one of white space only (DRF trims it first), as ``minLength: 1`` and a pattern."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.DecimalField) and "pattern" in schema:
            schema["pattern"] = decimal_pattern(field.max_whole_digits, field.decimal_places)
        if (isinstance(field, serializers.CharField) and not field.allow_blank and not field.read_only
                and schema.get("type") == "string" and "enum" not in schema):
            schema.setdefault("minLength", 1)
            if field.trim_whitespace:
                schema.setdefault("pattern", r"\S")
        return schema


def decimal_pattern(whole, places):
    """A decimal as DRF reads it: at least one digit (drf-spectacular's own pattern also lets "-" and "." by)."""
    integer = "0" if whole == 0 else rf"\d{{1,{whole}}}"
    if not places:
        return rf"^-?{integer}$"
    return rf"^-?(?:{integer}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}})$"


# django-filter refuses a number above 1e50 in any numeric filter (NumberFilter's own validator).
NUMBER_FILTER_MAXIMUM = 1e50


def postprocess_query_numbers(result, generator, request, public):
    """Say in the schema what django-filter checks: numeric query filters go up to 1e50."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                schema = parameter.get("schema", {})
                if parameter.get("in") == "query" and schema.get("type") == "number":
                    schema.setdefault("maximum", NUMBER_FILTER_MAXIMUM)
    return result


ERROR_SCHEMA = {
    "type": "object",
    "description": "``detail`` for request-wide errors; otherwise a list of messages per field name "
    "(``non_field_errors`` for the record as a whole).",
    "additionalProperties": True,
}

# No 401: the first authentication class is the session's, which names no WWW-Authenticate scheme, so DRF answers
# a missing or invalid token or session with 403 like a missing permission (tests/api/test_schema_and_deploy.py).
ERRORS = {
    "400": "Invalid input: the fields in error, each with its messages.",
    "403": "Not authenticated (no session, no token or an invalid one), or without the permission this operation "
    "needs.",
    "404": "No such record (or page).",
    "409": "Conflicts with stored data (a record still referred to, a concurrent change, an idempotent request "
    "still running).",
    "413": "The request body is larger than the limit (DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB by default).",
    "415": "The request body is not JSON, form data or multipart form data.",
    "422": "The Idempotency-Key was used for a different request.",
}
BY_METHOD = {
    "get": ["400", "403", "404"],
    "post": ["400", "403", "404", "409", "413", "415"],
    "put": ["400", "403", "404", "409", "413", "415"],
    "patch": ["400", "403", "404", "409", "413", "415"],
    "delete": ["403", "404", "409"],
}
IDEMPOTENCY_HEADER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "Makes a retried POST safe: the same key with the same body replays the first answer "
    "(422 when the body differs, 409 while the first request is still running).",
}


def _idempotent_operations(generator):
    """(path, method) of the operations whose handler honours ``Idempotency-Key`` (``p2c.idempotency``)."""
    found = set()
    for path, _regex, method, callback in getattr(generator, "endpoints", None) or []:
        view = getattr(callback, "cls", None)
        action = (getattr(callback, "actions", None) or {}).get(method.lower())
        handler = getattr(view, action, None) if view and action else None
        if getattr(handler, "honours_idempotency_key", False):
            found.add((path, method.lower()))
    return found


def postprocess_error_responses(result, generator, request, public):
    """Add the error responses to every operation under /api/, and the Idempotency-Key header (with its 422)
    to the POST operations that honour it."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR_SCHEMA)
    idempotent = _idempotent_operations(generator)
    for path, operations in result.get("paths", {}).items():
        # The schema itself answers only itself or, to anonymous callers, 403.
        own = path.startswith(("/api/schema", "/api/docs"))
        for method, operation in operations.items():
            if method not in BY_METHOD:
                continue
            responses = operation.setdefault("responses", {})
            for code in ["403"] if own else BY_METHOD[method]:
                responses.setdefault(code, {
                    "description": ERRORS[code],
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                })
            if (path, method) in idempotent:
                responses.setdefault("422", {
                    "description": ERRORS["422"],
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                })
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == "Idempotency-Key" for p in parameters):
                    parameters.append(IDEMPOTENCY_HEADER)
    return result
