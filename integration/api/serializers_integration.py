"""Serializers of the synchronisation engine's API: mappings, value maps, couplings, jobs and the operations.

Table and field mapping writes run the model's ``full_clean`` (fields, filters: ``integration.engine.validation``)
and a table mapping's dependencies go through ``dependencies_validate`` (a cycle is a 400 naming it).
"""

import copy

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from integration.engine.validation import dependencies_validate
from integration.models import (
    Coupling,
    Direction,
    IntegrationFieldMapping,
    IntegrationTableMapping,
    SyncJob,
    SyncJobError,
    ValueMap,
    ValueMapEntry,
)
from p2c.api.exceptions import validation_error_detail
from p2c.api.serializers import KeyTextField, StrictCharField, StrictModelSerializer


def _full_clean(serializer, model, attrs, exclude=()):
    instance = copy.copy(serializer.instance) if serializer.instance is not None else model()
    for name, value in attrs.items():
        if name not in exclude:
            setattr(instance, name, value)
    try:
        instance.full_clean()
    except DjangoValidationError as exc:
        raise serializers.ValidationError(validation_error_detail(exc)) from exc
    return instance


class TableMappingSerializer(StrictModelSerializer):
    dependencies = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=IntegrationTableMapping.objects.all()
    )

    class Meta:
        model = IntegrationTableMapping
        fields = "__all__"
        read_only_fields = ("erp_watermark", "crm_watermark", "locked_by", "locked_at", "created_at")

    def validate(self, attrs):
        instance = _full_clean(self, IntegrationTableMapping, attrs, exclude=("dependencies",))
        if "dependencies" in attrs:
            try:
                dependencies_validate(mapping=instance, dependencies=attrs["dependencies"])
            except DjangoValidationError as exc:
                raise serializers.ValidationError(validation_error_detail(exc)) from exc
        return attrs


class FieldMappingSerializer(StrictModelSerializer):
    class Meta:
        model = IntegrationFieldMapping
        fields = "__all__"
        validators = []  # the model's constraints run in full_clean below

    def validate(self, attrs):
        _full_clean(self, IntegrationFieldMapping, attrs)
        return attrs


class ValueMapEntrySerializer(StrictModelSerializer):
    class Meta:
        model = ValueMapEntry
        fields = "__all__"


class ValueMapSerializer(StrictModelSerializer):
    entries = ValueMapEntrySerializer(many=True, read_only=True)

    class Meta:
        model = ValueMap
        fields = ("id", "name", "description", "entries")


class CouplingSerializer(StrictModelSerializer):
    last_erp_result = serializers.CharField(read_only=True, help_text="Result of the last write into the ERP.")
    last_crm_result = serializers.CharField(read_only=True, help_text="Result of the last write into Sales.")
    class Meta:
        model = Coupling
        fields = "__all__"
        read_only_fields = ("last_erp_job", "last_crm_job", "created_at")


class SyncJobSerializer(StrictModelSerializer):
    class Meta:
        model = SyncJob
        fields = "__all__"


class SyncJobErrorSerializer(StrictModelSerializer):
    class Meta:
        model = SyncJobError
        fields = "__all__"


class SynchronizeRequestSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=Direction.choices, required=False, allow_blank=True,
                                        help_text="Blank or bidirectional: every direction of the mapping.")
    full = serializers.BooleanField(default=False, help_text="Every record, not only those modified.")
    dry_run = serializers.BooleanField(default=False, help_text="Report what would change; write nothing (runs "
                                                                "at once and answers 200 with the report).")


class SyncLogCleanupSerializer(serializers.Serializer):
    older_than_days = serializers.IntegerField(
        min_value=0, required=False, allow_null=True, default=None,
        help_text="Age in days; 0 deletes every entry. Default: the connection setup's retention.")
    dry_run = serializers.BooleanField(default=False, help_text="Count what would be deleted; delete nothing.")


class CoupleRequestSerializer(serializers.Serializer):
    create_new = serializers.BooleanField(required=False, allow_null=True, default=None)
    sync_after = serializers.BooleanField(required=False, allow_null=True, default=None)
    from_side = serializers.ChoiceField(
        choices=[("erp", "ERP"), ("crm", "Sales")], required=False, allow_null=True, default=None,
        help_text="Whose uncoupled records look for a match: erp (the default) or crm (Sales; the default for a "
                  "Sales → ERP mapping). Either side for a bidirectional mapping.")


class RestoredSerializer(serializers.Serializer):
    restored = serializers.IntegerField()


class FullSyncStartSerializer(serializers.Serializer):
    restart = serializers.BooleanField(default=False, help_text="Continue the latest run where it stopped.")


class RecordCoupleSerializer(serializers.Serializer):
    """The counterpart: its primary key (``erp_id`` for a Sales record, ``crm_id`` for an ERP one) or its
    natural key (``key``)."""

    erp_id = KeyTextField(required=False, max_length=64)
    crm_id = KeyTextField(required=False, max_length=64)
    key = StrictCharField(required=False, max_length=100, help_text="The counterpart's natural key.")
    mapping = StrictCharField(required=False, max_length=30,
                                    help_text="The table mapping's name, when the model is in more than one.")


class UncoupledSerializer(serializers.Serializer):
    removed = serializers.IntegerField()
