"""FilterSets: exact and range lookups, foreign keys by natural key, and what an external system polls with.

``lookups_for(model)`` derives a model's filters from its field types (``field_lookups`` states the rule): a table's
FilterSet is declared with ``fields = lookups_for(model, text=…)``, the free-text fields that still deserve an exact
filter (a city, a post code, a document number) named by hand.

``modified_after`` / ``modified_before`` read the record's modified timestamp (``modifiedon`` in Sales,
``modified_at`` in the ERP); ``coupled=true|false`` keeps the records that have (or have not) a coupling in the
integration (``integration.Coupling``: the Sales side by ``crm_model``/``crm_id``, the ERP side by
``erp_model``/``erp_id``).
"""

import datetime

from django import forms
from django.apps import apps
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError

from p2c.databases import same_database
from p2c.utils import any_of

from .keys import natural_key

# Lookups a numeric, date or time field gets: exact and the two ends of a range.
RANGE = ["exact", "gte", "lte"]
# A foreign key: the related record's natural key, or whether there is one.
RELATION = ["exact", "isnull"]
EXACT = ["exact"]
RANGE_FIELDS = (models.DateField, models.TimeField, models.IntegerField, models.DecimalField, models.FloatField)
EXACT_FIELDS = (models.BooleanField, models.EmailField, models.URLField, models.UUIDField)


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, turned into UTC: PostgreSQL takes no UTC offset beyond 15:59, Python up to 23:59."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(datetime.UTC)
        except OverflowError as exc:
            raise forms.ValidationError(
                gettext("Enter a date-time within the supported range."), code="invalid"
            ) from exc


class UtcIsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


def records_filter_coupled(*, queryset, coupled):
    """``queryset`` narrowed to the records that have a coupling (``coupled=True``) or have none."""
    try:
        coupling_model = apps.get_model("integration", "Coupling")
    except LookupError as exc:
        raise ValidationError(
            {"coupled": [gettext("Needs the integration's couplings, which are not installed.")]}
        ) from exc
    label = queryset.model._meta.label
    side = "crm" if queryset.model._meta.app_label == "crm" else "erp"
    if not same_database(coupling_model, queryset.model):  # Sales in its own database: the keys, read now
        ids = list(coupling_model.objects.filter(**{f"{side}_model": label}).values_list(f"{side}_id", flat=True))
        return queryset.filter(any_of("pk", ids)) if coupled else queryset.exclude(any_of("pk", ids))
    couplings = coupling_model.objects.filter(**{f"{side}_model": label, f"{side}_id": OuterRef("pk")})
    return queryset.filter(Exists(couplings)) if coupled else queryset.exclude(Exists(couplings))


class StrictBooleanField(forms.Field):
    """``true`` or ``false``, as the schema says (django-filter's own takes any other value as "no filter")."""

    VALUES = {"true": True, "false": False}

    def to_python(self, value):
        if value is None:
            return None
        if value not in self.VALUES:
            raise forms.ValidationError(gettext("Enter true or false."), code="invalid")
        return self.VALUES[value]

    def validate(self, value):
        pass


class StrictBooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class IntegerFilter(filters.NumberFilter):
    """A whole number, as the schema says (django-filter's NumberFilter takes ``1.5`` or ``-2e-308`` for one)."""

    field_class = forms.IntegerField


def integer_bounds(field):
    """The range of an integer column on every database p2c runs on (PostgreSQL's: Django's portable ranges),
    narrowed by the field's own validators: the filter refuses what is outside, and the schema states it."""
    low, high = BaseDatabaseOperations.integer_field_ranges.get(field.get_internal_type(), (None, None))
    for validator in field._validators:
        if isinstance(validator, MinValueValidator) and not callable(validator.limit_value):
            low = validator.limit_value if low is None else max(low, validator.limit_value)
        if isinstance(validator, MaxValueValidator) and not callable(validator.limit_value):
            high = validator.limit_value if high is None else min(high, validator.limit_value)
    return {"min_value": low, "max_value": high}


INTEGER_FIELDS = (models.SmallIntegerField, models.IntegerField, models.BigIntegerField, models.PositiveIntegerField,
                  models.PositiveSmallIntegerField, models.PositiveBigIntegerField, models.AutoField,
                  models.BigAutoField, models.SmallAutoField)


class StrictFilterSet(filters.FilterSet):
    """Query values the schema does not allow are a 400: booleans (and ``__isnull``) are ``true`` or ``false``,
    date-times are turned into UTC and refused out of range, whole numbers are whole and within their column's
    range."""

    FILTER_DEFAULTS = {
        **filters.FilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": StrictBooleanFilter},
        models.DateTimeField: {"filter_class": UtcIsoDateTimeFilter},
        **{field: {"filter_class": IntegerFilter, "extra": integer_bounds} for field in INTEGER_FIELDS},
    }


class StrictFilterBackend(DjangoFilterBackend):
    """The filter backend; a view's ``filterset_fields`` get a `StrictFilterSet`."""

    filterset_base = StrictFilterSet


class ApiFilterSet(StrictFilterSet):
    """A foreign key in ``Meta.fields`` filters by the related record's natural key (``?salesperson=PS-01``)."""

    @classmethod
    def filter_for_field(cls, field, field_name, lookup_expr=None):
        if field.many_to_one and lookup_expr in (None, "exact"):
            key = natural_key(field.related_model)
            key_field = field.related_model._meta.get_field(key)
            filter_class, params = cls.filter_for_lookup(key_field, "exact")
            return filter_class(
                field_name=f"{field_name}__{key}",
                lookup_expr="exact",
                label=f"{field.verbose_name} ({key})",
                **params,
            )
        return super().filter_for_field(field, field_name, lookup_expr)


class RecordFilterSet(ApiFilterSet):
    """For synchronised records: what changed in a time window, and whether the integration couples them."""

    modified_after = UtcIsoDateTimeFilter(
        method="filter_modified_after", label=_("Modified at or after (ISO 8601 date-time)")
    )
    modified_before = UtcIsoDateTimeFilter(
        method="filter_modified_before", label=_("Modified before (ISO 8601 date-time)")
    )
    coupled = StrictBooleanFilter(method="filter_coupled", label=_("Coupled by the integration"))

    def filter_modified_after(self, queryset, name, value):
        return queryset.filter(**{f"{queryset.model.MODIFIED_FIELD}__gte": value})

    def filter_modified_before(self, queryset, name, value):
        return queryset.filter(**{f"{queryset.model.MODIFIED_FIELD}__lt": value})

    def filter_coupled(self, queryset, name, value):
        return records_filter_coupled(queryset=queryset, coupled=value)


def field_lookups(field, *, text=()):
    """The lookups the type rule gives ``field``, or None when it gets no filter.

    Foreign keys: exact (by natural key) and isnull; dates, times and numbers: exact and a range; booleans, choices,
    e-mail addresses, URLs and UUIDs: exact; text: exact when the field is unique or indexed (a number, a code, a
    search name) or named in ``text``, else none (addresses, phone numbers, descriptions, long text). No filter for
    the primary key, one-to-one links, or the modified timestamp (``modified_after``/``modified_before`` read it).
    """
    model = field.model
    if field.primary_key or field.name == getattr(model, "MODIFIED_FIELD", None):
        return None
    if field.many_to_one:
        return RELATION
    if field.is_relation:
        return None
    if field.choices or isinstance(field, EXACT_FIELDS):
        return EXACT
    if isinstance(field, RANGE_FIELDS):
        return RANGE
    if isinstance(field, models.CharField) and (field.unique or indexed(field) or field.name in text):
        return EXACT
    return None


def indexed(field):
    """Whether an index of the whole table leads with ``field``: ``db_index``, or one of ``Meta.indexes``."""
    return field.db_index or any(
        index.fields and index.fields[0] == field.name and index.condition is None
        for index in field.model._meta.indexes
    )


def lookups_for(model, *, text=(), exclude=()):
    """``Meta.fields`` of a FilterSet of ``model``: each concrete field with its lookups (see ``field_lookups``).

    ``text`` names the unindexed text fields that get an exact filter; ``exclude`` drops fields the rule would keep.
    """
    unknown = {*text, *exclude} - {field.name for field in model._meta.concrete_fields}
    if unknown:
        raise ValueError(
            gettext("%(model_label)s has no field %(sorted)s")
            % {"model_label": model._meta.label, "sorted": ", ".join(sorted(unknown))}
        )
    fields = {}
    for field in model._meta.concrete_fields:
        lookups = field_lookups(field, text=text)
        if lookups and field.name not in exclude:
            fields[field.name] = lookups
    return fields

