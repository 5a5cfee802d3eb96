"""API of the configuration as a file (integration.configuration): ``GET configuration/`` answers it (the same data
``integration_export`` writes, ``?mapping=NAME`` repeatable for a partial one); ``POST configuration/import/``
checks one with the admin's rules and answers the difference, applying it in one transaction unless ``dry_run``.
An invalid configuration is a 400 naming each key at fault, and changes nothing."""

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
from integration.configuration.format import FORMAT, SECTIONS, VERSION
from integration.configuration.history import history_recorder
from integration.models import ConfigurationChange
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


@extend_schema_field({
    "type": "object",
    "required": ["format", "version"],
    "properties": {"format": {"type": "string", "enum": [FORMAT]}, "version": {"type": "integer", "enum": [VERSION]},
                   **{section: {"type": "object" if section == "connection" else "array"} for section in SECTIONS}},
})
class ConfigurationField(serializers.DictField):
    """The file's frame in the schema (its format, version and sections); what the sections hold is checked
    against the installed models and the records they name, and refused as ``invalid_configuration``."""


class ConfigurationImportRequestSerializer(serializers.Serializer):
    configuration = ConfigurationField(help_text=_("The configuration, as GET configuration/ answers it."))
    dry_run = serializers.BooleanField(default=False, help_text=_("Check and answer the difference; write nothing."))


class ChangeSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["added", "changed", "removed"])
    path = serializers.CharField(help_text=_("The record, e.g. mappings[CUSTOMER].fields[no ↔ account_number]."))
    key = serializers.CharField(help_text=_("The key changed (blank for a record added or removed)."))
    old = serializers.JSONField(allow_null=True, help_text=_("Its value now."))
    new = serializers.JSONField(allow_null=True, help_text=_("Its value after the import."))


class ConfigurationImportSerializer(OutcomeSerializer):
    dry_run = serializers.BooleanField()
    changes = ChangeSerializer(many=True)


class ConfigurationErrorSerializer(serializers.Serializer):
    where = serializers.CharField(help_text=_("The key at fault, e.g. mappings[CUSTOMER].fields[3].crm_field."))
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
