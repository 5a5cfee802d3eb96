"""Mapping filters: JSON objects of Django field lookups, checked against the model, turned into a Q.

``{"customer_type_code": "customer", "state_code": "active"}`` keeps accounts that are active customers.
A key starting with ``~`` excludes: ``{"~sales_code": ""}`` keeps rows whose sales code is not blank.
Only fields of the model (and of models it points to) and the lookups below are accepted: a filter is data,
never code or SQL.
"""

from django.core.exceptions import EmptyResultSet, FieldDoesNotExist, FieldError, FullResultSet, ValidationError
from django.db.models import Q

LOOKUPS = {
    "exact", "iexact", "in", "isnull", "gt", "gte", "lt", "lte",
    "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith", "range",
}

TEXT_LOOKUPS = {"iexact", "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith"}


def filter_validate(model, spec, *, field_name="filter"):
    """Return the Q for ``spec``; raise ValidationError naming the unknown field or unsupported lookup."""
    if spec in (None, ""):
        return Q()
    if not isinstance(spec, dict):
        raise ValidationError({field_name: "A filter is a JSON object of field lookups, e.g. {\"state_code\": \"active\"}."})
    q = Q()
    for raw_key, value in spec.items():
        negate = raw_key.startswith("~")
        key = raw_key[1:] if negate else raw_key
        path, lookup = _split_lookup(model, key, field_name=field_name, raw_key=raw_key)
        _check_value(lookup, value, field_name=field_name, raw_key=raw_key)
        condition = Q(**{f"{path}__{lookup}": value})
        try:  # builds the query (no SQL runs), which checks the lookup against the field and the value's type
            model._default_manager.filter(condition).query.__str__()
        except (EmptyResultSet, FullResultSet):
            pass  # a sound filter that matches nothing (an empty list) or everything
        except (FieldError, ValueError, TypeError, ValidationError) as exc:
            text = " ".join(getattr(exc, "messages", None) or [str(exc)])
            raise ValidationError({field_name: f"Filter key {raw_key!r} on {model._meta.label}: {text}"}) from None
        q &= ~condition if negate else condition
    return q


def _split_lookup(model, key, *, field_name, raw_key):
    parts = key.split("__")
    lookup = "exact"
    if len(parts) > 1 and parts[-1] in LOOKUPS:
        lookup = parts.pop()
    current = model
    for index, part in enumerate(parts):
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            raise ValidationError(
                {field_name: f"{current._meta.label} has no field {part!r} (in filter key {raw_key!r}); "
                             f"lookups allowed: {', '.join(sorted(LOOKUPS))}."}
            ) from None
        if index < len(parts) - 1:
            if not field.is_relation or field.related_model is None:
                raise ValidationError(
                    {field_name: f"Unsupported lookup {parts[index + 1]!r} on {current._meta.label}.{part} "
                                 f"(in filter key {raw_key!r}); lookups allowed: {', '.join(sorted(LOOKUPS))}."}
                )
            current = field.related_model
    return "__".join(parts), lookup


def _check_value(lookup, value, *, field_name, raw_key):
    if isinstance(value, list) and lookup not in {"in", "range"}:
        raise ValidationError({field_name: f"Filter key {raw_key!r} takes one value, not a list (use __in for a list)."})
    if isinstance(value, list) and any(isinstance(item, (list, dict)) for item in value):
        raise ValidationError({field_name: f"Filter key {raw_key!r} takes a list of plain values."})
    if lookup in TEXT_LOOKUPS and not isinstance(value, str):
        raise ValidationError({field_name: f"Filter key {raw_key!r} compares text: give a string."})
    if lookup in {"in", "range"} and not isinstance(value, list):
        raise ValidationError({field_name: f"Filter key {raw_key!r} needs a list."})
    if lookup == "range" and len(value) != 2:
        raise ValidationError({field_name: f"Filter key {raw_key!r} needs a list of two values."})
    if lookup == "isnull" and not isinstance(value, bool):
        raise ValidationError({field_name: f"Filter key {raw_key!r} needs true or false."})
    if isinstance(value, dict):
        raise ValidationError({field_name: f"Filter key {raw_key!r} cannot take an object as its value."})
    # A NUL character can never match stored text, and PostgreSQL refuses it outright: say so here, on every database.
    if any(isinstance(item, str) and "\x00" in item for item in (value if isinstance(value, list) else [value])):
        raise ValidationError({field_name: f"Filter key {raw_key!r} contains a NUL character (\\x00)."})
