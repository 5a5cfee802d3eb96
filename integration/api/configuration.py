"""API of the configuration as a file (integration.configuration): ``GET configuration/`` answers it (the same data
``integration_export`` writes, ``?mapping=NAME`` repeatable for a partial one); ``POST configuration/import/``
checks one with the admin's rules and answers the difference, applying it in one transaction unless ``dry_run``.
An invalid configuration is a 400 naming each key at fault, and changes nothing."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from integration.configuration import (
    EXPORT_PERMISSIONS,
    IMPORT_PERMISSIONS,
    ConfigurationInvalid,
    configuration_data,
    configuration_import,
)
from integration.configuration.format import (
    CONNECTION_KEYS,
    DEFAULT_KEYS,
    ENTRY_KEYS,
    FIELD_KEYS,
    FORMAT,
    MAPPING_KEYS,
    PROJECT_KEYS,
    PROJECT_TASK_KEYS,
    TEMPLATE_KEYS,
    TEMPLATE_TASK_KEYS,
    VALUE_MAP_KEYS,
    VERSION,
)
from integration.configuration.history import history_recorder
from integration.models import (
    ConfigurationChange,
    ConnectionSetup,
    IntegrationFieldMapping,
    IntegrationProject,
    IntegrationProjectTask,
    IntegrationProjectTaskDefault,
    IntegrationTableMapping,
    IntegrationTemplate,
    IntegrationTemplateTask,
    ValueMap,
    ValueMapEntry,
)
from p2c.api.schema import TEXT_PATTERN
from p2c.doors import outcome_response, refused_response
from p2c.idempotency import idempotent
from p2c.outcomes import OperationRefused

from .mapping_serializers import OutcomeSerializer, RefusedSerializer


class ConfigurationPermission(BasePermission):
    """Reading needs the table mappings' view permission; importing, the right to add, change and delete them and
    to change the connection setup."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return user.has_perms(EXPORT_PERMISSIONS if request.method in ("GET", "HEAD", "OPTIONS")
                              else (*EXPORT_PERMISSIONS, *IMPORT_PERMISSIONS))


def _value_schema(model_field):
    """A key's schema, as the import checks its type (integration.configuration.parse._type_problem)."""
    if isinstance(model_field, models.BooleanField):
        return {"type": "boolean"}
    if isinstance(model_field, models.JSONField):
        return {"type": "array" if isinstance(model_field.get_default(), list) else "object"}
    if model_field.choices:  # checked with the record's other rules when it is applied
        values = [value for value, _label in model_field.flatchoices]
        return {"type": "string", "enum": [*values, ""] if model_field.blank and "" not in values else values}
    if isinstance(model_field, models.IntegerField):
        # the field's own bounds, within a 32-bit column's (the database's range, not stated: it differs by backend)
        schema = {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}
        for validator in [*model_field.default_validators, *model_field._validators]:
            if isinstance(validator, MinValueValidator):
                schema["minimum"] = max(validator.limit_value, schema["minimum"])
            elif isinstance(validator, MaxValueValidator):
                schema["maximum"] = min(validator.limit_value, schema["maximum"])
        if isinstance(model_field, models.PositiveIntegerField | models.PositiveSmallIntegerField
                      | models.PositiveBigIntegerField):
            schema["minimum"] = max(0, schema["minimum"])
        return schema
    schema = {"type": "string", "pattern": TEXT_PATTERN}
    if model_field.max_length:
        schema["maxLength"] = model_field.max_length
    return schema


NAME = {"type": "string", "minLength": 1, "pattern": TEXT_PATTERN}
NAME_OR_NULL = {"type": "string", "nullable": True, "pattern": TEXT_PATTERN}


def _record_schema(model, keys, *, named=None, required=(), relations=None):
    """A record of the file: its keys (no others), their types, the key naming it given and not blank."""
    relations = relations or {}
    properties = {key: relations[key] if key in relations else _value_schema(model._meta.get_field(key))
                  for key in keys}
    if named:
        properties[named] = NAME
    return {"type": "object", "additionalProperties": False, "properties": properties,
            **({"required": [*([named] if named else []), *required]} if named or required else {})}


def _list_of(schema, named=None):
    return {"type": "array", "items": schema, **({"description": f"Each {named} names one record: no two alike."}
                                                  if named else {})}


def configuration_schema():
    """The configuration file's schema: what integration.configuration.parse reads (every section, record and key,
    none other, each of its type); what the sections name (models, fields, other records) is checked against the
    installed models and the stored records, and refused as ``invalid_configuration``."""
    field = _record_schema(IntegrationFieldMapping, FIELD_KEYS, relations={"value_map": NAME_OR_NULL})
    schedule = {"type": "object", "nullable": True, "additionalProperties": False, "properties": {
        "every_minutes": {"type": "integer", "minimum": 1, "maximum": 1440}, "enabled": {"type": "boolean"}}}
    mapping = _record_schema(IntegrationTableMapping, MAPPING_KEYS, named="name", required=("erp_model", "crm_model"),
                             relations={"dependencies": {"type": "array", "items": NAME}, "parent": NAME_OR_NULL,
                                        "schedule": schedule, "fields": _list_of(field)})
    entry = _record_schema(ValueMapEntry, ENTRY_KEYS, named="erp_value")
    value_map = _record_schema(ValueMap, VALUE_MAP_KEYS, named="name",
                               relations={"entries": _list_of(entry, "erp_value")})
    template_task = _record_schema(IntegrationTemplateTask, TEMPLATE_TASK_KEYS, named="name")
    template = _record_schema(IntegrationTemplate, TEMPLATE_KEYS, named="name",
                              relations={"tasks": _list_of(template_task, "name")})
    default = _record_schema(IntegrationProjectTaskDefault, DEFAULT_KEYS, named="erp_field")
    project_task = _record_schema(IntegrationProjectTask, PROJECT_TASK_KEYS, named="name",
                                  required=("table_mapping",),
                                  relations={"table_mapping": NAME, "defaults": _list_of(default, "erp_field")})
    project = _record_schema(IntegrationProject, PROJECT_KEYS, named="name",
                             relations={"template": NAME_OR_NULL, "tasks": _list_of(project_task, "name")})
    connection = _record_schema(ConnectionSetup, CONNECTION_KEYS, relations={"integration_user": NAME_OR_NULL})
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["format", "version"],
        "properties": {
            "format": {"type": "string", "enum": [FORMAT]},
            "version": {"type": "integer", "enum": [VERSION]},
            "partial": {"type": "boolean"},
            "connection": connection,
            "value_maps": _list_of(value_map, "name"),
            "mappings": _list_of(mapping, "name"),
            "templates": _list_of(template, "name"),
            "projects": _list_of(project, "name"),
        },
    }


@extend_schema_field(configuration_schema())
class ConfigurationField(serializers.DictField):
    """The file as the schema states it (configuration_schema); what the sections name is checked against the
    installed models and the records they name, and refused as ``invalid_configuration``."""


class ConfigurationImportRequestSerializer(serializers.Serializer):
    configuration = ConfigurationField(help_text=_("The configuration, as GET configuration/ answers it."))
    dry_run = serializers.BooleanField(default=False, help_text=_("Check and answer the difference; write nothing."))


class ChangeSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["added", "changed", "removed"])
    path = serializers.CharField(help_text=_("The record, e.g. mappings[CUSTOMER].fields[no ↔ account_number]."))
    key = serializers.CharField(allow_blank=True, help_text=_("The key changed (blank for a record added or removed)."))
    old = serializers.JSONField(allow_null=True, help_text=_("Its value now."))
    new = serializers.JSONField(allow_null=True, help_text=_("Its value after the import."))


class ConfigurationImportSerializer(OutcomeSerializer):
    dry_run = serializers.BooleanField()
    changes = ChangeSerializer(many=True)


class ConfigurationErrorSerializer(serializers.Serializer):
    # blank: the file as a whole (or a key "" of it)
    where = serializers.CharField(allow_blank=True,
                                  help_text=_("The key at fault, e.g. mappings[CUSTOMER].fields[3].crm_field."))
    message = serializers.CharField()


class ConfigurationInvalidSerializer(RefusedSerializer):
    errors = ConfigurationErrorSerializer(many=True, required=False)


class ConfigurationViewSet(viewsets.ViewSet):
    permission_classes = [ConfigurationPermission]

    @extend_schema(
        parameters=[OpenApiParameter("mapping", OpenApiTypes.STR, many=True, explode=True,
                                     description=gettext_lazy("Only this table mapping (repeat for more): a partial file."))],
        responses={200: OpenApiTypes.OBJECT,
                   400: OpenApiResponse(RefusedSerializer, description=gettext_lazy("A mapping name that does not exist."))})
    def list(self, request):
        """The integration's configuration: connection setup, value maps, table and field mappings (with their
        schedules), F&O templates and projects, named by their names, in a stable order."""
        try:
            return Response(configuration_data(mappings=request.query_params.getlist("mapping")))
        except OperationRefused as exc:
            return refused_response(exc)

    @extend_schema(request=ConfigurationImportRequestSerializer,
                   responses={200: ConfigurationImportSerializer,
                              400: OpenApiResponse(ConfigurationInvalidSerializer,
                                                   description=gettext_lazy("Not a valid configuration: nothing was changed."))})
    @action(detail=False, methods=["post"], url_path="import")
    @idempotent
    def import_(self, request):
        """Check a configuration, answer its difference from the current one and, unless ``dry_run``, apply it
        in one transaction. Couplings, jobs and logs are never touched."""
        params = ConfigurationImportRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            outcome = configuration_import(data=params.validated_data["configuration"],
                                           dry_run=params.validated_data["dry_run"],
                                           on_applied=history_recorder(user=request.user,
                                                                       door=ConfigurationChange.Door.API))
        except ConfigurationInvalid as exc:
            return refused_response(exc, extra={"errors": exc.as_data()})
        except OperationRefused as exc:
            return refused_response(exc)
        return outcome_response(outcome, status=status.HTTP_200_OK)
