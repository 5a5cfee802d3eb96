"""What the engine needs to know about model fields: kinds, natural keys, conversions."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils.translation import gettext

# Tried in this order; the first unique, concrete field a model has is its natural key.
NATURAL_KEY_CANDIDATES = (
    "no", "code", "iso_currency_code", "account_number", "contact_number", "product_number", "number", "name",
)

TEXT, NUMBER, BOOLEAN, DATE, DATETIME, UUID, RELATION = (
    "text",
    "number",
    "boolean",
    "date",
    "datetime",
    "uuid",
    "relation",
)


BOOLEAN_TEXT = {"true": True, "yes": True, "false": False, "no": False}


def get_field(model, name):
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if not field.concrete or field.many_to_many:
        return None
    return field


def field_category(field):
    if field.is_relation:
        return RELATION
    if isinstance(field, models.BooleanField):
        return BOOLEAN
    if isinstance(field, models.DateTimeField):
        return DATETIME
    if isinstance(field, models.DateField):
        return DATE
    if isinstance(field, models.UUIDField):
        return UUID
    if isinstance(field, (models.IntegerField, models.DecimalField, models.FloatField)):
        return NUMBER
    return TEXT


def categories_convert(source, destination):
    """Whether a value of category ``source`` can be written into a field of category ``destination``."""
    if source == destination:
        return True
    if TEXT in (source, destination):
        return {source, destination} <= {TEXT, NUMBER, DATE, DATETIME, UUID}
    return {source, destination} == {DATE, DATETIME}


def natural_key_field(model):
    for name in NATURAL_KEY_CANDIDATES:
        field = get_field(model, name)
        if field is not None and field.unique:
            return name
    return None


def is_blank(value):
    return value is None or value == ""


def convert(value, field):
    """Convert ``value`` for ``field`` (of the destination model), raising ValidationError with a clear text."""
    if value is None:
        return "" if _is_text(field) and not field.null else None
    category = field_category(field)
    try:
        if category == TEXT:
            return value if isinstance(value, str) else _text(value)
        if category == NUMBER and isinstance(field, models.DecimalField):
            return Decimal(str(value)) if value != "" else (None if field.null else Decimal(0))
        if category == NUMBER and value == "":
            return None if field.null else 0
        if category == BOOLEAN and isinstance(value, str) and value.strip().lower() in BOOLEAN_TEXT:
            # Django's BooleanField.to_python takes "True"/"t"/"1" but not "true": constants are written lower case.
            return BOOLEAN_TEXT[value.strip().lower()]
        return field.to_python(value)
    except (ValidationError, InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationError(
            gettext("%(value)s is not a valid value for %(verbose_name)s.")
            % {"value": repr(value), "verbose_name": field.verbose_name}
        ) from exc


def decimal_fit(value, field, quantum):
    """``value`` rounded half-up to the decimal places of ``field`` (whose quantum is ``quantum``, e.g. 0.01), as
    Business Central rounds an amount to its destination; ValidationError naming the value when it is not a
    finite number or has more digits before the decimal point than the field holds."""
    if not isinstance(value, Decimal):
        return value
    if not value.is_finite():
        raise ValidationError(gettext("%(value)s is not a number.") % {"value": value})
    integer_digits = field.max_digits - field.decimal_places if field.max_digits is not None else None
    if integer_digits is not None and abs(value) >= Decimal(10) ** integer_digits - quantum / 2:
        raise ValidationError(
            gettext(
                "%(value)s is too large: at most %(integer_digits)s digits before the decimal point (%(max_digits)s "
                "digits, %(decimal_places)s decimals)."
            )
            % {
                "value": format(value, "f"),
                "integer_digits": integer_digits,
                "max_digits": field.max_digits,
                "decimal_places": field.decimal_places,
            }
        )
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def _is_text(field):
    return field_category(field) == TEXT


def _text(value):
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    return str(value)
