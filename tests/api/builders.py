"""Minimal records of any Sales or ERP model, for walking every endpoint.

Fills the required fields of a model (and its required foreign keys, recursively) with unique values, so the
tests keep working when a model gains a field. Independent of ``tests/factories.py`` on purpose: these tests
need one valid row per model, nothing realistic.
"""

import itertools
import uuid
from datetime import date
from decimal import Decimal

from django.db import models
from django.utils import timezone

from p2c.records import Singleton

_counter = itertools.count(1)


def _value(field):
    n = next(_counter)
    if field.choices:
        return field.choices[0][0] if field.choices[0][0] != "" or field.blank else field.choices[1][0]
    if isinstance(field, models.EmailField):
        return f"x{n}@example.com"
    if isinstance(field, models.URLField):
        return f"https://example.com/{n}"
    if isinstance(field, models.CharField | models.TextField):
        return f"T{n}"[: field.max_length or 20]
    if isinstance(field, models.DecimalField):
        return Decimal(1)
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, models.IntegerField):
        return n
    if isinstance(field, models.DateTimeField):
        return timezone.now()
    if isinstance(field, models.DateField):
        return date(2026, 1, 1)
    if isinstance(field, models.UUIDField):
        return uuid.uuid4()
    raise NotImplementedError(f"{field!r}")


def make(model, **values):
    """Create and return one ``model`` record with ``values`` and every other required field filled."""
    if issubclass(model, Singleton):
        return model.get_solo()
    for field in model._meta.concrete_fields:
        if field.primary_key or field.name in values or field.attname in values:
            continue
        if field.many_to_one:
            if not field.null:
                values[field.name] = make(field.related_model)
            continue
        required = not field.null and not field.blank and not field.has_default() and field.editable
        unique_key = (field.unique or field.name == "no") and isinstance(field, models.CharField) and field.editable
        if required or unique_key:
            value = _value(field)
            if value is not None:
                values[field.name] = value
    return model.objects.create(**values)
