"""Writes as Dataverse takes them, through the Sales models' own rules.

Each write is one function here; the views only translate HTTP into their arguments and their outcome into HTTP.
A row is validated as the admin validates it (the model's ``full_clean``: fields, choices, uniqueness, constraints),
saved by the model (numbers, derived fields, ``modifiedon``, the deletion log, the ``records_written`` signal the
near-real-time synchronisation listens to), with the caller's Sales user as ``modifiedby`` (`p2c.records.writing_as`).
The bulk messages validate every row the same way, then write them with ``bulk_create``/``bulk_update`` (the same
hooks) in one transaction: all or nothing, as Dataverse's CreateMultiple, UpdateMultiple and UpsertMultiple.
"""

import datetime
import decimal
import functools
import re
import uuid

from django.core import validators
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.db.models.expressions import DatabaseDefault
from django.utils.translation import gettext

from crm.models import SystemUser
from p2c.bulk_reads import rows_read
from p2c.databases import database_for
from p2c.records import acting_writer_id, instance_maker, instances_from_rows
from p2c.text import plain_email, shown, text_fault
from p2c.utils import any_of

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
    key, parts = key_parts(entity, text)
    if key is not None:
        return Q(pk=key), key, {}
    return Q(**{entity.columns[name].field: value for name, value in parts.items()}), None, parts


def key_parts(entity, text):
    """`key_filter` without its ``Q``: (the GUID, {}) or (None, {alternate key column: value})."""
    text = text.strip()
    if "=" not in text:
        return _uuid(text, entity), {}
    parts, position = {}, 0
    while position < len(text):
        match = _KEY_PART.match(text, position)
        if not match or match.end() == position:
            raise errors.bad_request(gettext("The key %(text)s is not valid.") % {"text": text})
        position = match.end()
        value = match.group(2).strip()
        parts[match.group(1)] = value[1:-1].replace("''", "'") if value.startswith("'") else value
    if list(parts) == [entity.primary_id]:
        return _uuid(parts[entity.primary_id], entity), {}
    if sorted(parts) not in [sorted(columns) for columns in entity.keys.values()]:
        raise errors.bad_request(
            gettext("%(names)s is not a key of %(entity)s.") % {"names": ",".join(parts), "entity": entity.logical_name})
    return None, parts


def reference(text):
    """The entity and key filter of ``/contacts(<id>)`` (an ``@odata.bind`` or ``@odata.id``)."""
    return _reference(str(text))


@functools.lru_cache(maxsize=4096)  # the rows of a bulk message bind the same few owners and currencies
def _reference(text):
    entity, key_text = _referenced(text)
    return entity, key_filter(entity, key_text)


def _referenced(text):
    """The entity ``text`` names and the text of its key."""
    match = _REFERENCE.match(str(text).strip())
    entity = match and BY_SET.get(match.group(1))
    if entity is None:
        raise errors.bad_request(gettext("%(text)s does not name a row of this service.") % {"text": text})
    return entity, match.group(2)


def _reference_parts(text):
    """`reference` without its ``Q`` and cache (a bulk message's ``@odata.id`` names each row once): the entity,
    the GUID or None, {alternate key column: value}."""
    entity, key_text = _referenced(text)
    return (entity, *key_parts(entity, key_text))


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
    steps = _payload_steps(entity)
    for name, value in payload.items():
        step = steps.get(name)
        if step is None:
            _name_refused(entity, name, value)
        if isinstance(value, str) and text_fault(value):
            raise _fault_error(entity, name)
        kind, what = step
        if kind is _COLUMN:
            if value.__class__ is float and what.kind == "Decimal":
                # The number as the JSON wrote it (10.61), not its binary float's expansion (10.6099999999999994…),
                # which a column of 4 or 10 decimal places refused
                value = decimal.Decimal(repr(value))
            try:
                value = what.from_dataverse(value)
            except ValueError:
                raise _payload_error(entity, gettext("%(value)s is not a value of %(name)s.")
                                     % {"value": value, "name": name}) from None
            if value is None and what.kind in ("String", "Picklist"):
                value = ""  # Dataverse's null text is p2c's blank
            values[what.field] = value
        elif kind is _BIND:
            lookup, fixed = what
            lookup_name = name[: -len("@odata.bind")]
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
        elif kind is _ID:
            row_id = _uuid(value, entity)
    return values, row_id


_ANNOTATION, _ID, _BIND, _COLUMN = "annotation", "id", "bind", "column"
_STEPS = {}  # entity's logical name → `_payload_steps`


def _payload_steps(entity):
    """What each name a row of ``entity`` may be written with stands for: {name: (kind, column or (lookup, fixed
    target))}. A name not among them is refused (`_name_refused`)."""
    steps = _STEPS.get(entity.logical_name)
    if steps is None:
        steps = dict.fromkeys(("@odata.type", "@odata.id", "@odata.etag"), (_ANNOTATION, None))
        steps[entity.primary_id] = (_ID, None)
        steps.update((f"{name}@odata.bind", (_BIND, (lookup, fixed)))
                     for name, (lookup, fixed) in entity.bind_names.items() if lookup.writable)
        steps.update((name, (_COLUMN, column)) for name, column in entity.columns.items() if column.writable)
        _STEPS[entity.logical_name] = steps
    return steps


def _fault_error(entity, name):
    return _payload_error(entity, gettext("the value of %(name)s holds a NUL character or a lone surrogate, which "
                                          "cannot be stored.") % {"name": shown(name)})


def _name_refused(entity, name, value):
    """The error of a name `_payload_steps` does not hold: its text, else what it names."""
    if text_fault(name) or (isinstance(value, str) and text_fault(value)):
        raise _fault_error(entity, name)
    if name.endswith("@odata.bind"):
        raise errors.unknown_property(name[: -len("@odata.bind")], entity)
    if name not in entity.columns and name not in entity.lookup_values:
        raise errors.unknown_property(name, entity)
    raise _payload_error(entity, gettext("%(name)s cannot be written.") % {"name": name})


def _validation_error(entity, instance, exc):
    messages = []
    for field_name, field_errors in exc.message_dict.items():
        messages.extend(f"{field_name}: {message}" for message in field_errors)
    return errors.bad_request(
        gettext("The %(entity)s %(record)s was not written: %(errors)s")
        % {"entity": entity.logical_name, "record": instance.pk, "errors": "; ".join(messages)}
    )


def _hand_edit_guard(instance, integration_user_writing=None):
    """Refuse a person's change to a row the ERP integration keeps (an integration-managed price list's lines):
    the integration's own application user, which keeps them, writes them as it does on one database.
    ``integration_user_writing``: `_integration_user_writing`, answered once for a bulk message's rows."""
    error = getattr(instance, "hand_edit_error", None)
    message = error and instance.pk and not instance._state.adding and error()
    if message and not (integration_user_writing or _integration_user_writing)():
        raise errors.DataverseError(403, errors.PRIVILEGE_DENIED, message)


def _integration_user_writing():
    """Whether the Sales user this request writes as has the integration access mode (asked only for a kept row)."""
    writer = acting_writer_id()
    return writer is not None and SystemUser.objects.filter(
        pk=writer, access_mode=SystemUser.AccessMode.INTEGRATION).exists()


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


def _save(entity, instance, values):
    """Set ``values`` on ``instance`` and validate it as the admin does (``full_clean``)."""
    for attname, value in values.items():
        setattr(instance, attname, value)
    _hand_edit_guard(instance)
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise _validation_error(entity, instance, exc) from None


@functools.cache
def _required_attnames(model):
    """The fields of ``model`` that a new row left without them would fail: no blank value, and no default."""
    return frozenset(f.attname for f in model._meta.concrete_fields
                     if not f.blank and not f.has_default() and not f.primary_key)


_PLAIN_TEXT_VALIDATORS = frozenset({validators.MaxLengthValidator, validators.ProhibitNullCharactersValidator})
_TEXT_FIELDS = (models.CharField, models.TextField, models.EmailField)


class _RowChecks:
    """``full_clean`` of the rows of one bulk message, as `_save` runs it for one row, with the work that repeats
    from row to row done once: only what a row is given is validated (of a stored row the values that change: a
    client sends whole rows, of which an update changes a few, and the rest were valid when stored; of a new row
    the values given and the fields whose default is no value); the checks that ask the database row by row
    (lookups exist, unique values are free) are left to `_bulk_checks`, which asks once for the whole message.

    A field's ``clean`` looks at the value alone: its outcome is kept per value (the same city, choice or amount
    on every row is checked once), and a plain text field's value that passes in plain Python (text, short enough,
    no NUL, a plain email address: `p2c.text.plain_email`) does not go through it. The errors of a row are
    ``full_clean``'s: every field that fails, in the model's order, then the model's own ``clean``."""

    def __init__(self, entity):
        self.entity = entity
        self.integration_user_writing = functools.cache(_integration_user_writing)  # one query a message, if any
        model = entity.model
        self.required = _required_attnames(model)
        position = {f.attname: index for index, f in enumerate(model._meta.fields)}
        self.fields = {f.attname: (position[f.attname], f, _plain_text(f)) for f in model._meta.fields
                       if not f.is_relation and not f.generated}
        self.model_clean = model.clean is not models.Model.clean
        self.ordered = {}  # attnames validated → their fields in the model's order
        self.cleaned = {}  # (attname, type, value) → the value cleaned

    def stored(self, instance, values):
        """Set ``values`` on a stored row and validate what changes; returns the attnames whose value changed."""
        attrs = instance.__dict__
        changed = [attname for attname, value in values.items() if attrs.get(attname, _UNSET) != value]
        for attname, value in values.items():
            setattr(instance, attname, value)
        _hand_edit_guard(instance, self.integration_user_writing)
        self.validate(instance, frozenset(changed))
        return changed

    def new(self, instance, attnames):
        """Validate a new row made with the values of ``attnames``."""
        self.validate(instance, self.required.union(attnames))

    def validate(self, instance, attnames):
        fields = self.ordered.get(attnames)
        if fields is None:
            fields = self.ordered[attnames] = [entry[1:] for entry in sorted(
                self.fields[name] for name in attnames if name in self.fields)]
        attrs, cleaned, errors = instance.__dict__, self.cleaned, None
        for field, plain in fields:
            attname = field.attname
            raw = attrs[attname]
            if plain is not None and type(raw) is str and plain(raw):
                continue
            if (field.blank and raw in field.empty_values) or isinstance(raw, DatabaseDefault):
                continue
            key = _value_key(attname, raw)
            if key is not None and key in cleaned:
                attrs[attname] = cleaned[key]
                continue
            try:
                value = field.clean(raw, instance)
            except ValidationError as exc:
                errors = errors or {}
                errors[field.name] = exc.error_list
                continue
            attrs[attname] = value
            if key is not None:
                cleaned[key] = value
        if self.model_clean:
            try:
                instance.clean()
            except ValidationError as exc:
                errors = exc.update_error_dict(errors or {})
        if errors:
            raise _validation_error(self.entity, instance, ValidationError(errors))


_UNSET = object()
_SAME_WHEN_EQUAL = (str, int, bool, type(None))  # types whose equal values are the same value


def _value_key(attname, value):
    """What identifies ``value`` for a field's ``clean``, or None for a value not kept (a list, a mapping)."""
    kind = type(value)
    if kind in _SAME_WHEN_EQUAL:
        return attname, kind, value
    if kind in (decimal.Decimal, float, datetime.date, datetime.datetime, datetime.time, uuid.UUID):
        return attname, kind, str(value)  # 1.0 and 1.00 are equal, and not the same amount to a DecimalField
    return None


def _plain_text(field):
    """For a text field whose ``clean`` checks only length, NUL and perhaps the email form: a function telling in
    plain Python a value it passes (None: any other field). A value it does not pass goes through ``clean``."""
    if type(field) not in _TEXT_FIELDS or field.choices or type(field).validate is not models.Field.validate:
        return None
    email = type(field) is models.EmailField
    others = [v for v in field.validators if type(v) not in _PLAIN_TEXT_VALIDATORS]
    if others != ([validators.validate_email] if email else []):
        return None
    longest, blank = field.max_length or float("inf"), field.blank

    def passes(value):
        return ((value or blank) and len(value) <= longest and "\x00" not in value
                and (not email or not value or plain_email(value)))

    return passes


def _bulk_checks(entity, alias, instances, held):
    """What ``full_clean`` checks row by row, for every row of a bulk message at once: each lookup names an existing
    row, each unique value is neither taken by another row nor given twice. (The database's own constraints then
    refuse anything else, rolling the whole request back.) ``held``: {attname: {value: pk or None}}, the unique
    values whose row the request already read (`_existing_rows`), not asked again."""
    model = entity.model
    for field in model._meta.concrete_fields:
        if field.is_relation and field.name != model.MODIFIED_BY_FIELD:
            wanted = {getattr(i, field.attname) for i in instances} - {None}
            if wanted:
                found = set(field.related_model._base_manager.using(alias).filter(any_of("pk", wanted))
                            .order_by().values_list("pk", flat=True))
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
            known = held.get(field.attname, {})
            unknown = [value for value, pk in by_value.items() if known.get(value, _UNSET) not in (None, pk)]
            if unknown:
                taken = model._base_manager.using(alias).filter(any_of(field.attname, unknown)).order_by() \
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
    transaction. Returns [(id, created)] in the targets' order. A target with ``@odata.etag`` is written only if the
    row holds that version (as the SDK's ``ConcurrencyBehavior.IfRowVersionMatches``): else 412, nothing written."""
    if not isinstance(targets, list) or not targets:
        raise errors.bad_request(gettext("Targets is a list of rows."))
    if len(targets) > MAX_TARGETS:
        raise errors.bad_request(gettext("At most %(max)s rows in one request.") % {"max": MAX_TARGETS})
    model = entity.model
    alias = database_for(model)
    prepared = []  # (values, id or None, whether the row names a key, alternate parts, the ETag given)
    for target in targets:
        if not isinstance(target, dict):
            raise _payload_error(entity, gettext("a row is a JSON object."))
        odata_type = target.get("@odata.type")
        if odata_type and odata_type.lstrip("#") != entity.type_name:
            raise _payload_error(entity, gettext("%(type)s is not %(expected)s.")
                                 % {"type": odata_type, "expected": entity.type_name})
        values, row_id = values_from_payload(entity, target)
        keyed, alternate = row_id is not None, {}
        if target.get("@odata.id"):
            named, key, alternate = _reference_parts(target["@odata.id"])
            if named is not entity:
                raise _payload_error(entity, gettext("%(text)s is not a row of %(entity_set)s.")
                                     % {"text": target["@odata.id"], "entity_set": entity.entity_set})
            row_id, keyed = key or row_id, True
        if not keyed and mode != "create":
            for columns in entity.keys.values():  # an alternate key given as the row's own columns
                if all(values.get(entity.columns[name].field) not in (None, "") for name in columns):
                    alternate = {name: values[entity.columns[name].field] for name in columns}
                    keyed = True
                    break
        if mode == "update" and not keyed:
            raise _payload_error(entity, gettext("UpdateMultiple needs the key of every row."))
        prepared.append((values, row_id, keyed, alternate, target.get("@odata.etag")))
    checks = _RowChecks(entity)
    make = instance_maker(model)
    pk = model._meta.pk
    try:
        with transaction.atomic(using=alias):
            existing, held = _existing_rows(entity, alias, prepared)
            to_create, to_update, results, update_fields = [], [], [], set()
            for values, row_id, keyed, alternate, etag in prepared:
                found = existing.get(_lookup_key(row_id, alternate)) if keyed else None
                if found is not None and mode == "create":
                    raise errors.DataverseError(412, errors.DUPLICATE, gettext(
                        "A record with matching key values already exists: %(entity)s %(key)s.")
                        % {"entity": entity.logical_name, "key": found.pk})
                if found is None and mode == "update":
                    raise errors.does_not_exist(entity, row_id or alternate)
                if found is not None:
                    _check_etag(entity, found, etag)  # a row changed since the client read it: the whole message
                    update_fields.update(checks.stored(found, values))
                    to_update.append(found)
                    results.append((found.pk, False))
                    continue
                given = {entity.columns[name].field: value for name, value in alternate.items()}
                given.update(values)
                instance = make({pk.attname: row_id or pk.default(), **given})
                checks.new(instance, given.keys())
                to_create.append(instance)
                results.append((instance.pk, True))
            _bulk_checks(entity, alias, to_create + to_update, held)
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


def _lookup_key(row_id, alternate):
    if row_id is not None:
        return row_id
    return tuple(sorted((name, str(value)) for name, value in alternate.items()))


def _existing_rows(entity, alias, prepared):
    """The rows the targets name, locked, by `_lookup_key`: one query for the ids, one per kind of alternate key,
    each taking its keys as one array (`p2c.utils.any_of`), read as value tuples (`p2c.records.instances_from_rows`:
    the instances Django would make, at a third of the cost). And which rows hold the unique values read, as
    `_bulk_checks` takes them: each found row's, and None for an alternate key's value no row holds."""
    model = entity.model
    attnames = [f.attname for f in model._meta.concrete_fields]
    rows = model.objects.using(alias).select_for_update().order_by()

    def read(condition):
        return instances_from_rows(model, alias, attnames, rows_read(rows.filter(condition).values_list(*attnames)))

    found, read_all = {}, []
    ids = [row_id for _v, row_id, _keyed, _a, _etag in prepared if row_id is not None]
    if ids:
        read_all = read(any_of("pk", ids))
        found.update((instance.pk, instance) for instance in read_all)
    by_key = {}
    for _v, row_id, _keyed, alternate, _etag in prepared:
        if row_id is None and alternate:
            by_key.setdefault(tuple(sorted(alternate)), []).append(alternate)
    unique = [f.attname for f in model._meta.concrete_fields if f.unique and not f.primary_key and not f.is_relation]
    held = {attname: {} for attname in unique}
    for names, alternates in by_key.items():
        if len(names) == 1:
            attname = entity.columns[names[0]].field
            values = [a[names[0]] for a in alternates]
            condition = any_of(attname, values)
            if attname in held:
                held[attname].update((v, None) for v in values if type(v) is str)  # no row holds them, unless read
        else:
            condition = Q()
            for alternate in alternates:
                condition |= Q(**{entity.columns[n].field: v for n, v in alternate.items()})
        instances = read(condition)
        read_all += instances
        for instance in instances:
            key = tuple(sorted((n, str(getattr(instance, entity.columns[n].field))) for n in names))
            found[key] = instance
    for attname in unique:
        values = held[attname]
        for instance in read_all:
            value = getattr(instance, attname)
            if value not in (None, ""):
                values[value] = instance.pk
    return found, held


def entity_of_type(odata_type):
    name = (odata_type or "").lstrip("#").removeprefix("Microsoft.Dynamics.CRM.")
    return BY_LOGICAL.get(name)
