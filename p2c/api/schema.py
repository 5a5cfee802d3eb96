"""OpenAPI: text fields as the serializers check them, and the error answers every endpoint can give, so clients
(and schemathesis) know them."""

import re

from django.db.models import UniqueConstraint
from drf_spectacular import openapi
from rest_framework import serializers

from p2c.idempotency import HEADER as IDEMPOTENCY_KEY
from p2c.idempotency import KEY_PATTERN, MAX_KEY_LENGTH
from p2c.outcomes import Refusal

# Text the API can store: no NUL and no lone UTF-16 surrogate (the JSON parser refuses either anywhere in a body,
# p2c.api.parsers; ApiQueryTextMiddleware a NUL in a query string, where a lone surrogate cannot arrive: Django decodes
# a query string's bad UTF-8 as U+FFFD). The patterns state the NUL only: a pattern naming the surrogates
# (``\ud800-\udfff``) cannot be compiled by Rust-based validators (schemathesis' jsonschema-rs), which drop it and
# then generate text with NULs, and the syntaxes that could name every other character (``\U0010ffff``,
# ``\u{10ffff}``) are not shared by ECMA-262, Python and Rust. The surrogates are in the 400's description, and
# schemathesis.toml tells the generator. TEXT_NOT_BLANK_PATTERN adds DRF's rule for a text field that must not be
# blank: a character other than white space (DRF trims it first, with Python's str.strip, which takes U+001C to
# U+001F and U+0085 for white space too: ECMA-262's ``\s`` takes neither, Rust's only U+0085).
STORABLE = r"[^\u0000]"
TEXT_PATTERN = rf"^{STORABLE}*$"
TEXT_NOT_BLANK_PATTERN = rf"^{STORABLE}*[^\s\u0000\u001c-\u001f\u0085]{STORABLE}*$"
# A filter's empty value (``?uom=``, the browsable API's filter form sends one per empty field) means no filter,
# django-filter's convention: the schema of a number, enum, date or UUID filter allows it too.
EMPTY_VALUE = {"type": "string", "maxLength": 0}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, plus what DRF refuses in a text field that must not be blank: an empty value
    and one of white space only (DRF trims it first), as ``minLength: 1`` and a pattern."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.DecimalField) and "pattern" in schema:
            schema["pattern"] = decimal_pattern(field.max_whole_digits, field.decimal_places)
        if (isinstance(field, serializers.RelatedField) and not field.allow_null and not field.read_only
                and schema.get("type") == "string"):
            schema.setdefault("minLength", 1)  # DRF reads "" as null in a relation, which this one refuses
            if "format" not in schema:  # a key as text (a UUID key has its format): no NUL, no lone surrogate
                schema.setdefault("pattern", TEXT_PATTERN)
        if (isinstance(field, serializers.CharField) and not field.allow_blank and not field.read_only
                and schema.get("type") == "string" and "enum" not in schema):
            schema.setdefault("minLength", 1)
            if field.trim_whitespace:
                schema.setdefault("pattern", TEXT_NOT_BLANK_PATTERN)
        return schema

    def _insert_field_validators(self, field, schema):
        """After the validators' constraints (and drf-spectacular's empty-string alternative, which a pattern of
        ours allows anyway): text that is free otherwise holds no NUL or lone surrogate."""
        super()._insert_field_validators(field, schema)
        if (isinstance(field, serializers.CharField) and not field.read_only and schema.get("type") == "string"
                and not {"enum", "format", "pattern", "oneOf"} & schema.keys()):
            schema["pattern"] = TEXT_PATTERN

    def map_parsers(self):
        """Request bodies are documented as JSON: a form cannot carry what the schema states (null, a list of
        records, a nested object); the browsable API's forms still post form data."""
        media_types = super().map_parsers()
        return ["application/json"] if "application/json" in media_types else media_types

    def _map_basic_serializer(self, serializer, direction):
        """A serializer's ``names_one_needed`` (a record needs one of them not blank, e.g. a contact's name or
        first name), as ``anyOf`` in the schema of a whole record (not of a PATCH, which keeps what is stored)."""
        result = super()._map_basic_serializer(serializer, direction)
        if getattr(serializer, "schema_any_of", None) and not getattr(serializer, "partial", False):
            # A rule across fields that the serializer's validate() enforces, stated for a whole record (a PATCH
            # meets it with the stored values of the fields it leaves out, which no schema knows). A record the
            # API answers meets it too, so a component shared by requests and answers may say it.
            result["anyOf"] = serializer.schema_any_of
        needed = getattr(serializer, "names_one_needed", ())
        if needed and not getattr(serializer, "partial", False):
            properties = result.get("properties", {})
            result["anyOf"] = [
                {"required": [name], "properties": {name: _not_blank(properties.get(name, {"type": "string"}))}}
                for name in needed
            ]
        return result

    def _get_request_for_media_type(self, serializer, direction="request"):
        """A body is required where one of ``names_one_needed`` must be given (no body gives none)."""
        schema, required = super()._get_request_for_media_type(serializer, direction)
        if getattr(serializer, "names_one_needed", ()) and self.method != "PATCH":
            required = True
        return schema, required

    def _get_filter_parameters(self):
        parameters = super()._get_filter_parameters()
        filterset = getattr(self.view, "filterset_class", None)
        bounds = {name: f.extra for name, f in filterset.base_filters.items()} if filterset else {}
        for parameter in parameters:
            schema = parameter.get("schema", {})
            extra = bounds.get(parameter.get("name"), {})
            if schema.get("type") in ("integer", "number"):
                if extra.get("min_value") is not None:
                    schema["minimum"] = extra["min_value"]
                if extra.get("max_value") is not None:
                    schema["maximum"] = extra["max_value"]
            if parameter.get("in") == "query" and _typed_filter(schema):
                parameter["schema"] = {**schema, "enum": [*schema["enum"], ""]} if "enum" in schema else {
                    "anyOf": [schema, EMPTY_VALUE]}
        return parameters


def _not_blank(schema):
    """``schema`` for a value given and not blank: free text gets TEXT_NOT_BLANK_PATTERN; a key with a format
    or a pattern of its own (a UUID, digits) keeps its schema, null aside."""
    schema = {key: value for key, value in schema.items() if key not in ("nullable", "description", "readOnly")}
    if schema.get("type") == "string" and "format" not in schema and schema.get("pattern") in (None, TEXT_PATTERN):
        schema.update(minLength=1, pattern=TEXT_NOT_BLANK_PATTERN)
    return schema


def _typed_filter(schema):
    """Whether a filter's schema refuses the empty value django-filter takes as "no filter" (booleans excepted:
    ``true`` or ``false``, p2c.api.filters.StrictBooleanField)."""
    return schema.get("type") in ("integer", "number") or (
        schema.get("type") == "string" and ("enum" in schema or "format" in schema))


def decimal_pattern(whole, places):
    """A decimal as DRF reads it: at least one digit (drf-spectacular's own pattern also lets "-" and "." by)."""
    integer = "0" if whole == 0 else rf"\d{{1,{whole}}}"
    if not places:
        return rf"^-?{integer}$"
    return rf"^-?(?:{integer}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}})$"


# Text that DRF reads as blank once trimmed (str.strip's white space, as TEXT_NOT_BLANK_PATTERN says it).
BLANK_PATTERN = r"^[\s\u001c-\u001f\u0085]*$"

# django-filter refuses a number above 1e50 in any numeric filter (NumberFilter's own validator).
NUMBER_FILTER_MAXIMUM = 1e50


def postprocess_query_parameters(result, generator, request, public):
    """Say in the schema what the API checks in a query string: numeric filters go up to 1e50 (django-filter),
    text holds no NUL (ApiQueryTextMiddleware)."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") != "query":
                    continue
                schema = parameter.get("schema", {})
                for one in schema.get("anyOf", [schema]):
                    if one.get("type") == "number":
                        one.setdefault("maximum", NUMBER_FILTER_MAXIMUM)
                    if one.get("type") == "string" and not {"enum", "format", "pattern", "maxLength"} & one.keys():
                        one["pattern"] = TEXT_PATTERN
                items = schema.get("items", {})
                if items.get("type") == "string" and not {"enum", "format", "pattern"} & items.keys():
                    items["pattern"] = TEXT_PATTERN
    return result


ERROR_SCHEMA = {
    "type": "object",
    "description": "``detail`` for request-wide errors; otherwise a list of messages per field name "
    "(``non_field_errors`` for the record as a whole).",
    # No type nor enum: other errors carry their own codes, and a 400 on a record with a field named code lists its
    # messages under it
    "properties": {
        "code": {"description": "A stable name for a request-wide error. A refused operation's is one of "
                 "RefusalCode: " + ", ".join(r.value for r in Refusal) + "."},
    },
    "additionalProperties": True,
}
REFUSAL_SCHEMA = {
    "type": "string",
    "enum": [r.value for r in Refusal],
    "description": "Why a whole request was refused (the ``code`` of a 409, 400 or 503 answer to an operation).",
}

# The first authentication class is the token's: no credentials or an invalid token is a 401 naming the Token
# scheme in WWW-Authenticate; 403 is a signed-in user without the permission (tests/api/test_permissions.py).
ERRORS = {
    "400": "Invalid input: the parameters or fields in error, each with its messages (text holding a NUL or a "
    "lone UTF-16 surrogate, \\ud800 to \\udfff, anywhere in the body, property names included; a value outside "
    "the schema's range, pattern or choices; a reference to a record that does not exist; a unique value another "
    "record holds).",
    "401": "Not authenticated: no token (nor session), or an invalid token. The answer's WWW-Authenticate header "
    "names the scheme: Token.",
    "403": "Signed in, but without the permission this operation needs.",
    "404": "No such record (or page).",
    "409": "Conflicts with stored data or refused by the state of the configuration: a record still referred to, "
    "a concurrent change, an idempotent request still running, a disabled connection or mapping, a direction the "
    "mapping lacks (the body's ``code`` names the refusal).",
    "413": "The request body is larger than the limit (DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB by default).",
    "415": "The request body is not JSON, form data or multipart form data.",
    "422": "The Idempotency-Key was used for a different request.",
}
BY_METHOD = {
    "get": ["400", "401", "403", "404"],
    "post": ["400", "401", "403", "404", "409", "413", "415"],
    "put": ["400", "401", "403", "404", "409", "413", "415"],
    "patch": ["400", "401", "403", "404", "409", "413", "415"],
    "delete": ["401", "403", "404", "409"],
}
IDEMPOTENCY_HEADER = {
    "in": "header",
    "name": IDEMPOTENCY_KEY,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": KEY_PATTERN},
    "description": "Makes a retried POST safe: the same key with the same body replays the first answer "
    "(422 when the body differs, 409 while the first request is still running). 1 to 255 visible ASCII "
    "characters (no spaces); any other value is a 400 naming the header.",
}


def _endpoint_actions(generator):
    """(path, method, view class, action name) of each endpoint the generator found; the view class as a request's
    viewset takes it, with the mixins registered for its model (`ApiViewSetMixin.extended`)."""
    for path, _regex, method, callback in getattr(generator, "endpoints", None) or []:
        view = getattr(callback, "cls", None)
        if hasattr(view, "extended"):
            view = view.extended()
        yield path, method, view, (getattr(callback, "actions", None) or {}).get(method.lower())


def _idempotent_operations(generator):
    """(path, method) of the operations whose handler honours ``Idempotency-Key`` (``p2c.idempotency``)."""
    found = set()
    for path, method, view, action in _endpoint_actions(generator):
        handler = getattr(view, action, None) if view and action else None
        if getattr(handler, "honours_idempotency_key", False):
            found.add((_shape(path), method.lower()))
    return found


def _unique_sets(model):
    """The fields, and sets of fields, whose values no two of ``model``'s records share (the primary key aside)."""
    sets = [(field.name,) for field in model._meta.concrete_fields if field.unique and not field.primary_key]
    sets += [tuple(names) for names in model._meta.unique_together]
    sets += [tuple(constraint.fields) for constraint in model._meta.constraints
             if isinstance(constraint, UniqueConstraint) and constraint.fields and constraint.condition is None]
    return sets


def _stored_data_rules(generator):
    """``{(path, method): sentence}``: for each create and update of a record, the refusals that depend on the
    stored records (a unique value another record holds, a reference to a record that does not exist), named."""
    found = {}
    for path, method, view, action in _endpoint_actions(generator):
        queryset = getattr(view, "queryset", None)
        if action not in ("create", "update", "partial_update") or queryset is None:
            continue
        model = queryset.model
        parts = []
        unique = "; ".join(", ".join(names) for names in _unique_sets(model))
        if unique:
            parts.append(f"Unique (a 400 naming the fields when another record holds the value): {unique}.")
        serializer_class = getattr(view, "serializer_class", None)
        references = [field.field_name for field in (serializer_class().fields.values() if serializer_class else ())
                      if isinstance(field, serializers.RelatedField) and not field.read_only]
        if references:
            parts.append("References (a 400 naming the field when the record named does not exist): "
                         f"{', '.join(references)}.")
        if parts:
            found[(_shape(path), method.lower())] = " ".join(parts)
    return found


def _shape(path):
    """A path with its parameters unnamed: the generator's endpoints say ``{pk}`` where the schema says ``{id}``."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def postprocess_error_responses(result, generator, request, public):
    """Add the error responses to every operation under /api/, and the Idempotency-Key header (with its 422)
    to the POST operations that honour it. The 400 of a record's create and update names the rules that depend
    on the stored records (its unique fields, its references)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR_SCHEMA)
    schemas.setdefault("RefusalCode", REFUSAL_SCHEMA)
    idempotent = _idempotent_operations(generator)
    stored_data_rules = _stored_data_rules(generator)
    for path, operations in result.get("paths", {}).items():
        # The schema itself answers itself or, to a caller not signed in, 401.
        own = path.startswith(("/api/schema", "/api/docs"))
        for method, operation in operations.items():
            if method not in BY_METHOD:
                continue
            responses = operation.setdefault("responses", {})
            for code in ["401", "403"] if own else BY_METHOD[method]:
                responses.setdefault(code, {
                    "description": ERRORS[code],
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                })
            if (_shape(path), method) in stored_data_rules and "400" in responses:
                responses["400"]["description"] += " " + stored_data_rules[(_shape(path), method)]
            if (_shape(path), method) in idempotent:
                responses.setdefault("422", {
                    "description": ERRORS["422"],
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                })
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == IDEMPOTENCY_KEY for p in parameters):
                    parameters.append(IDEMPOTENCY_HEADER)
    return result


# What a created record's links lead to: the operations on the record the answer names.
LINKED_METHODS = {"get": "Get", "put": "Replace", "patch": "Update", "delete": "Delete"}


def postprocess_links(result, generator, request, public):
    """OpenAPI links from each create (``POST /api/…/`` answering 201 with the record), the key taken from the
    answer's field of the same name, so that clients (and schemathesis' stateful phase) follow them from a record to
    what can be done with it:

    - to the operations on that record (``GET``, ``PUT``, ``PATCH``, ``DELETE /api/…/{key}/``) and to its actions
      (``POST /api/…/{key}/synchronize/``, ``…/couple/`` and the like);
    - to the create of each kind of record that refers to it (a contact's company, a field mapping's table mapping,
      a value map's entries), with the new record's key in the request's field (``requestBody``)."""
    paths = result.get("paths", {})
    schemas = result.get("components", {}).get("schemas", {})
    for path, operations in paths.items():
        created = _created_response(operations)
        if not created:
            continue
        properties = _component(created, schemas).get("properties", {})
        for detail, detail_operations in paths.items():
            rest = detail[len(path):] if detail.startswith(path) else ""
            if not (rest.startswith("{") and rest.endswith("}/") and rest.count("/") == 1):
                continue
            key = rest[1:-2]
            if key not in properties:
                continue
            for method, verb in LINKED_METHODS.items():
                if method in detail_operations:
                    _link(created, f"{verb}Record", detail_operations[method]["operationId"], {key: key},
                          f"The record created, by its {key}.")
            for action_path, action_operations in paths.items():
                segment = action_path[len(detail):-1] if action_path.startswith(detail) else ""
                if segment and "/" not in segment and "{" not in segment and "post" in action_operations:
                    verb = "".join(word.capitalize() for word in segment.split("-"))
                    _link(created, f"{verb}Record", action_operations["post"]["operationId"], {key: key},
                          f"{segment} on the record created, by its {key}.")
    for parent_path, field, key, child_path in _references(generator):
        created = _created_response(paths.get(parent_path, {}))
        child = paths.get(child_path, {}).get("post")
        if not created or not child or key not in _component(created, schemas).get("properties", {}):
            continue
        name = f"Create{_camel(child['operationId'].removesuffix('_create'))}With{_camel(field)}"
        created.setdefault("links", {})[name] = {
            "operationId": child["operationId"],
            "requestBody": {field: f"$response.body#/{key}"},
            "description": f"A new record whose {field} is the record created.",
        }
    return result


def _created_response(operations):
    return (operations.get("post") or {}).get("responses", {}).get("201")


def _component(response, schemas):
    body = response.get("content", {}).get("application/json", {}).get("schema", {})
    return schemas.get(body.get("$ref", "").rsplit("/", 1)[-1], {})


def _camel(name):
    return "".join(word[:1].upper() + word[1:] for word in name.replace("-", "_").split("_"))


def _link(response, name, operation_id, parameters, description):
    """A link named ``name`` to ``operation_id``, each of its ``parameters`` taken from the answer's field."""
    response.setdefault("links", {})[name] = {
        "operationId": operation_id,
        "parameters": {parameter: f"$response.body#/{field}" for parameter, field in parameters.items()},
        "description": description,
    }


def _references(generator):
    """``(parent create path, field, parent key, child create path)`` for each writable relation of a create's
    serializer to a model that has a create of its own: the child's ``field`` holds the parent's ``key``."""
    creates = {}
    for path, _regex, method, callback in getattr(generator, "endpoints", None) or []:
        view = getattr(callback, "cls", None)
        queryset = getattr(view, "queryset", None)
        if method == "POST" and (getattr(callback, "actions", None) or {}).get("post") == "create" and queryset is not None:
            creates[path] = (queryset.model, view)
    by_model = {model: path for path, (model, _view) in creates.items()}
    for child_path, (_model, view) in creates.items():
        serializer_class = getattr(view, "serializer_class", None)
        if serializer_class is None:
            continue
        for field in serializer_class().fields.values():
            queryset = getattr(field, "queryset", None)
            if not isinstance(field, serializers.RelatedField) or field.read_only or queryset is None:
                continue
            parent_path = by_model.get(queryset.model)
            if parent_path:
                yield parent_path, field.field_name, getattr(field, "slug_field", None) or "id", child_path
