"""Field values for the destination, computed for a whole chunk with a constant number of queries.

`ChunkTransfer` loads, once per chunk, what the field mappings need beyond the source rows themselves: the
couplings of related records (an ERP salesperson's Sales user), the natural keys of related records (a payment
terms code) and the records named by a value (an ERP payment terms record for a Sales option). Then
`values_for()` is pure Python per row.

Some references have a counterpart for *blank* (`BLANK_COUNTERPARTS`): an ERP record with a blank currency is in
the local currency (LCY), which in Sales is the base currency, a real currency record no coupling names. A blank
ERP currency becomes the Sales base currency, and the Sales base currency becomes a blank ERP currency.
"""

import re
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter

from django.core import validators
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext

from integration import binder
from integration.catalogue.fields import TEXT, convert, decimal_fit, field_category, is_blank, natural_key_field
from integration.rules import currency
from integration.rules.base import RowError
from p2c.bulk_reads import pairs_read


def _sales_base_currency_id():
    return currency.sales_base_currency_id()


# (ERP model, Sales model) of a reference → the function returning the Sales id that stands for a blank ERP value.
BLANK_COUNTERPARTS = {
    ("erp.Currency", "crm.TransactionCurrency"): _sales_base_currency_id,
}
_NO_BLANK_COUNTERPART = object()
_UNREAD = object()


def _blank_counterparts(plan):
    """(ERP model, Sales model) → the Sales id standing for a blank ERP reference, asked once per run as the run's
    mapping is: setup, not data (its queries in every chunk waited on a database busy writing the chunk before)."""
    return {}


def _decimal_exponents(plan):
    """(attname, field, quantum, the quantum's exponent) of each decimal field of the destination, once per run."""
    return [(name, field, quantum, quantum.as_tuple().exponent)
            for name, (field, quantum) in plan.decimal_fields.items()]

TRANSFORMATIONS = {
    "upper": str.upper,
    "lower": str.lower,
    "title": str.title,
    "trim": str.strip,
}


class ChunkTransfer:
    def __init__(self, plan, rows):
        self.plan = plan
        self._coupled = {}  # rule index -> {source related id: destination related id}
        self._keys = {}  # rule index -> {related id: natural key} (key_to_value; uncoupled relations' labels)
        self._by_key = {}  # rule index -> {natural key: related id}
        self._blank = {}  # rule index -> Sales id standing for a blank ERP reference (BLANK_COUNTERPARTS)
        blanks = plan.per_run(_blank_counterparts)
        related_ids = {}  # rule index → the related ids of a relation
        lookups = []  # (the dict it fills, rule index, its query): all of them read at once below
        for index, rule in enumerate(plan.field_rules):
            if rule.kind == "relation":
                ids = related_ids[index] = set(map(attrgetter(rule.source_attname), rows)) - {None}
                pair = _related_pair(plan, rule)
                lookup = BLANK_COUNTERPARTS.get((pair["erp_model"], pair["crm_model"]))
                if lookup is not None:
                    key = (pair["erp_model"], pair["crm_model"])
                    if key not in blanks:
                        blanks[key] = lookup()
                    self._blank[index] = blanks[key]
                model, to = pair[f"{plan.source.key}_model"], pair[f"{plan.destination.key}_model"]
                if len(ids) > binder.CHUNK:  # more than one query
                    self._coupled[index] = binder.counterparts(model, ids, to=to)
                else:
                    lookups.append((self._coupled, index, binder.counterparts_query(model, ids, to=to)))
            elif rule.kind == "key_to_value":
                ids = set(map(attrgetter(rule.source_attname), rows)) - {None}
                related = rule.source_field.related_model
                key = natural_key_field(related)
                lookups.append((self._keys, index, related.objects.filter(pk__in=ids).values_list("pk", key)))
            elif rule.kind == "value_to_key":
                # each distinct value mapped once (a chunk's rows share a few options)
                values = {self._mapped(rule, raw) for raw in set(map(attrgetter(rule.source_attname), rows))}
                values = {v for v in values if not is_blank(v)}
                related = rule.dest_field.related_model
                key = natural_key_field(related)
                lookups.append((self._by_key, index,
                                related.objects.filter(**{f"{key}__in": values}).values_list(key, "pk")))
        # One statement per database, where each lookup was a round trip of its own
        for (found, index, _), pairs in zip(lookups, pairs_read([query for *_, query in lookups]), strict=True):
            found[index] = dict(pairs)
        for index, ids in related_ids.items():
            # The uncoupled ones fail their rows with a message naming them: their keys in one query too. (Not the
            # Sales base currency: it stands for a blank ERP currency, no coupling names it, and no row fails.)
            missing = ids - set(self._coupled[index]) - {self._blank.get(index)}
            related = plan.field_rules[index].source_field.related_model
            key = natural_key_field(related)
            if missing and key:
                self._keys[index] = dict(related.objects.filter(pk__in=missing).values_list("pk", key))
        self.rules_context = plan.rules.prepare_chunk(rows, plan=plan)
        self.compiled = plan.per_run(rules_compile)
        # References and values naming a record: ``value(raw)`` over this chunk's lookups
        chunk_values = {index: self._reference_value(index, rule) for index, rule in enumerate(plan.field_rules)
                        if rule.kind in ("relation", "value_to_key")}
        # Each rule's steps as a plain tuple, unpacked per row (reading a dataclass's attributes cost more)
        self._steps = [(c.create_only, c.source_attname, c.value or chunk_values[c.index], c.index if c.keyed else None,
                        c.clear_on_failure, c.not_null, c.check, c.dest_attname, c.rule) for c in self.compiled]
        self._decimals = plan.per_run(_decimal_exponents)

    def values_for(self, source, destination):
        """Destination attname → value for ``source``; raises RowError naming the record and every bad field."""
        values, errors = {}, []
        keys = self._keys
        read = source.__dict__  # the attributes as loaded (a foreign key's attname through its descriptor costs more)
        for create_only, source_attname, value_of, keyed, clear_on_failure, not_null, check, dest_attname, rule in (
                self._steps):
            if create_only and destination is not None:
                continue
            try:
                # compiled once per run (`rules_compile`: constants, plain values, keys to values) or per chunk
                if source_attname is None:
                    raw = None
                else:
                    raw = read.get(source_attname, _UNREAD)
                    if raw is _UNREAD:  # deferred: its descriptor loads it
                        raw = getattr(source, source_attname)
                if keyed is not None and raw is not None:
                    raw = keys[keyed].get(raw)
                write, value = value_of(raw)
            except RowError as exc:
                if not clear_on_failure:
                    errors.append(str(exc))
                    continue
                write, value = True, None
            except ValidationError as exc:
                errors.append(field_error_text(rule.dest_field, exc))
                continue
            if not write or (not_null and is_blank(value)):
                continue
            if check is not None:
                try:
                    check(value, destination)
                except ValidationError as exc:
                    errors.append(field_error_text(rule.dest_field, exc))
                    continue
            values[dest_attname] = value
        try:
            self.plan.rules.transfer(source, destination, values, plan=self.plan, context=self.rules_context)
        except RowError as exc:
            errors.append(str(exc))
        for name, dest_field, quantum, exponent in self._decimals:
            # An amount the rules set is rounded as the field mappings' are (theirs are already).
            value = values.get(name)
            if type(value) is Decimal and value.as_tuple().exponent != exponent:
                try:
                    values[name] = decimal_fit(value, dest_field, quantum)
                except ValidationError as exc:
                    errors.append(field_error_text(dest_field, exc))
        if errors:
            raise RowError(record_error_text(self.plan.record_label(source), "; ".join(errors)))
        return values

    def _reference_value(self, index, rule):
        """``value(raw) -> (write?, value)`` of a reference (relation) or of a value naming a record (value_to_key),
        over this chunk's lookups: with what they look up per row looked up once per chunk."""
        if rule.kind == "relation":
            blank = self._blank.get(index, _NO_BLANK_COUNTERPART)
            coupled = self._coupled[index]
            erp_source = self.plan.source.key == "erp"

            def relation(raw):
                if blank is not _NO_BLANK_COUNTERPART:
                    if erp_source and raw is None:
                        return True, blank  # the local currency is the Sales base currency
                    if not erp_source and raw is not None and raw == blank:
                        return True, None  # the Sales base currency is the local currency: blank in the ERP
                if raw is None:
                    return True, None
                found = coupled.get(raw)
                if found is None:
                    raise RowError(self._not_coupled_message(index, rule, raw))
                return True, found

            return relation
        by_key = self._by_key[index]

        def value_to_key(raw):
            mapped = self._mapped(rule, raw)
            if is_blank(mapped):
                return True, None
            if rule.value_map and str(raw) not in rule.value_map:
                return False, None  # no option mapping for this value: the destination keeps its own
            related_id = by_key.get(mapped)
            if related_id is None:
                raise RowError(self._missing_text(rule, mapped))
            return True, related_id

        return value_to_key

    def _missing_text(self, rule, mapped):
        dest = rule.dest_field
        # Translators: a field, then the table and value of the record it names, which the system (Sales or
        # ERP) does not have: "Payment Terms Code: Payment Terms '14D' does not exist in the ERP".
        return gettext("%(field)s: %(model)s %(value)s does not exist in the %(system_name)s") % {
            "field": dest.verbose_name, "model": dest.related_model._meta.verbose_name, "value": repr(mapped),
            "system_name": self.plan.destination.system_name}

    @staticmethod
    def _fit(rule, value):
        """A decimal rounded half-up to the destination's places (5000.0000 in Sales is 5000.00 in the ERP)."""
        if rule.quantum is None or value is None:
            return value
        return decimal_fit(value, rule.dest_field, rule.quantum)

    def _mapped(self, rule, raw):
        value = raw
        transform = TRANSFORMATIONS.get(rule.mapping.transformation)
        if transform and isinstance(value, str):
            value = transform(value)
        if is_blank(value) and rule.mapping.default_value:
            value = rule.mapping.default_value
        if rule.value_map and not is_blank(value):
            value = rule.value_map.get(str(value), value)
        return value

    def _not_coupled_message(self, index, rule, related_id):
        related = rule.source_field.related_model
        label = self._keys.get(index, {}).get(related_id)
        values = {"model": capfirst(related._meta.verbose_name), "record": label or related_id,
                  "counterpart": str(rule.dest_field.related_model._meta.verbose_name).lower()}
        if self.plan.destination.key == "crm":
            # Translators: e.g. "Salesperson/Purchaser SP02 is not coupled to a Sales user" (a table's name, a record
            # of it, then the name of the Sales table it has no counterpart in).
            return gettext("%(model)s %(record)s is not coupled to a Sales %(counterpart)s") % values
        # Translators: e.g. "User Nancy is not coupled to an ERP salesperson/purchaser" (a table's name, a record of
        # it, then the name of the ERP table it has no counterpart in).
        return gettext("%(model)s %(record)s is not coupled to an ERP %(counterpart)s") % values


def field_error_text(field, exc):
    """A field's validation error as a row's error names it: ``Email: Enter a valid email address.``."""
    # Translators: a field's name, then what is wrong with its value.
    return gettext("%(field)s: %(error)s") % {"field": field.verbose_name, "error": " ".join(exc.messages)}


def record_error_text(record, error):
    """A row's error naming its record: ``Customer C00010 (Adatum): Email: Enter a valid email address.``."""
    # Translators: a record (e.g. "Customer C00010 (Adatum Corporation)"), then what went wrong with it.
    return gettext("%(record)s: %(error)s") % {"record": record, "error": error}


def not_allowed_text(value):
    return gettext("%(value)s is not one of the allowed values.") % {"value": repr(value)}


def _related_pair(plan, rule):
    source_related = rule.source_field.related_model._meta.label
    dest_related = rule.dest_field.related_model._meta.label
    if plan.source.key == "erp":
        return {"erp_model": source_related, "crm_model": dest_related}
    return {"erp_model": dest_related, "crm_model": source_related}


@dataclass(frozen=True)
class CompiledRule:
    """One field rule made ready for the rows of a run: its flags read once, and for constants, plain values and
    keys to values a function ``value(raw) -> (write?, value)`` (None: references, made per chunk by
    `ChunkTransfer._reference_value`); ``check`` validates a value (`Field.clean`), with a shortcut for plain text
    that cannot fail."""

    index: int
    rule: object
    dest_attname: str
    source_attname: str | None
    create_only: bool
    clear_on_failure: bool
    not_null: bool
    keyed: bool  # key_to_value: the raw value is the related record's natural key
    value: object
    check: object


def rules_compile(plan):
    """The run's field rules compiled once (`CompiledRule`), in their order."""
    compiled = []
    for index, rule in enumerate(plan.field_rules):
        fm = rule.mapping
        value = None
        if rule.kind == "constant":
            value = _constant_value(rule)
        elif rule.kind in ("value", "key_to_value"):
            value = _plain_value(rule, plan)
        check = None
        if fm.validate_field and rule.kind not in ("relation", "value_to_key"):
            check = _check(rule.dest_field)
        if check is not None and rule.kind == "constant" and _constant_valid(value, check):
            check = None  # the same value for every row: checked once
        compiled.append(CompiledRule(
            index=index, rule=rule, dest_attname=rule.dest_attname,
            source_attname=None if rule.kind == "constant" else rule.source_attname, create_only=fm.create_only,
            clear_on_failure=fm.clear_value_on_failed_sync, not_null=fm.not_null, keyed=rule.kind == "key_to_value",
            value=value, check=check,
        ))
    return compiled


def _constant_value(rule):
    """A constant is converted (and rounded) once; a constant that does not convert fails every row the same way."""
    try:
        value = ChunkTransfer._fit(rule, convert(rule.mapping.constant_value, rule.dest_field))
    except ValidationError as exc:
        messages = exc.messages

        def invalid(raw):
            raise ValidationError(messages)

        return invalid
    return lambda raw: (True, value)


def _constant_valid(value_of, check):
    """Whether a constant's value passes ``check`` (a field's ``clean`` does not look at the record it goes to)."""
    try:
        _write, value = value_of(None)
        check(value, None)
    except ValidationError:
        return False
    return True


def _plain_value(rule, plan):
    """The value of a plain field (after the key lookup of a key_to_value) as a function of its raw value, with what
    it looks up per row (transformation, default, value map, allowed choices, field category) looked up once."""
    dest = rule.dest_field
    transform = TRANSFORMATIONS.get(rule.mapping.transformation)
    default = rule.mapping.default_value
    value_map = rule.value_map
    allowed = {str(choice) for choice, _ in dest.flatchoices} if dest.choices else None
    blank_option = plan.destination.key == "crm"
    text = field_category(dest) == TEXT
    quantum = rule.quantum

    if text and not (transform or default or value_map or allowed is not None):
        def text_value(raw):  # the most common rule: text to text, as it is
            return True, raw if type(raw) is str else convert(raw, dest)

        return text_value

    def value_of(raw):
        value = raw
        if transform and isinstance(value, str):
            value = transform(value)
        if default and is_blank(value):
            value = default
        if value_map and not is_blank(value):
            value = value_map.get(str(value), value)
        if allowed is not None and not is_blank(value) and str(value) not in allowed:
            if blank_option:
                return True, ""  # SPEC I5: no matching Sales option leaves the option blank
            raise ValidationError(not_allowed_text(value))
        value = value if text and type(value) is str else convert(value, dest)
        if quantum is None or value is None:
            return True, value
        return True, decimal_fit(value, dest, quantum)

    return value_of


_PLAIN_TEXT_VALIDATORS = (validators.MaxLengthValidator, validators.ProhibitNullCharactersValidator)

# Addresses Django's EmailValidator accepts, in a narrower form that one regular expression tells in a microsecond
# (plain dot-atom user, ASCII host labels, a letters-only top-level domain, at most 320 characters in all); a test
# holds `plain_email` to that.
PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
    r"\.[A-Za-z]{2,63}"
)


def plain_email(value):
    """Whether ``value`` is an email address of the plain form `PLAIN_EMAIL` (then Django's validator accepts it)."""
    return len(value) <= 320 and PLAIN_EMAIL.fullmatch(value) is not None


def _check(dest):
    """``dest.clean``; for a text field (with options of plain text, or none) whose only validators are its length
    and NUL checks (and, for an email field, Django's email validator), the values that pass are told apart in plain
    Python and only the others go through ``clean`` (its messages)."""
    clean = dest.clean
    extra = [v for v in dest.validators if type(v) not in _PLAIN_TEXT_VALIDATORS]
    email = type(dest) is models.EmailField and extra == [validators.validate_email]
    # A text field with choices of plain text (its options): a value among them, of the field's length, passes.
    options = None
    if dest.choices:
        options = {choice for choice, _ in dest.flatchoices}
        if not all(type(choice) is str for choice in options):
            return clean
    if (field_category(dest) != TEXT or (extra and not email)
            or type(dest).to_python not in (models.CharField.to_python, models.TextField.to_python)
            or type(dest).validate is not models.Field.validate):
        return clean
    max_length, blank = dest.max_length, dest.blank

    def check(value, destination):
        if (type(value) is str and (value or blank) and (max_length is None or len(value) <= max_length)
                and "\x00" not in value and (not email or not value or plain_email(value))
                and (options is None or not value or value in options)):
            return
        clean(value, destination)

    return check
