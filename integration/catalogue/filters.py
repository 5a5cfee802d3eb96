"""Mapping filters: JSON objects of Django field lookups, checked against the model, turned into a Q.

``{"customer_type_code": "customer", "state_code": "active"}`` keeps accounts that are active customers.
A key starting with ``~`` excludes: ``{"~sales_code": ""}`` keeps rows whose sales code is not blank.
Only fields of the model (and of models it points to) and the lookups below are accepted: a filter is data,
never code or SQL.
"""

from django.core.exceptions import EmptyResultSet, FieldDoesNotExist, FieldError, FullResultSet, ValidationError
from django.db import connections, router
from django.db.models import BooleanField, Case, Q, Value, When
from django.utils.translation import gettext

from p2c.text import NUL, SURROGATE, text_fault

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
        raise ValidationError({field_name: gettext("A filter is a JSON object of field lookups, e.g. %(example)s.")
                               % {"example": '{"state_code": "active"}'}})
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
            raise ValidationError({field_name: gettext("Filter key %(key)s on %(model)s: %(error)s") % {
                "key": repr(raw_key), "model": model._meta.label, "error": text}}) from None
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
            raise ValidationError({field_name: gettext(
                "%(model)s has no field %(field)s (in filter key %(key)s); lookups allowed: %(lookups)s."
            ) % {"model": current._meta.label, "field": repr(part), "key": repr(raw_key),
                 "lookups": ", ".join(sorted(LOOKUPS))}}) from None
        if index < len(parts) - 1:
            if not field.is_relation or field.related_model is None:
                raise ValidationError({field_name: gettext(
                    "Unsupported lookup %(lookup)s on %(field)s (in filter key %(key)s); lookups allowed: %(lookups)s."
                ) % {"lookup": repr(parts[index + 1]), "field": f"{current._meta.label}.{part}", "key": repr(raw_key),
                     "lookups": ", ".join(sorted(LOOKUPS))}})
            current = field.related_model
    return "__".join(parts), lookup


def _check_value(lookup, value, *, field_name, raw_key):
    problem = _value_problem(lookup, value)
    if problem:
        raise ValidationError({field_name: problem % {"key": repr(raw_key)}})


def _value_problem(lookup, value):
    """What is wrong with a filter key's value, as a text with the placeholder %(key)s, or None."""
    if isinstance(value, list) and lookup not in {"in", "range"}:
        return gettext("Filter key %(key)s takes one value, not a list (use __in for a list).")
    if isinstance(value, list) and any(isinstance(item, (list, dict)) for item in value):
        return gettext("Filter key %(key)s takes a list of plain values.")
    if lookup in TEXT_LOOKUPS and not isinstance(value, str):
        return gettext("Filter key %(key)s compares text: give a string.")
    if lookup in {"in", "range"} and not isinstance(value, list):
        return gettext("Filter key %(key)s needs a list.")
    if lookup == "range" and len(value) != 2:
        return gettext("Filter key %(key)s needs a list of two values.")
    if lookup == "isnull" and not isinstance(value, bool):
        return gettext("Filter key %(key)s needs true or false.")
    if isinstance(value, dict):
        return gettext("Filter key %(key)s cannot take an object as its value.")
    # A NUL character can never match stored text, and PostgreSQL refuses it outright, as it refuses a lone surrogate
    # in JSON (the filter is stored as jsonb): say so here, on every database, whichever door the filter came by.
    faults = {text_fault(item) for item in (value if isinstance(value, list) else [value]) if isinstance(item, str)}
    if NUL in faults:
        return gettext("Filter key %(key)s contains a NUL character (\\x00).")
    if SURROGATE in faults:
        return gettext("Filter key %(key)s contains a lone surrogate (\\ud800-\\udfff), which is not text.")
    return None


def filter_unindexed_on_sqlite(model, q):
    """``q`` as a condition SQLite checks on the rows it reads but looks up no index for (a CASE), on SQLite; ``q``
    elsewhere.

    SQLite weighs an equality on an indexed column (an account's state, its relationship type) as selective, even
    with statistics (taken from a sample when this was measured; `p2c.utils` now reads tables whole): for a page
    of rows in key order, or a chunk's match values, it would read every row that index holds, and sort them,
    where walking the key (or the match fields' indexes) reads what the page needs. Same rows; PostgreSQL, which weighs both by its statistics, gets the condition as it is.
    """
    if not q or connections[router.db_for_read(model)].vendor != "sqlite":
        return q
    return Case(When(q, then=Value(True)), default=Value(False), output_field=BooleanField())
