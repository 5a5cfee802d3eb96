"""Bulk upsert: create or update up to 1,000 records keyed by their natural key, in a constant number of queries.

``bulk_upsert`` is the one door for feeding systems (the API's ``…/bulk/`` endpoints call it). Per batch it runs
one SELECT of the existing records by key, one SELECT per foreign-key field to resolve every related key of the
batch, then at most one ``bulk_update`` and one ``bulk_create`` (plus the number allocation of new records), all
in one transaction. Each record is validated by the endpoint's serializer and answered on its own:

- ``created``: a new record (a blank key is filled from the number series);
- ``updated``: at least one given field differed, and only those records are written, so their modified
  timestamp moves and the integration sends them;
- ``unchanged``: no given field differs; the record is not written and its modified timestamp does not move;
- ``error``: the field errors, as the single-record endpoints give them. A bad record never stops the others.

An existing record is updated with the fields given (a partial update); a new one needs the required fields.
"""

import contextlib

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connections, router, transaction
from django.utils.translation import gettext
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from p2c.api.exceptions import validation_error_codes, validation_error_detail
from p2c.api.serializers import KeyRelatedField
from p2c.outcomes import STATE_CODES

MAX_RECORDS = 1000

CREATED, UPDATED, UNCHANGED, ERROR = "created", "updated", "unchanged", "error"


class BulkConflict(Exception):
    """The batch collided with a concurrent write (a key created meanwhile): nothing was written; retry it."""


def _result(index, status, *, key=None, obj=None, errors=None, code=None):
    """One record's answer; a blank key is no key (null), as the schema says (a key is never ""). ``code`` names a
    refusal by the configuration's state (p2c.outcomes.STATE_CODES, e.g. no number series set up)."""
    result = {"index": index, "status": status, "key": None if key == "" else key,
              "id": None if obj is None else obj.pk}
    if errors is not None:
        result["errors"] = errors
    if code is not None:
        result["code"] = code
    return result


def _normalize_key(raw):
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ValueError
    key = str(raw).strip()
    if "\x00" in key:
        raise ValueError
    return key


def _param_limit(connection):
    """How many parameters one SQLite statement may carry (``p2c.sqlite3`` knows SQLite's real limit); None
    elsewhere (PostgreSQL through psycopg binds client-side, without such a limit)."""
    return connection.features.max_query_params if connection.vendor == "sqlite" else None


def _related_cache(serializer, records):
    """Load the related records every foreign key of the batch names, one query per field."""
    cache = {}
    for name, field in serializer.fields.items():
        if not isinstance(field, KeyRelatedField) or field.read_only:
            continue
        values = set()
        for data in records:
            if isinstance(data, dict) and data.get(name) not in (None, ""):
                with contextlib.suppress(serializers.ValidationError):  # reported by the record's validation
                    values.add(field.normalize(data[name]))
        if values:
            queryset = field.get_queryset().filter(**{f"{field.slug_field}__in": values})
            cache[name] = {getattr(obj, field.slug_field): obj for obj in queryset}
        else:
            cache[name] = {}
    return cache


def _changes(model, instance, values):
    """The names of the fields in ``values`` whose value differs from ``instance``'s."""
    changed = []
    for name, new in values.items():
        field = model._meta.get_field(name)
        if field.many_to_one:
            old, new = getattr(instance, field.attname), (None if new is None else new.pk)
        else:
            old = getattr(instance, name)
        if old != new:
            changed.append(name)
    return changed


def bulk_upsert(*, serializer_class, records, key_field, context=None):
    """Create or update ``records`` (a list of dicts) of ``serializer_class``'s model by ``key_field``.

    Returns one result dict per record, in order. Raises ``ValidationError`` when ``records`` is not a list of
    at most ``MAX_RECORDS``, and ``BulkConflict`` when a concurrent write made the batch collide (nothing written).
    """
    if not isinstance(records, list):
        raise ValidationError({"non_field_errors": [gettext("Expected a list of records.")]})
    if len(records) > MAX_RECORDS:
        raise ValidationError(
            {
                "non_field_errors": [
                    gettext("At most %(max_records)s records per request.") % {"max_records": MAX_RECORDS}
                ]
            }
        )
    model = serializer_class.Meta.model
    context = dict(context or {})
    results = [None] * len(records)

    keys = {}
    seen = set()
    for index, data in enumerate(records):
        if not isinstance(data, dict):
            results[index] = _result(index, ERROR, errors={"non_field_errors": [gettext("Expected an object.")]})
            continue
        raw = data.get(key_field)
        try:
            key = None if raw is None else _normalize_key(raw)
        except ValueError:
            results[index] = _result(
                index,
                ERROR,
                errors={
                    key_field: [
                        gettext("%(raw)s is not a valid %(key_field)s.") % {"raw": repr(raw), "key_field": key_field}
                    ]
                },
            )
            continue
        if not key:  # none given, or blank once trimmed (as the serializer trims it): numbered when created
            keys[index] = None
            continue
        if key in seen:
            results[index] = _result(
                index, ERROR, key=key, errors={key_field: [gettext("This key appears more than once in the request.")]}
            )
            continue
        seen.add(key)
        keys[index] = key

    existing = {}
    if seen:
        existing = {getattr(obj, key_field): obj for obj in model.objects.filter(**{f"{key_field}__in": seen})}
    # One serializer per kind of write, reused for every record: building a ModelSerializer's fields is the
    # expensive part of validation, and it does not depend on the record.
    context["related_cache"] = {}
    for_create = serializer_class(context=context).without_unique_validators()
    for_update = serializer_class(context=context, partial=True).without_unique_validators()
    context["related_cache"].update(_related_cache(for_create, records))
    to_create, to_update, update_fields = [], [], set()
    for index, key in keys.items():
        instance = existing.get(key)
        serializer = for_create if instance is None else for_update
        serializer.instance = instance
        serializer.initial_data = records[index]
        try:
            validated = serializer.run_validation(records[index])
        except ValidationError as exc:
            errors = serializers.as_serializer_error(exc)
            results[index] = _result(index, ERROR, key=key, obj=instance, errors=errors)
            continue
        values = dict(validated)
        if instance is None:
            to_create.append((index, model(**values)))
            continue
        changed = _changes(model, instance, values)
        if not changed:
            results[index] = _result(index, UNCHANGED, key=key, obj=instance)
            continue
        for name in changed:
            setattr(instance, name, values[name])
        update_fields.update(changed)
        to_update.append((index, instance))

    db = router.db_for_write(model)
    limit = _param_limit(connections[db])
    try:
        with transaction.atomic(using=db):
            if to_update:
                fields = sorted(update_fields)
                batch_size = max(1, limit // (2 * len(fields) + 3)) if limit else None
                model.objects.bulk_update([obj for _, obj in to_update], fields, batch_size=batch_size)
                for index, obj in to_update:
                    results[index] = _result(index, UPDATED, key=getattr(obj, key_field), obj=obj)
            keyed = [(index, obj) for index, obj in to_create if keys[index] is not None]
            if keyed:
                model.objects.bulk_create([obj for _, obj in keyed])
                for index, obj in keyed:
                    results[index] = _result(index, CREATED, key=getattr(obj, key_field), obj=obj)
            to_number = [(index, obj) for index, obj in to_create if keys[index] is None]
            if to_number:
                try:
                    with transaction.atomic(using=db):
                        model.objects.bulk_create([obj for _, obj in to_number])
                except DjangoValidationError as exc:
                    # The model cannot number them (no number series, say): say so on each of them.
                    errors = validation_error_detail(exc)
                    codes = validation_error_codes(exc)
                    code = sorted(codes)[0] if codes and codes <= STATE_CODES else None
                    for index, _ in to_number:
                        results[index] = _result(index, ERROR, errors=errors, code=code)
                else:
                    for index, obj in to_number:
                        results[index] = _result(index, CREATED, key=getattr(obj, key_field), obj=obj)
    except IntegrityError as exc:
        raise BulkConflict(str(exc)) from exc
    return results


def bulk_summary(results):
    """Counts per status, and the per-record results."""
    counts = dict.fromkeys((CREATED, UPDATED, UNCHANGED, ERROR), 0)
    for result in results:
        counts[result["status"]] += 1
    return {**counts, "results": results}
