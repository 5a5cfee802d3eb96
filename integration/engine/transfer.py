"""Field values for the destination, computed for a whole chunk with a constant number of queries.

`ChunkTransfer` loads, once per chunk, what the field mappings need beyond the source rows themselves: the
couplings of related records (an ERP salesperson's Sales user), the natural keys of related records (a payment
terms code) and the records named by a value (an ERP payment terms record for a Sales option). Then
`values_for()` is pure Python per row.

Some references have a counterpart for *blank*, which the mapping of the referenced tables declares
(``MappingDefinition.blank_counterpart``, integration/mappings/): an ERP record with a blank currency is in the local
currency (LCY), which in Sales is the base currency, a real currency record no coupling names. A blank ERP currency
becomes the Sales base currency, and the Sales base currency becomes a blank ERP currency.
"""

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from django.core import validators
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy, gettext_noop

from integration import binder
from integration.catalogue.fields import TEXT, convert, decimal_fit, field_category, is_blank, natural_key_field
from integration.mappings import blank_counterpart_for
from integration.rules.base import RowError, Rules
from p2c.bulk_reads import pairs_read
from p2c.bulk_writes import attribute_values
from p2c.said import Capitalised, Joined, Lowered, Said, said, said_name
from p2c.text import plain_email

from .row_code import Names, attributes_read, function_compile
from .sides import side_for

_NO_BLANK_COUNTERPART = object()


def _blank_counterparts(plan):
    """(ERP model, Sales model) → the Sales id standing for a blank ERP reference, asked once per run as the run's
    mapping is: setup, not data (its queries in every chunk waited on a database busy writing the chunk before)."""
    return {}


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
        self._blank = {}  # rule index -> Sales id standing for a blank ERP reference (blank_counterpart_for)
        blanks = plan.per_run(_blank_counterparts)
        related_ids = {}  # rule index → the related ids of a relation
        lookups = []  # (the dict it fills, rule index, its query): all of them read at once below
        for index, rule in enumerate(plan.field_rules):
            if rule.kind == "relation":
                ids = related_ids[index] = set(attribute_values(rows, rule.source_attname)) - {None}
                pair = _related_pair(plan, rule)
                definition = blank_counterpart_for(pair["erp_model"], pair["crm_model"])
                if definition is not None:
                    key = (pair["erp_model"], pair["crm_model"])
                    if key not in blanks:
                        blanks[key] = definition.blank_counterpart(plan)
                    self._blank[index] = blanks[key]
                model, to = pair[f"{plan.source.key}_model"], pair[f"{plan.destination.key}_model"]
                if len(ids) > binder.CHUNK:  # more than one query
                    self._coupled[index] = binder.counterparts(model, ids, to=to)
                else:
                    lookups.append((self._coupled, index, binder.counterparts_query(model, ids, to=to)))
            elif rule.kind == "key_to_value":
                ids = set(attribute_values(rows, rule.source_attname)) - {None}
                related = rule.source_field.related_model
                key = natural_key_field(related)
                lookups.append((self._keys, index, side_for(related, key=plan.source.key).pairs_query("pk", key, ids)))
            elif rule.kind == "value_to_key":
                # each distinct value mapped once (a chunk's rows share a few options)
                values = {self._mapped(rule, raw) for raw in set(attribute_values(rows, rule.source_attname))}
                values = {v for v in values if not is_blank(v)}
                related = rule.dest_field.related_model
                key = natural_key_field(related)
                lookups.append((self._by_key, index,
                                side_for(related, key=plan.destination.key).pairs_query(key, "pk", values)))
        # One statement per database, where each lookup was a round trip of its own
        # (a side elsewhere answers its look-ups as lists at once: `Side.pairs_query`)
        read = iter(pairs_read([query for *_, query in lookups if not isinstance(query, list)]))
        for found, index, query in lookups:
            found[index] = dict(query if isinstance(query, list) else next(read))
        for index, ids in related_ids.items():
            # The uncoupled ones fail their rows with a message naming them: their keys in one query too. (Not the
            # Sales base currency: it stands for a blank ERP currency, no coupling names it, and no row fails.)
            missing = ids - set(self._coupled[index]) - {self._blank.get(index)}
            related = plan.field_rules[index].source_field.related_model
            key = natural_key_field(related)
            if missing and key:
                self._keys[index] = dict(side_for(related, key=plan.source.key).pairs_query("pk", key, missing))
        self.rules_context = plan.rules.prepare_chunk(rows, plan=plan)
        # The run's field rules as one function of a row (`values_maker`), given this chunk's lookups
        self.values_for = plan.per_run(values_maker)(self)

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

        return memoized(value_to_key)  # a chunk's rows share a few options

    def _missing_text(self, rule, mapped):
        dest = rule.dest_field
        # Translators: a field, then the table and value of the record it names, which the system (Sales or
        # ERP) does not have: "Payment Terms Code: Payment Terms '14D' does not exist in the ERP".
        return said(gettext_noop("%(field)s: %(model)s %(value)s does not exist in the %(system_name)s"),
                    field=said_name(dest.verbose_name), model=said_name(dest.related_model._meta.verbose_name),
                    value=repr(mapped), system_name=self.plan.destination.system_name)

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
        # As what it means (p2c.said): the tables' names told in the reader's language.
        values = {"model": said_name(related._meta.verbose_name), "record": str(label or related_id),
                  "counterpart": Lowered(said_name(rule.dest_field.related_model._meta.verbose_name))}
        if self.plan.destination.key == "crm":
            # Translators: e.g. "Salesperson/Purchaser SP02 is not coupled to a Sales user" (a table's name, a record
            # of it, then the name of the Sales table it has no counterpart in).
            return said(gettext_noop("%(model)s %(record)s is not coupled to a Sales %(counterpart)s"), **values)
        # Translators: e.g. "User Nancy is not coupled to an ERP salesperson/purchaser" (a table's name, a record of
        # it, then the name of the ERP table it has no counterpart in).
        return said(gettext_noop("%(model)s %(record)s is not coupled to an ERP %(counterpart)s"), **values)


def field_error_text(field, exc):
    """A field's validation error as a row's error names it: ``Email: Enter a valid email address.``."""
    # Translators: a field's name, then what is wrong with its value.
    return said(gettext_noop("%(field)s: %(error)s"), field=said_name(field.verbose_name),
                error=Joined(tuple(validation_said(error) for error in exc.error_list), " "))


OTHER_PLACEHOLDER = re.compile(r"%\(\w+\)[^sd]")


def validation_said(error):
    """One of a ValidationError's messages as what it means (p2c.said): Django's own messages (``Enter a valid
    email address.``) are lazy translations of a msgid (or of a singular and a plural), told then in the reader's
    language; any other as its text."""
    message, params = error.message, error.params or {}
    args, kw = getattr(message, "_args", None), getattr(message, "_kw", None) or {}
    if not isinstance(params, dict):
        return " ".join(error.messages)
    # the refused value, unless the message names it; a lazy name (a table's, a field's) told in the reader's language
    msgids = "".join(part for part in (*(args or ()), kw.get("singular"), kw.get("plural")) if isinstance(part, str))
    params = {name: _param_said(value) for name, value in params.items()
              if name != "value" or "%(value)" in msgids}
    if args and len(args) == 1 and isinstance(args[0], str) and not OTHER_PLACEHOLDER.search(args[0]):
        return said(args[0], **params)
    singular, plural = kw.get("singular"), kw.get("plural")
    if isinstance(singular, str) and isinstance(plural, str) and not OTHER_PLACEHOLDER.search(singular + plural):
        # ngettext_lazy keeps the name of the count that chooses the plural to itself: Django's validators name it
        # limit_value (lengths) or max (digits).
        counter = next((name for name in ("limit_value", "max", *params) if isinstance(params.get(name), int)), None)
        if counter is not None:
            return Said.of(singular, plural, counter=counter, **params)
    return " ".join(error.messages)


def _param_said(value):
    """A ValidationError's parameter as `validation_said` keeps it: a lazy translation as a `said_name`, a `Said`
    (or `Joined`…) and a number as they are, anything else as its text."""
    if isinstance(value, (Said, Joined, Lowered, Capitalised, int, float)):
        return value
    return said_name(value) if getattr(value, "_args", None) else str(value)


def record_error_text(record, error):
    """A row's error naming its record: ``Customer C00010 (Adatum): Email: Enter a valid email address.``, as what
    it means (p2c.said: the job's error row is told in the reader's language); ``error`` a `Said` or a text."""
    # Translators: a record (e.g. "Customer C00010 (Adatum Corporation)"), then what went wrong with it.
    return said(gettext_noop("%(record)s: %(error)s"), record=record, error=error)


def not_allowed_error(value):
    """A value that is none of a field's options, lazy with its parameter (`validation_said` keeps its meaning)."""
    return ValidationError(gettext_lazy("%(value)s is not one of the allowed values."), params={"value": repr(value)})


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

        text_value.plain_text = True  # written out in place by `values_maker`
        return text_value

    @memoized  # an option's code, an amount: the same few values over and over
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
                return True, ""  # docs/features.md I5: no matching Sales option leaves the option blank
            raise not_allowed_error(value)
        value = value if text and type(value) is str else convert(value, dest)
        if quantum is None or value is None:
            return True, value
        return True, decimal_fit(value, dest, quantum)

    return value_of


MEMO_SIZE = 4096  # values `memoized` keeps per function: options, amounts; not every name of a million rows


def memoized(value_of):
    """``value_of(raw) -> (write?, value)``, a pure function of its raw value, answering a value it answered before
    from memory (at most `MEMO_SIZE` of them). Only values that tell their answer apart exactly are kept: text,
    integers and booleans by type and value (1 and True are equal, and write "1" and "True" into text), amounts by
    their text, which tells their digits, exponent and sign apart (1.0 and 1.00, 0 and -0 are equal amounts, written
    differently; ``as_tuple`` tells the same, at three times the cost: it makes a named tuple); others, and a raw
    value it refuses (RowError, ValidationError, its message each time), are worked out each time."""
    memo = {}

    def value(raw):
        kind = type(raw)
        if kind is str:
            key = raw
        elif kind in _MEMO_BY_VALUE:
            key = (kind, raw)
        elif kind is Decimal:
            key = (kind, str(raw))
        else:
            return value_of(raw)
        answer = memo.get(key, _UNKNOWN)
        if answer is _UNKNOWN:
            answer = value_of(raw)
            if len(memo) < MEMO_SIZE:
                memo[key] = answer
        return answer

    return value


_MEMO_BY_VALUE = frozenset({int, bool, type(None)})
_UNKNOWN = object()


_PLAIN_TEXT_VALIDATORS = (validators.MaxLengthValidator, validators.ProhibitNullCharactersValidator)

def _check(dest):
    """``dest.clean``; for a text field (with options of plain text, or none) whose only validators are its length
    and NUL checks (and, for an email field, Django's email validator), a `TextCheck`, and for a decimal field whose
    only validator is its digits', a `DecimalCheck`: the values that pass are told apart in plain Python and only the
    others go through ``clean`` (its messages)."""
    clean = dest.clean
    if (type(dest) is models.DecimalField and not dest.choices and dest.decimal_places is not None
            and dest.max_digits is not None and [type(v) for v in dest.validators] == [validators.DecimalValidator]):
        return DecimalCheck(clean=clean, max_digits=dest.max_digits, decimal_places=dest.decimal_places)
    extra = [v for v in dest.validators if type(v) not in _PLAIN_TEXT_VALIDATORS]
    email = type(dest) is models.EmailField and extra == [validators.validate_email]
    # A text field with choices of plain text (its options): a value among them, of the field's length, passes.
    options = None
    if dest.choices:
        options = frozenset(choice for choice, _ in dest.flatchoices)
        if not all(type(choice) is str for choice in options):
            return clean
    if (field_category(dest) != TEXT or (extra and not email)
            or type(dest).to_python not in (models.CharField.to_python, models.TextField.to_python)
            or type(dest).validate is not models.Field.validate):
        return clean
    return TextCheck(clean=clean, max_length=dest.max_length, blank=dest.blank, email=email, options=options)


@dataclass(frozen=True)
class TextCheck:
    """`_check` of a plain text field: what a value must be to pass without ``clean`` (text, not blank unless the
    field allows it, at most ``max_length`` long, no NUL, a `plain_email` if ``email``, one of ``options`` if any);
    the other values go through ``clean``, which passes them or says why not."""

    clean: object
    max_length: int | None
    blank: bool
    email: bool
    options: frozenset | None

    def __call__(self, value, destination):
        if not self.passes(value):
            self.clean(value, destination)

    def passes(self, value):
        return (type(value) is str and (value or self.blank)
                and (self.max_length is None or len(value) <= self.max_length) and "\x00" not in value
                and (not self.email or not value or plain_email(value))
                and (self.options is None or not value or value in self.options))

    def condition(self, name, names):
        """`passes` as a Python expression of the value named ``name``, for generated code (``names``: its
        `row_code.Names`)."""
        terms = [f"type({name}) is str"] + ([] if self.blank else [name])
        if self.max_length is not None:
            terms.append(f"len({name}) <= {self.max_length}")
        terms.append(f"'\\x00' not in {name}")
        if self.email:
            terms.append(f"(not {name} or plain_email({name}))")
        if self.options is not None:
            terms.append(f"(not {name} or {name} in {names.name(self.options, 'options')})")
        return " and ".join(terms)


@dataclass(frozen=True)
class DecimalCheck:
    """`_check` of a decimal field whose only validator is its digits' (Django's DecimalValidator): an amount with
    exactly the field's decimal places (as `decimal_fit` rounds the field mappings' and the rules' amounts) and less
    than ``10 ** (max_digits - decimal_places)`` passes without ``clean``; other values go through ``clean``."""

    clean: object
    max_digits: int
    decimal_places: int

    def __call__(self, value, destination):
        if not self.passes(value):
            self.clean(value, destination)

    @cached_property
    def bound(self):
        return Decimal(10) ** (self.max_digits - self.decimal_places)

    @cached_property
    def quantum(self):
        """An amount of exactly the field's decimal places: another amount has them when ``same_quantum`` says so (an
        exponent compared, where ``as_tuple().exponent`` makes a named tuple first: five times the cost)."""
        return Decimal(1).scaleb(-self.decimal_places)

    def passes(self, value):
        return (type(value) is Decimal and value.is_finite() and value.same_quantum(self.quantum)
                and -self.bound < value < self.bound)

    def condition(self, name, names):
        """`passes` as a Python expression of the value named ``name`` (`TextCheck.condition`)."""
        bound, quantum = names.name(self.bound, "bound"), names.name(self.quantum, "quantum")
        return (f"type({name}) is Decimal and {name}.is_finite() and {name}.same_quantum({quantum}) "
                f"and -{bound} < {name} < {bound}")


def values_maker(plan):
    """The run's field rules written out as one function, once per run: ``make(transfer)`` gives, for a chunk's
    `ChunkTransfer`, ``values_for(source, destination)``: the destination's attname → value for the source row
    ``source`` (``destination`` None for a new record), or RowError naming the record and every bad field.

    What a loop over the rules would do for each row, each rule unrolled in its turn: its source value read, looked
    up, converted, validated and kept, with the common forms written out in place (text as it is, a plain text
    field's checks) and the others calling their compiled step (`CompiledRule.value`, `_reference_value`); then
    the rules module's ``transfer`` and the rounding of amounts the rules set."""
    names = Names()
    compiled = plan.per_run(rules_compile)
    code = _ValuesCode(plan, names)
    for step in compiled:
        code.step(step)
    code.finish()
    lines = code.lines()
    namespace = {**names.namespace, "ValidationError": ValidationError, "RowError": RowError, "Decimal": Decimal,
                 "convert": convert, "decimal_fit": decimal_fit, "plain_email": plain_email,
                 "field_error_text": field_error_text, "record_error_text": record_error_text, "Joined": Joined}
    return function_compile("make", lines, namespace)


def _overrides(obj, name, base):
    """Whether ``obj`` (an instance) has its own ``name``, other than ``base``'s."""
    return name in vars(obj) or getattr(type(obj), name) is not getattr(base, name)


class _ValuesCode:
    """The source of `values_maker`'s function, written one rule at a time."""

    def __init__(self, plan, names):
        self.plan, self.names = plan, names
        self.chunk = []  # lines of make(): this chunk's lookups, bound to names
        self.body = []  # lines of values_for()
        # Every source attname the rules read, read together from the row's dict
        self.source_names = list(dict.fromkeys(step.source_attname for step in plan.per_run(rules_compile)
                                               if step.source_attname is not None))

    def name(self, value, hint="v"):
        return self.names.name(value, hint)

    def line(self, depth, text):
        self.body.append("    " * depth + text)

    def step(self, step):
        rule, depth = step.rule, 2
        self.line(depth, f"# {step.index}: {step.source_attname or 'constant'} -> {step.dest_attname} ({rule.kind})")
        if step.create_only:
            self.line(depth, "if destination is None:")
            depth += 1
        raw = "None" if step.source_attname is None else f"r{self.source_names.index(step.source_attname)}"
        if step.keyed:
            keys = f"keys{step.index}"
            self.chunk.append(f"    {keys} = transfer._keys[{step.index}]")
            self.line(depth, f"raw = {raw} if {raw} is None else {keys}.get({raw})")
            raw = "raw"
        dest = self.name(rule.dest_field, "field")
        inline_text = getattr(step.value, "plain_text", False)
        if inline_text:  # text to text, as it is: no RowError, always written
            self.line(depth, "try:")
            self.line(depth + 1, f"value = {raw} if type({raw}) is str else convert({raw}, {dest})")
        else:
            if step.value is not None:
                value_of = self.name(step.value, "value_of")
            else:  # a reference: made per chunk over its lookups
                value_of = f"reference{step.index}"
                self.chunk.append(f"    {value_of} = transfer._reference_value({step.index}, "
                                  f"{self.name(rule, 'rule')})")
            self.line(depth, "try:")
            self.line(depth + 1, f"write, value = {value_of}({raw})")
            self.line(depth, "except RowError as exc:")
            if step.clear_on_failure:
                self.line(depth + 1, "write, value = True, None")
            else:
                self.line(depth + 1, "errors.append(exc.message)")
                self.line(depth + 1, "write = False")
        self.line(depth, "except ValidationError as exc:")
        self.line(depth + 1, f"errors.append(field_error_text({dest}, exc))")
        if not inline_text:
            self.line(depth + 1, "write = False")
            self.line(depth, "if write:")
        else:
            self.line(depth, "else:")
        depth += 1
        if step.not_null:
            self.line(depth, 'if value is not None and value != "":')
            depth += 1
        keep = f"values[{step.dest_attname!r}] = value"
        check = step.check
        if check is None:
            self.line(depth, keep)
            return
        if isinstance(check, (TextCheck, DecimalCheck)):
            self.line(depth, f"if {check.condition('value', self.names)}:")
            self.line(depth + 1, keep)
            self.line(depth, "else:")
            depth += 1
            check = check.clean
        self.line(depth, "try:")
        self.line(depth + 1, f"{self.name(check, 'check')}(value, destination)")
        self.line(depth, "except ValidationError as exc:")
        self.line(depth + 1, f"errors.append(field_error_text({dest}, exc))")
        self.line(depth, "else:")
        self.line(depth + 1, keep)

    def finish(self):
        plan = self.plan
        if _overrides(plan.rules, "transfer", Rules):
            self.line(2, "try:")
            self.line(3, f"{self.name(plan.rules.transfer, 'transfer')}(source, destination, values, "
                         f"plan={self.name(plan, 'plan')}, context=context)")
            self.line(2, "except RowError as exc:")
            self.line(3, "errors.append(exc.message)")
        for name, (field, quantum) in plan.decimal_fields.items():
            # An amount the rules set is rounded as the field mappings' are (theirs are already).
            self.line(2, f"value = values.get({name!r})")
            self.line(2, f"if type(value) is Decimal and not value.same_quantum({self.name(quantum, 'quantum')}):")
            self.line(3, "try:")
            self.line(4, f"values[{name!r}] = decimal_fit(value, {self.name(field, 'field')}, "
                         f"{self.name(quantum, 'quantum')})")
            self.line(3, "except ValidationError as exc:")
            self.line(4, f"errors.append(field_error_text({self.name(field, 'field')}, exc))")
        self.line(2, "if errors:")
        self.line(3, f"raise RowError(record_error_text({self.name(plan.record_said, 'label')}(source), "
                     f"Joined(tuple(errors), '; ')))")
        self.line(2, "return values")

    def lines(self):
        head = ["def make(transfer):", "    context = transfer.rules_context", *self.chunk,
                "", "    def values_for(source, destination):", "        values, errors = {}, []"]
        if self.source_names:
            head += attributes_read(self.names, "source", self.source_names, "r", indent=2)
        return [*head, *self.body, "", "    return values_for"]
