"""API of the conflict inbox (docs/decisions.md#the-conflict-inbox): ``/api/integration/conflicts/`` lists the pairs in
conflict (filter by ``table_mapping``, ``mapping`` name, ``kind``, ``older_than_days``), ``…/{id}/`` shows one side by
side, and ``POST …/{id}/resolve/`` (or ``POST …/resolve/`` with ``ids``) resolves, a thin door onto
``integration.operations.conflicts.conflicts_resolve``: the outcome in the body, 400/409 when refused as a whole.
"""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action

from integration.models import SyncConflict
from integration.operations.conflict_inbox import conflict_sides
from integration.operations.conflicts import FIELDS, RESOLUTIONS, SIDE_WORDS, conflicts_resolve
from integration.permissions import VIEW_CONFLICT_PERMISSION
from p2c.api.filters import StrictFilterSet
from p2c.doors import outcome_response, refused_response
from p2c.outcomes import OperationRefused

from . import mapping_serializers as s
from .mappings import RUN, BaseViewSet, operation_permission

READ = VIEW_CONFLICT_PERMISSION


class ConflictSerializer(serializers.ModelSerializer):
    mapping = serializers.CharField(source="table_mapping.name", read_only=True)
    erp_model = serializers.CharField(source="coupling.erp_model", read_only=True)
    erp_id = serializers.IntegerField(source="coupling.erp_id", read_only=True)
    crm_model = serializers.CharField(source="coupling.crm_model", read_only=True)
    crm_id = serializers.UUIDField(source="coupling.crm_id", read_only=True)
    kind = serializers.CharField(read_only=True, help_text=_("update (a field changed on both sides) or deletion."))

    class Meta:
        model = SyncConflict
        fields = ("id", "table_mapping", "mapping", "kind", "fields", "deleted_side", "since", "job", "coupling",
                  "erp_model", "erp_id", "crm_model", "crm_id")
        read_only_fields = fields


class ConflictFieldSerializer(serializers.Serializer):
    erp_field = serializers.CharField()
    crm_field = serializers.CharField()
    direction = serializers.CharField()
    erp_value = serializers.JSONField()
    crm_value = serializers.JSONField()
    synced_erp = serializers.JSONField(help_text=_("The ERP value at the last synchronisation."))
    synced_crm = serializers.JSONField(help_text=_("The Sales value at the last synchronisation."))
    erp_changed = serializers.BooleanField()
    crm_changed = serializers.BooleanField()
    in_conflict = serializers.BooleanField()


class ConflictDetailSerializer(ConflictSerializer):
    sides = serializers.SerializerMethodField()

    class Meta(ConflictSerializer.Meta):
        fields = (*ConflictSerializer.Meta.fields, "sides")
        read_only_fields = fields

    @extend_schema_field(ConflictFieldSerializer(many=True))
    def get_sides(self, obj):
        return ConflictFieldSerializer(conflict_sides(obj)["fields"], many=True).data


class ResolveSerializer(serializers.Serializer):
    resolution = serializers.ChoiceField(choices=sorted([*RESOLUTIONS, "sales"]),
                                         help_text=_("erp / crm (sales): take that side; fields: a side per field; "
                                                   "restore or remove: a deletion conflict."))
    fields = serializers.DictField(
        child=serializers.ChoiceField(choices=sorted(SIDE_WORDS)),
        required=False,
        help_text=_('With "fields": {ERP field: "erp" or "crm"} for each field in conflict.'),
    )
    # The schema's statement of validate(): field by field names at least one field (p2c.api.schema.AutoSchema).
    schema_any_of = [
        {"properties": {"resolution": {"not": {"enum": [FIELDS]}}}},
        {"required": ["fields"], "properties": {"fields": {"type": "object", "minProperties": 1}}},
    ]

    def validate(self, attrs):
        if attrs["resolution"] == FIELDS and not attrs.get("fields"):
            raise serializers.ValidationError({"fields": [gettext(
                'Field by field needs a side for each field in conflict, e.g. {"phone_no": "erp", "email": "crm"}.')]})
        return attrs


class ResolveManySerializer(ResolveSerializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**31 - 1), min_length=1,
                                max_length=100_000)


class ConflictFilterSet(StrictFilterSet):
    mapping = filters.CharFilter(field_name="table_mapping__name")
    older_than_days = filters.NumberFilter(method="filter_age", min_value=0, max_value=s.MAX_AGE_DAYS)

    class Meta:
        model = SyncConflict
        fields = {"table_mapping": ["exact"], "kind": ["exact"]}

    def filter_age(self, queryset, name, value):
        return queryset.filter(since__lte=timezone.now() - timedelta(days=float(value)))


class ConflictViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """The pairs in conflict, newest first; a resolution needs ``integration.run_synchronization`` too."""

    queryset = SyncConflict.objects.select_related("coupling", "table_mapping").order_by("-since", "-id")
    serializer_class = ConflictSerializer
    filterset_class = ConflictFilterSet

    def get_serializer_class(self):
        return ConflictDetailSerializer if self.action == "retrieve" else ConflictSerializer

    def _resolve(self, request, ids, params):
        try:
            outcome = conflicts_resolve(ids=ids, resolution=params["resolution"], fields=params.get("fields"),
                                        decided_by=request.user.get_username())
        except OperationRefused as exc:
            return refused_response(exc)
        return outcome_response(outcome)

    @extend_schema(request=ResolveSerializer,
                   responses={200: s.OutcomeSerializer,
                              400: OpenApiResponse(s.RefusedSerializer, description=gettext_lazy("An unknown field or side.")),
                              409: OpenApiResponse(s.RefusedSerializer, description=gettext_lazy("The connection is disabled."))})
    @action(detail=True, methods=["post"], permission_classes=[operation_permission(RUN, read=READ)])
    def resolve(self, request, pk=None):
        conflict = self.get_object()
        params = ResolveSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        return self._resolve(request, [conflict.pk], params.validated_data)

    @extend_schema(request=ResolveManySerializer, operation_id="integration_conflicts_resolve_many",
                   responses={200: s.OutcomeSerializer,
                              400: OpenApiResponse(s.RefusedSerializer, description=gettext_lazy("An unknown field or side.")),
                              409: OpenApiResponse(s.RefusedSerializer, description=gettext_lazy("The connection is disabled."))})
    @action(detail=False, methods=["post"], url_path="resolve",
            permission_classes=[operation_permission(RUN, read=READ)])
    def resolve_many(self, request):
        params = ResolveManySerializer(data=request.data)
        params.is_valid(raise_exception=True)
        return self._resolve(request, params.validated_data["ids"], params.validated_data)
