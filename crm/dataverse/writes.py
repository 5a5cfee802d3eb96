"""Writes as Dataverse takes them, through the Sales models' own rules.

Each write is one function here; the views only translate HTTP into their arguments and their outcome into HTTP.
A row is validated as the admin validates it (the model's ``full_clean``: fields, choices, uniqueness, constraints),
saved by the model (numbers, derived fields, ``modifiedon``, the deletion log, the ``records_written`` signal the
near-real-time synchronisation listens to), with the caller's Sales user as ``modifiedby`` (`p2c.records.writing_as`).
The bulk messages validate every row the same way, then write them with ``bulk_create``/``bulk_update`` (the same
hooks) in one transaction: all or nothing, as Dataverse's CreateMultiple, UpdateMultiple and UpsertMultiple.
"""

import functools
import re
import uuid
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext

from p2c.databases import database_for
from p2c.text import shown, text_fault

from . import errors
from .entities import BY_LOGICAL, BY_SET
from .query import etag_of

_KEY_PART = re.compile(r"\s*([A-Za-z0-9_]+)\s*=\s*('(?:[^']|'')*'|[^,']+)\s*(?:,|$)")
_REFERENCE = re.compile(r"^(?:.*/)?([A-Za-z0-9_]+)\((.*)\)$")


def _uuid(text, entity):
    try:
        return uuid.UUID(str(text).strip())
    except ValueError:
        raise errors.bad_request(gettext("%(text)s is not a GUID, the key of %(entity)s.")
                                 % {"text": text, "entity": entity.logical_name}) from None


def key_filter(entity, text):
    """The ``Q`` of a key in a URL: ``(<guid>)``, ``(accountid=<guid>)`` or an alternate key
    ``(accountnumber='A-1')``. Returns (Q, the GUID or None, {alternate key column: value})."""
    text = text.strip()
    if "=" not in text:
        key = _uuid(text, entity)
        return Q(pk=key), key, {}
    parts, position = {}, 0
    while position < len(text):
        match = _KEY_PART.match(text, position)
        if not match or match.end() == position:
            raise errors.bad_request(gettext("The key %(text)s is not valid.") % {"text": text})
        position = match.end()
        value = match.group(2).strip()
        parts[match.group(1)] = value[1:-1].replace("''", "'") if value.startswith("'") else value
    if list(parts) == [entity.primary_id]:
        key = _uuid(parts[entity.primary_id], entity)
        return Q(pk=key), key, {}
    if sorted(parts) not in [sorted(columns) for columns in entity.keys.values()]:
        raise errors.bad_request(
            gettext("%(names)s is not a key of %(entity)s.") % {"names": ",".join(parts), "entity": entity.logical_name})
    return Q(**{entity.columns[name].field: value for name, value in parts.items()}), None, parts


def reference(text):
    """The entity and key filter of ``/contacts(<id>)`` (an ``@odata.bind`` or ``@odata.id``)."""
    return _reference(str(text))


@functools.lru_cache(maxsize=4096)  # the rows of a bulk message bind the same few owners and currencies
def _reference(text):
    match = _REFERENCE.match(str(text).strip())
    entity = match and BY_SET.get(match.group(1))
    if entity is None:
        raise errors.bad_request(gettext("%(text)s does not name a row of this service.") % {"text": text})
    return entity, key_filter(entity, match.group(2))


def _payload_error(entity, message):
    return errors.DataverseError(
        400, errors.PAYLOAD,
        gettext("Error identified in Payload provided by the user for Entity :'%(entity_set)s': %(message)s")
        % {"entity_set": entity.entity_set, "message": message},
    )


def values_from_payload(entity, payload):
    """The Django attribute values of a Dataverse row ``payload``: {attname: value}, and the id it names or None."""
    if not isinstance(payload, dict):
        raise _payload_error(entity, gettext("a row is a JSON object."))
    values, row_id = {}, None
    for name, value in payload.items():
        if text_fault(name) or (isinstance(value, str) and text_fault(value)):
            raise _payload_error(entity, gettext("the value of %(name)s holds a NUL character or a lone surrogate, "
                                                 "which cannot be stored.") % {"name": shown(name)})
        if name in ("@odata.type", "@odata.id", "@odata.etag"):
            continue
        if name == entity.primary_id:
            row_id = _uuid(value, entity)
            continue
        if name.endswith("@odata.bind"):
            lookup_name = name[: -len("@odata.bind")]
            lookup, fixed = entity.bind_names.get(lookup_name, (None, None))
            if lookup is None or not lookup.writable:
                raise errors.unknown_property(lookup_name, entity)
            for field_name in lookup.targets.values():
                values[f"{field_name}_id"] = None
            if value is None:
                continue
            target, (key_q, key, _parts) = reference(value)
            if target.entity_set not in lookup.targets or fixed not in (None, target.entity_set):
                raise _payload_error(entity, gettext("%(name)s cannot refer to %(entity_set)s.")
                                     % {"name": lookup_name, "entity_set": target.entity_set})
            if key is None:
                key = target.model.objects.filter(key_q).values_list("pk", flat=True).first()
                if key is None:
                    raise errors.does_not_exist(target, value)
            values[f"{lookup.targets[target.entity_set]}_id"] = key
            continue
        column = entity.columns.get(name)
        if column is None or not column.writable:
            if column is None and name not in entity.lookup_values:
                raise errors.unknown_property(name, entity)
            raise _payload_error(entity, gettext("%(name)s cannot be written.") % {"name": name})
        if isinstance(value, float) and column.kind == "Decimal":
            # The number as the JSON wrote it (10.61), not its binary float's expansion (10.6099999999999994…),
            # which a column of 4 or 10 decimal places refused
            value = Decimal(repr(value))
        try:
            values[column.field] = column.from_dataverse(value)
        except ValueError:
            raise _payload_error(entity, gettext("%(value)s is not a value of %(name)s.")
                                 % {"value": value, "name": name}) from None
        if values[column.field] is None and column.kind in ("String", "Picklist"):
            values[column.field] = ""  # Dataverse's null text is p2c's blank
    return values, row_id


def _validation_error(entity, instance, exc):
    messages = []
    for field_name, field_errors in exc.message_dict.items():
        messages.extend(f"{field_name}: {message}" for message in field_errors)
    return errors.bad_request(
        gettext("The %(entity)s %(record)s was not written: %(errors)s")
        % {"entity": entity.logical_name, "record": instance.pk, "errors": "; ".join(messages)}
    )


def _hand_edit_guard(instance):
    error = getattr(instance, "hand_edit_error", None)
    message = error and instance.pk and not instance._state.adding and error()
    if message:
        raise errors.DataverseError(403, errors.PRIVILEGE_DENIED, message)


def _integrity_error(entity, exc):
    return errors.DataverseError(
        412, errors.DUPLICATE,
        gettext("A record with matching key values already exists in %(entity)s, or a key it refers to is "
                "missing: %(error)s") % {"entity": entity.logical_name, "error": exc},
    )


class Outcome:
    def __init__(self, instance, created):
        self.instance = instance
        self.created = created


def _check_etag(entity, instance, if_match):
    if if_match and if_match != "*" and if_match != etag_of(instance.modifiedon):
        raise errors.DataverseError(
            412, errors.VERSION_MISMATCH,
            gettext("The version of the existing record doesn't match the RowVersion property provided."),
        )


def _save(entity, instance, values, *, in_bulk=False):
    """Set ``values`` on ``instance`` and validate it as the admin does (``full_clean``). Returns the attnames whose
    value changed (every one given, for a new row).

    ``in_bulk``: the checks that ask the database row by row (lookups exist, unique values are free) are left to
    `_bulk_checks`, which asks once for a whole request; and only what a row is given is validated again: of a
    stored row the values that change (a client sends whole rows, of which an update changes a few; the rest were
    valid when stored), of a new row the values given and the fields whose default is no value (blank not allowed).
    """
    model = entity.model
    stored = not instance._state.adding
    changed = set()
    for attname, value in values.items():
        if not (stored and getattr(instance, attname) == value):
            changed.add(attname)
        setattr(instance, attname, value)
    _hand_edit_guard(instance)
    exclude = None
    if in_bulk:
        validated = changed if stored else changed | _required_attnames(model)
        exclude = [f.name for f in model._meta.concrete_fields if f.is_relation or f.attname not in validated]
    try:
        instance.full_clean(exclude=exclude, validate_unique=not in_bulk, validate_constraints=not in_bulk)
    except ValidationError as exc:
        raise _validation_error(entity, instance, exc) from None
    return changed


@functools.cache
def _required_attnames(model):
    """The fields of ``model`` that a new row left without them would fail: no blank value, and no default."""
    return frozenset(f.attname for f in model._meta.concrete_fields
                     if not f.blank and not f.has_default() and not f.primary_key)


def _bulk_checks(entity, alias, instances):
    """What ``full_clean`` checks row by row, for every row of a bulk message at once: each lookup names an existing
    row, each unique value is neither taken by another row nor given twice. (The database's own constraints then
    refuse anything else, rolling the whole request back.)"""
    model = entity.model
    for field in model._meta.concrete_fields:
        if field.is_relation and field.name != model.MODIFIED_BY_FIELD:
            wanted = {getattr(i, field.attname) for i in instances} - {None}
            if wanted:
                found = set(field.related_model._base_manager.using(alias).filter(pk__in=wanted)
                            .values_list("pk", flat=True))
                if wanted - found:
                    missing = next(iter(wanted - found))
                    raise errors.bad_request(
                        gettext("%(field)s: %(entity)s %(key)s does not exist.")
                        % {"field": field.name, "entity": field.related_model._meta.model_name, "key": missing})
        elif field.unique and not field.primary_key:
            by_value = {}
            for instance in instances:
                value = getattr(instance, field.attname)
                if value not in (None, ""):
                    if value in by_value:
                        raise errors.DataverseError(412, errors.DUPLICATE, gettext(
                            "%(field)s %(value)s is given to two rows of the request.")
                            % {"field": field.name, "value": value})
                    by_value[value] = instance.pk
            if by_value:
                taken = model._base_manager.using(alias).filter(**{f"{field.attname}__in": list(by_value)}) \
                    .values_list(field.attname, "pk")
                for value, pk in taken:
                    if by_value[value] != pk:
                        raise errors.DataverseError(412, errors.DUPLICATE, gettext(
                            "A record with matching key values already exists: %(field)s %(value)s.")
                            % {"field": field.name, "value": value})


def write_row(entity, payload, *, key_q=None, key=None, alternate=None, if_match=None, if_none_match=None,
              create_only=False):
    """Create (POST: ``create_only``) or upsert (PATCH on a key) one row. ``if_match``: ``*`` (update only) or an
    ETag (update only, and only that version); ``if_none_match``: ``*`` (create only)."""
    values, body_id = values_from_payload(entity, payload)
    model = entity.model
    alias = database_for(model)
    try:
        with transaction.atomic(using=alias):
            existing = None
            if key_q is not None:
                existing = model.objects.using(alias).select_for_update().filter(key_q).first()
            elif body_id is not None:
                existing = model.objects.using(alias).filter(pk=body_id).first()
                if existing is not None:
                    raise errors.DataverseError(
                        412, errors.DUPLICATE,
                        gettext("A record with matching key values already exists: %(entity)s %(key)s.")
                        % {"entity": entity.logical_name, "key": body_id})
            if existing is not None:
                if if_none_match == "*" or create_only:
                    raise errors.DataverseError(412, errors.DUPLICATE,
                                                gettext("A record with matching key values already exists."))
                _check_etag(entity, existing, if_match)
                _save(entity, existing, values)
                existing.save()
                return Outcome(existing, created=False)
            if if_match:
                raise errors.does_not_exist(entity, key or ",".join(f"{k}={v}" for k, v in (alternate or {}).items()))
            instance = model(pk=key or body_id or model._meta.pk.default())
            for name, value in (alternate or {}).items():
                setattr(instance, entity.columns[name].field, value)
            _save(entity, instance, values)
            instance.save(force_insert=True)
            return Outcome(instance, created=True)
    except IntegrityError as exc:
        raise _integrity_error(entity, exc) from None


def delete_row(entity, key_q, key_text, if_match=None):
    model = entity.model
    alias = database_for(model)
    with transaction.atomic(using=alias):
        instance = model.objects.using(alias).select_for_update().filter(key_q).first()
        if instance is None:
            raise errors.does_not_exist(entity, key_text)
        _check_etag(entity, instance, if_match)
        _hand_edit_guard(instance)
        try:
            instance.delete()
        except IntegrityError as exc:
            raise _integrity_error(entity, exc) from None
        except Exception as exc:  # Django's ProtectedError / RestrictedError: rows still refer to it
            if type(exc).__name__ not in ("ProtectedError", "RestrictedError"):
                raise
            raise errors.DataverseError(
                400, errors.BAD_REQUEST,
                gettext("The %(entity)s %(key)s is referred to by other rows and cannot be deleted.")
                % {"entity": entity.logical_name, "key": key_text}) from None


MAX_TARGETS = 1000


def write_multiple(entity, targets, mode):
    """CreateMultiple, UpdateMultiple or UpsertMultiple (``mode``: create, update, upsert) of ``targets`` in one
    transaction. Returns [(id, created)] in the targets' order."""
    if not isinstance(targets, list) or not targets:
        raise errors.bad_request(gettext("Targets is a list of rows."))
    if len(targets) > MAX_TARGETS:
        raise errors.bad_request(gettext("At most %(max)s rows in one request.") % {"max": MAX_TARGETS})
    model = entity.model
    alias = database_for(model)
    prepared = []  # (values, id or None, key Q or None, alternate parts)
    for target in targets:
        if not isinstance(target, dict):
            raise _payload_error(entity, gettext("a row is a JSON object."))
        odata_type = target.get("@odata.type")
        if odata_type and odata_type.lstrip("#") != entity.type_name:
            raise _payload_error(entity, gettext("%(type)s is not %(expected)s.")
                                 % {"type": odata_type, "expected": entity.type_name})
        values, row_id = values_from_payload(entity, target)
        key_q, alternate = None, {}
        if target.get("@odata.id"):
            named, (key_q, key, alternate) = reference(target["@odata.id"])
            if named is not entity:
                raise _payload_error(entity, gettext("%(text)s is not a row of %(entity_set)s.")
                                     % {"text": target["@odata.id"], "entity_set": entity.entity_set})
            row_id = key or row_id
        if row_id is not None:
            key_q = Q(pk=row_id)
        elif not alternate:
            for columns in entity.keys.values():  # an alternate key given as the row's own columns
                fields = [entity.columns[name].field for name in columns]
                if mode != "create" and all(values.get(f) not in (None, "") for f in fields):
                    alternate = {name: values[entity.columns[name].field] for name in columns}
                    key_q = Q(**{f: values[f] for f in fields})
                    break
        if mode == "update" and key_q is None:
            raise _payload_error(entity, gettext("UpdateMultiple needs the key of every row."))
        prepared.append((values, row_id, key_q, alternate))
    try:
        with transaction.atomic(using=alias):
            existing = _existing_rows(entity, alias, prepared)
            to_create, to_update, results, update_fields = [], [], [], set()
            for values, row_id, key_q, alternate in prepared:
                found = existing.get(_lookup_key(entity, row_id, alternate)) if key_q is not None else None
                if found is not None and mode == "create":
                    raise errors.DataverseError(412, errors.DUPLICATE, gettext(
                        "A record with matching key values already exists: %(entity)s %(key)s.")
                        % {"entity": entity.logical_name, "key": found.pk})
                if found is None and mode == "update":
                    raise errors.does_not_exist(entity, row_id or alternate)
                if found is not None:
                    update_fields |= _save(entity, found, values, in_bulk=True)
                    to_update.append(found)
                    results.append((found.pk, False))
                    continue
                instance = model(pk=row_id or model._meta.pk.default())
                keyed = {entity.columns[name].field: value for name, value in alternate.items()}
                _save(entity, instance, {**keyed, **values}, in_bulk=True)
                to_create.append(instance)
                results.append((instance.pk, True))
            _bulk_checks(entity, alias, to_create + to_update)
            if to_create:
                model.objects.using(alias).bulk_insert(to_create)  # bulk_create's hooks, a faster INSERT
            if to_update:  # the values that changed (bulk_update adds the stamps: every row is written)
                model.objects.using(alias).bulk_update(to_update, _field_names(model, update_fields))
    except IntegrityError as exc:
        raise _integrity_error(entity, exc) from None
    return results


def _field_names(model, attnames):
    by_attname = {f.attname: f.name for f in model._meta.concrete_fields}
    return sorted({by_attname[a] for a in attnames})


def _lookup_key(entity, row_id, alternate):
    if row_id is not None:
        return ("pk", str(row_id))
    return tuple(sorted((name, str(value)) for name, value in alternate.items()))


def _existing_rows(entity, alias, prepared):
    """The rows the targets name, locked, by `_lookup_key`."""
    model = entity.model
    found = {}
    ids = [row_id for _v, row_id, key_q, _a in prepared if row_id is not None]
    for instance in model.objects.using(alias).select_for_update().filter(pk__in=ids):
        found[("pk", str(instance.pk))] = instance
    by_key = {}
    for _v, row_id, _q, alternate in prepared:
        if row_id is None and alternate:
            by_key.setdefault(tuple(sorted(alternate)), []).append(alternate)
    for names, alternates in by_key.items():
        if len(names) == 1:
            field_name = entity.columns[names[0]].field
            rows = model.objects.using(alias).select_for_update().filter(
                **{f"{field_name}__in": [a[names[0]] for a in alternates]})
        else:
            condition = Q()
            for alternate in alternates:
                condition |= Q(**{entity.columns[n].field: v for n, v in alternate.items()})
            rows = model.objects.using(alias).select_for_update().filter(condition)
        for instance in rows:
            key = tuple(sorted((n, str(getattr(instance, entity.columns[n].field))) for n in names))
            found[key] = instance
    return found


def entity_of_type(odata_type):
    name = (odata_type or "").lstrip("#").removeprefix("Microsoft.Dynamics.CRM.")
    return BY_LOGICAL.get(name)
