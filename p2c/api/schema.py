"""OpenAPI post-processing: the error answers every endpoint can give, so clients (and schemathesis) know them."""

ERROR_SCHEMA = {
    "type": "object",
    "description": "``detail`` for request-wide errors; otherwise a list of messages per field name "
    "(``non_field_errors`` for the record as a whole).",
    "additionalProperties": True,
}

ERRORS = {
    "400": "Invalid input: the fields in error, each with its messages.",
    "401": "Not authenticated.",
    "403": "Authenticated, but without the model permission this operation needs.",
    "404": "No such record (or page).",
    "409": "Conflicts with stored data (a record still referred to, a concurrent change, an idempotent request "
    "still running).",
    "422": "The Idempotency-Key was used for a different request.",
}
BY_METHOD = {
    "get": ["400", "401", "403", "404"],
    "post": ["400", "401", "403", "404", "409"],
    "put": ["400", "401", "403", "404", "409"],
    "patch": ["400", "401", "403", "404", "409"],
    "delete": ["401", "403", "404", "409"],
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
        if path.startswith("/api/schema") or path.startswith("/api/docs"):
            continue
        for method, operation in operations.items():
            if method not in BY_METHOD:
                continue
            responses = operation.setdefault("responses", {})
            for code in BY_METHOD[method]:
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
