"""Serializers parse and present; they never hold business logic (that lives in the models and services).

Every foreign key is read and written by the related record's natural key (``"salesperson": "PS-01"`` on the
ERP side, a UUID on the Sales side), so other systems never need our integer ids.
"""

import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.relations import PKOnlyObject
from rest_framework.validators import UniqueTogetherValidator, UniqueValidator

from p2c.extensions import SERIALIZER_MIXIN, class_extended

from .keys import natural_key


class StrictText:
    """Text only, as the schema says (``type: string``): DRF would take 0 for "0". Its length is checked as sent,
    as the schema's ``maxLength`` counts it, before DRF trims the white space around it."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        max_length = getattr(self, "max_length", None)
        if max_length is not None and len(data) > max_length:
            self.fail("max_length", max_length=max_length)
        return super().to_internal_value(data)


class StrictCharField(StrictText, serializers.CharField):
    pass


class StrictEmailField(StrictText, serializers.EmailField):
    pass


class StrictURLField(StrictText, serializers.URLField):
    pass


class StrictSlugField(StrictText, serializers.SlugField):
    pass


@extend_schema_field({"oneOf": [{"type": "string", "minLength": 1}, {"type": "integer"}]})
class KeyTextField(serializers.CharField):
    """A record's key, as text or a whole number (an ERP primary key is one): the schema says both."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose text fields take text only."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.EmailField: StrictEmailField,
        models.URLField: StrictURLField,
        models.SlugField: StrictSlugField,
    }


def related_id(attrs, instance, name):
    """The primary key a foreign key ``name`` will hold: from the validated ``attrs``, else from ``instance``."""
    if name in attrs:
        return None if attrs[name] is None else attrs[name].pk
    return getattr(instance, f"{name}_id", None)


class KeyRelatedField(serializers.SlugRelatedField):
    """A foreign key given as the related record's natural key.

    During a bulk upsert the related records of the whole batch are loaded in one query per field and handed
    over in ``context["related_cache"][field_name]`` (normalised key -> instance), so validating 1,000 records
    costs no further query.
    """

    default_error_messages = {
        **serializers.SlugRelatedField.default_error_messages,
        "invalid": "{value} is not a valid {slug_name}.",
    }

    def __init__(self, related_model=None, **kwargs):
        self.related_model = related_model
        super().__init__(**kwargs)

    def use_pk_only_optimization(self):
        model = self.related_model or self.get_queryset().model
        return self.slug_field == model._meta.pk.name

    def to_representation(self, obj):
        value = obj.pk if isinstance(obj, PKOnlyObject) else getattr(obj, self.slug_field)
        return str(value) if isinstance(value, uuid.UUID) else value

    def normalize(self, data):
        """The key as the related model field stores it; raises a field error for malformed input."""
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid", value=repr(data), slug_name=self.slug_field)
        model_field = self.get_queryset().model._meta.get_field(self.slug_field)
        try:
            value = model_field.to_python(data)
        except (DjangoValidationError, TypeError, ValueError):
            self.fail("invalid", value=repr(data), slug_name=self.slug_field)
        if isinstance(value, str) and "\x00" in value:
            self.fail("invalid", value=repr(data), slug_name=self.slug_field)
        return value

    def to_internal_value(self, data):
        value = self.normalize(data)
        cache = self.context.get("related_cache", {}).get(self.field_name)
        if cache is not None:
            try:
                return cache[value]
            except KeyError:
                self.fail("does_not_exist", slug_name=self.slug_field, value=str(data))
        try:
            return self.get_queryset().get(**{self.slug_field: value})
        except self.get_queryset().model.DoesNotExist:
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data))


class RecordSerializer(StrictModelSerializer):
    """Every model field, foreign keys by natural key; fields the system fills are read-only."""

    serializer_related_field = KeyRelatedField
    serializer_related_to_field = KeyRelatedField

    class Meta:
        fields = "__all__"
        # Filled by the system on every model that has them (editable=False fields are read-only anyway).
        read_only_fields = ("id", "no_series")

    def __new__(cls, *args, **kwargs):
        # Each one made is of its class with the serializer mixins the apps above register for its model then
        # (p2c.extensions). Said here, not in the docstring: that is the schema's description of every record.
        model = getattr(cls.Meta, "model", None)
        extended = cls if model is None else class_extended(cls, kind=SERIALIZER_MIXIN, key=model)
        return super().__new__(extended, *args, **kwargs)

    def build_relational_field(self, field_name, relation_info):
        field_class, kwargs = super().build_relational_field(field_name, relation_info)
        if relation_info.reverse or relation_info.to_many:
            return field_class, kwargs
        kwargs["slug_field"] = natural_key(relation_info.related_model)
        kwargs["related_model"] = relation_info.related_model
        return KeyRelatedField, kwargs

    def without_unique_validators(self):
        """Drop the per-record uniqueness queries; a bulk upsert checks keys for the whole batch at once."""
        for field in self.fields.values():
            field.validators = [v for v in field.validators if not isinstance(v, UniqueValidator)]
        self.validators = [v for v in self.get_validators() if not isinstance(v, UniqueTogetherValidator)]
        return self
