"""Serializers of the synchronisation engine's API: mappings, value maps, couplings, jobs and the operations.

Table and field mapping writes run the model's ``full_clean`` (fields, filters: ``integration.catalogue.validation``)
and a table mapping's dependencies go through ``dependencies_validate`` (a cycle is a 400 naming it).
"""

import copy

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from integration.catalogue.validation import dependencies_validate
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
from p2c import limits
from p2c.api.exceptions import validation_error_detail
from p2c.api.schema import BLANK_PATTERN
from p2c.api.serializers import KeyTextField, StrictCharField, StrictModelSerializer

BIGINT_MAX = 2**63 - 1
# An age in days the API takes (a cleanup's, the conflicts filter's): a hundred years, which a date can hold.
MAX_AGE_DAYS = limits.MAX_AGE_DAYS  # the conflicts filter and the cleanup (p2c.limits)


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
    # What clients written before mappings named their declared mapping by key read and wrote: the same values (the
    # keys are the former rules modules' names), checked as definition_key is.
    rules_module = StrictCharField(
        source="definition_key", required=False, allow_blank=True, max_length=50,
        help_text=_("The same as definition_key, under its former name."),
    )

    # An option mapping (an option set named) runs one way (integration.catalogue.validation.table_mapping_validate).
    schema_any_of = [
        {"properties": {"crm_option_field": {"type": "string", "pattern": BLANK_PATTERN}}},
        {"required": ["direction"], "properties": {"direction": {"not": {"enum": [Direction.BIDIRECTIONAL.value]}}}},
    ]

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
    last_erp_result = serializers.CharField(read_only=True, help_text=_("Result of the last write into the ERP."))
    last_crm_result = serializers.CharField(read_only=True, help_text=_("Result of the last write into Sales."))
    class Meta:
        model = Coupling
        fields = "__all__"
        read_only_fields = ("last_erp_job", "last_crm_job", "created_at")


class SyncJobSerializer(StrictModelSerializer):
    message = serializers.CharField(source="message_text", read_only=True,
                                    help_text=_("The job's message, in the request's language (Accept-Language)."))
    scope = serializers.CharField(read_only=True, help_text=_(
        "What the job ran over: selected records (records_given), the whole mapping (full) or its changes."))

    class Meta:
        model = SyncJob
        exclude = ("message_data",)


class SyncJobErrorSerializer(StrictModelSerializer):
    message = serializers.CharField(source="message_text", read_only=True,
                                    help_text=_("The error, in the request's language (Accept-Language)."))

    class Meta:
        model = SyncJobError
        exclude = ("message_data",)


DIRECTION_CHOICES = [
    ("send", gettext_lazy("Send: ERP → Sales")),
    ("get", gettext_lazy("Get: Sales → ERP")),
    ("merge", gettext_lazy("Merge: both directions")),
    *Direction.choices,
]


class SynchronizeRequestSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=DIRECTION_CHOICES, required=False, allow_blank=True,
                                        help_text=_("send (to_integration), get (from_integration); blank, merge or "
                                                  "bidirectional: every direction of the mapping."))
    full = serializers.BooleanField(default=False, help_text=_("Every record, not only those modified."))
    dry_run = serializers.BooleanField(default=False, help_text=_("Report what would change; write nothing (runs "
                                                                "at once and answers 200 with the report)."))


class SyncLogCleanupSerializer(serializers.Serializer):
    older_than_days = serializers.IntegerField(
        min_value=0, max_value=MAX_AGE_DAYS, required=False, allow_null=True, default=None,
        help_text=_("Age in days, up to 36,500 (a hundred years); 0 deletes every entry. Default: the connection "
                    "setup's retention."))
    dry_run = serializers.BooleanField(default=False, help_text=_("Count what would be deleted; delete nothing."))


class CoupleRequestSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.CharField(max_length=64), required=False, allow_null=True,
                                default=None, max_length=100000,
                                help_text=_("The records of from_side to couple (default: every uncoupled one)."))
    create_new = serializers.BooleanField(required=False, allow_null=True, default=None)
    sync_after = serializers.BooleanField(required=False, allow_null=True, default=None)
    from_side = serializers.ChoiceField(
        choices=[("erp", _("ERP")), ("crm", _("Sales"))], required=False, allow_null=True, default=None,
        help_text=_("Whose uncoupled records look for a match: erp (the default) or crm (Sales; the default for a "
                  "Sales → ERP mapping). Either side for a bidirectional mapping."))


class RecordSynchronizeRequestSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(
        choices=DIRECTION_CHOICES,
        required=False,
        allow_blank=True,
        help_text=_(
            "send (ERP → Sales), get (Sales → ERP) or merge (both, conflicts resolved by the mapping's policy). "
            "Blank: the mapping's direction; for a bidirectional one, get when only the Sales record changed "
            "since the last synchronisation, send when only the ERP record did, merge otherwise."
        ),
    )


class OutcomeRecordSerializer(serializers.Serializer):
    record = serializers.CharField(help_text=_("The record as a user knows it, e.g. 'Customer C00010 (Adatum)'."))
    key = serializers.CharField(help_text=_("Its primary key."))
    result = serializers.ChoiceField(choices=["done", "queued", "skipped", "failed", "refused"])
    reason = serializers.CharField()


class OutcomeCountsSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    queued = serializers.IntegerField()
    skipped = serializers.IntegerField()
    failed = serializers.IntegerField()
    refused = serializers.IntegerField()


class OutcomeSerializer(serializers.Serializer):
    """What an operation did (p2c.outcomes.Outcome): the answer of every synchronise and couple operation, 200 or
    202 (jobs queued) even when some records were skipped, failed or refused."""

    summary = serializers.CharField(help_text=_("One line, as the admin's message and the command say it."))
    counts = OutcomeCountsSerializer()
    records = OutcomeRecordSerializer(many=True, help_text=gettext_lazy("The records not done, each with its reason."))
    jobs = serializers.ListField(child=serializers.IntegerField(),
                                 help_text=_("The jobs started: poll /api/integration/jobs/{id}/."))
    jobs_failed = serializers.IntegerField(help_text=_("How many of those jobs failed as a whole (a side that did "
                                                       "not answer, a lost lock), whatever their records did."))


class DryRunOutcomeSerializer(OutcomeSerializer):
    report = SyncJobSerializer(
        many=True, help_text=gettext_lazy("A dry run's jobs, with what would change field by field.")
    )


class RestoredSerializer(OutcomeSerializer):
    restored = serializers.IntegerField()


class RefusedSerializer(serializers.Serializer):
    """The whole request refused: nothing was done."""

    detail = serializers.CharField(required=False)
    code = serializers.CharField(required=False, help_text=_("connection_disabled, mapping_disabled, mapping_busy, "
                                                           "direction_not_allowed, … (a 400 for malformed input "
                                                           "names the fields instead)"))


class FullSyncStartSerializer(serializers.Serializer):
    restart = serializers.BooleanField(default=False, help_text=_("Continue the latest run where it stopped."))


class RecordCoupleSerializer(serializers.Serializer):
    """The counterpart: its primary key (``erp_id`` for a Sales record, ``crm_id`` for an ERP one, in the side's
    subclass) or its natural key (``key``); one of the two is needed (``names_one_needed``, stated in the schema as
    ``anyOf``)."""

    key = StrictCharField(required=False, max_length=100, help_text=_("The counterpart's natural key."))
    mapping = StrictCharField(required=False, max_length=30,
                                    help_text=_("The table mapping's name, when the model is in more than one."))
    synchronize = serializers.ChoiceField(
        choices=[("send", _("Send: use the ERP data")), ("get", _("Get: use the Sales data"))], required=False,
        allow_blank=True, help_text=_("Synchronise the pair after coupling it, in this direction (queued)."))

    def validate(self, attrs):
        if not any(attrs.get(name) not in (None, "") for name in self.names_one_needed):
            raise serializers.ValidationError({"non_field_errors": [gettext("Give the counterpart's id or its key.")]})
        return attrs


@extend_schema_field({"oneOf": [{"type": "string", "pattern": r"^\s*\d{1,18}\s*$"},
                                {"type": "integer", "minimum": 0, "maximum": BIGINT_MAX}]})
class ErpIdField(KeyTextField):
    """An ERP record's primary key (a 64-bit whole number), as a number or its digits."""


class CrmRecordCoupleSerializer(RecordCoupleSerializer):
    erp_id = ErpIdField(required=False, max_length=64, help_text=_("The ERP counterpart's primary key."))
    names_one_needed = ("erp_id", "key")


class ErpRecordCoupleSerializer(RecordCoupleSerializer):
    crm_id = serializers.UUIDField(required=False, help_text=_("The Sales counterpart's primary key."))
    names_one_needed = ("crm_id", "key")


class UncoupledSerializer(OutcomeSerializer):
    removed = serializers.IntegerField()


class CoupledSerializer(OutcomeSerializer):
    coupling = CouplingSerializer()
