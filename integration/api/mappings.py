"""API of the synchronisation engine: table and field mappings, value maps, couplings, jobs, job errors, and the
operations (synchronise, match-based coupling, restore skipped, full synchronisation), thin doors onto
``integration.coupling.couplings``, ``integration.queue``, ``integration.engine.sync`` and
``integration.full_sync.review``.

Operations need the model's view permission plus ``integration.run_synchronization`` (synchronise, full sync) or
``integration.change_couplings`` (coupling). Long operations answer 202 with the queued jobs to poll at
``/api/integration/jobs/{id}/``; a dry run runs at once and answers 200 with its report.
"""

from django.db.models import Q
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from integration.background.sync_log import sync_log_cleanup
from integration.configuration.export import configuration_data
from integration.configuration.history import configuration_changes_record
from integration.full_sync.review import full_sync_status
from integration.full_sync.run import full_sync_start
from integration.models import (
    ConfigurationChange,
    Coupling,
    IntegrationFieldMapping,
    IntegrationTableMapping,
    SyncJob,
    SyncJobError,
    SyncResult,
    ValueMap,
    ValueMapEntry,
)
from integration.operations import couple_by_match, skipped_restore, synchronize_mapping
from integration.permissions import COUPLE_PERMISSION, RUN_PERMISSION
from p2c.api.filters import StrictFilterSet, UtcIsoDateTimeFilter
from p2c.api.pagination import PagePagination
from p2c.api.permissions import ModelPermissions
from p2c.doors import outcome_response, refused_response
from p2c.idempotency import IdempotentCreateMixin, idempotent
from p2c.outcomes import OperationRefused

from . import mapping_serializers as s

RUN, COUPLE = RUN_PERMISSION, COUPLE_PERMISSION
REFUSED = gettext_lazy(
    "Refused as a whole: the connection or the mapping is disabled, or another run holds the mapping."
)


def operation_permission(*perms, read="integration.view_integrationtablemapping"):
    """A permission class: authenticated, the ``read`` permission and ``perms``."""

    class OperationPermission(BasePermission):
        def has_permission(self, request, view):
            user = request.user
            return bool(user and user.is_authenticated and user.has_perms([read, *perms]))

    return OperationPermission


class BaseViewSet(viewsets.GenericViewSet):
    permission_classes = [ModelPermissions]
    pagination_class = PagePagination


class CrudViewSet(IdempotentCreateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                  mixins.UpdateModelMixin, mixins.DestroyModelMixin, BaseViewSet):
    """Its writes are kept in the configuration's history (integration/configuration/history.py), by the request's
    user through the API: the configuration is read before the write and after it."""

    RECORDED = ("create", "update", "partial_update", "destroy")

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authenticated and allowed: the write will be tried
        if self.action in self.RECORDED:
            self._configuration_before = configuration_data()

    def finalize_response(self, request, response, *args, **kwargs):
        before = getattr(self, "_configuration_before", None)
        if before is not None and response.status_code < 400:
            configuration_changes_record(before=before, after=configuration_data(), user=request.user,
                                         door=ConfigurationChange.Door.API)
        return super().finalize_response(request, response, *args, **kwargs)


class TableMappingFilterSet(StrictFilterSet):
    class Meta:
        model = IntegrationTableMapping
        fields = {"name": ["exact"], "erp_model": ["exact"], "crm_model": ["exact"], "direction": ["exact"],
                  "is_enabled": ["exact"], "parent": ["exact"]}


class TableMappingViewSet(CrudViewSet):
    queryset = IntegrationTableMapping.objects.prefetch_related("dependencies").order_by("sort_order", "name", "id")
    serializer_class = s.TableMappingSerializer
    filterset_class = TableMappingFilterSet
    search_fields = ("name", "erp_model", "crm_model")
    ordering_fields = ("name", "sort_order", "created_at")

    @extend_schema(request=s.SynchronizeRequestSerializer,
                   responses={200: s.DryRunOutcomeSerializer, 202: s.OutcomeSerializer,
                              400: OpenApiResponse(s.RefusedSerializer, description=gettext_lazy("A direction the mapping lacks.")),
                              409: OpenApiResponse(s.RefusedSerializer, description=REFUSED)})
    @action(detail=True, methods=["post"], permission_classes=[operation_permission(RUN)])
    @idempotent
    def synchronize(self, request, pk=None):
        mapping = self.get_object()
        params = s.SynchronizeRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        dry_run = params.validated_data["dry_run"]
        try:
            outcome = synchronize_mapping(mapping=mapping, direction=params.validated_data.get("direction") or None,
                                          full=params.validated_data["full"], dry_run=dry_run)
        except OperationRefused as exc:
            return refused_response(exc)
        if dry_run:
            return outcome_response(outcome, status=status.HTTP_200_OK,
                                    extra={"report": s.SyncJobSerializer(outcome.jobs, many=True).data})
        return outcome_response(outcome)

    @extend_schema(request=s.CoupleRequestSerializer,
                   responses={200: s.OutcomeSerializer, 202: s.OutcomeSerializer,
                              400: OpenApiResponse(s.RefusedSerializer, description=(gettext_lazy("A side the mapping cannot "
                                                                                                                                                "synchronise from, or no match field chosen."))),
                              409: OpenApiResponse(s.RefusedSerializer, description=REFUSED)})
    @action(detail=True, methods=["post"], permission_classes=[operation_permission(COUPLE)])
    @idempotent
    def couple(self, request, pk=None):
        mapping = self.get_object()
        params = s.CoupleRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        options = dict(params.validated_data)
        ids = options.pop("ids")
        try:
            outcome = couple_by_match(mapping=mapping, ids=ids, **options)
        except OperationRefused as exc:
            return refused_response(exc)
        return outcome_response(outcome)

    @extend_schema(request=None, responses={200: s.RestoredSerializer})
    @action(detail=True, methods=["post"], url_path="restore-skipped", permission_classes=[operation_permission(COUPLE)])
    @idempotent
    def restore_skipped(self, request, pk=None):
        outcome = skipped_restore(mapping=self.get_object())
        return outcome_response(outcome, extra={"restored": outcome.counts["done"]})


class FieldMappingViewSet(CrudViewSet):
    queryset = IntegrationFieldMapping.objects.select_related("table_mapping").order_by("table_mapping", "id")
    serializer_class = s.FieldMappingSerializer
    filterset_fields = ("table_mapping", "status", "direction", "erp_field", "crm_field")


class ValueMapViewSet(CrudViewSet):
    queryset = ValueMap.objects.prefetch_related("entries").order_by("name", "id")
    serializer_class = s.ValueMapSerializer
    filterset_fields = ("name",)


class ValueMapEntryViewSet(CrudViewSet):
    queryset = ValueMapEntry.objects.order_by("value_map", "erp_value", "id")
    serializer_class = s.ValueMapEntrySerializer
    filterset_fields = ("value_map", "erp_value", "crm_value")


class CouplingFilterSet(StrictFilterSet):
    result = filters.ChoiceFilter(choices=SyncResult.choices, method="filter_result",
                                  help_text=_("Last result on either side."))

    class Meta:
        model = Coupling
        fields = {"erp_model": ["exact"], "crm_model": ["exact"], "skipped": ["exact"], "erp_id": ["exact"],
                  "crm_id": ["exact"]}

    def filter_result(self, queryset, name, value):
        return queryset.filter(Q(last_erp_result=value) | Q(last_crm_result=value))


class CouplingPermissions(ModelPermissions):
    """Removing a coupling is uncoupling: ``delete_coupling`` and ``integration.change_couplings``."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        return request.method != "DELETE" or request.user.has_perm(COUPLE)


class CouplingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      mixins.DestroyModelMixin, BaseViewSet):
    """Couplings are read and removed here; records are coupled through their own ``…/couple/`` action."""

    permission_classes = [CouplingPermissions]

    queryset = Coupling.objects.order_by("erp_model", "erp_id", "id")
    serializer_class = s.CouplingSerializer
    filterset_class = CouplingFilterSet


class SyncJobFilterSet(StrictFilterSet):
    mapping = filters.CharFilter(field_name="mapping_name")
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = SyncJob
        fields = {"table_mapping": ["exact"], "status": ["exact"], "type": ["exact"], "direction": ["exact"],
                  "dry_run": ["exact"]}


class SyncJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    queryset = SyncJob.objects.order_by("-created_at", "-id")
    serializer_class = s.SyncJobSerializer
    filterset_class = SyncJobFilterSet

    @extend_schema(request=s.SyncLogCleanupSerializer, responses={200: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["post"],
            permission_classes=[operation_permission("integration.delete_syncjob", read="integration.view_syncjob")])
    def cleanup(self, request):
        """Delete jobs, job errors and full synchronisation runs older than ``older_than_days`` (0: all; default:
        the connection setup's retention), keeping failed jobs that skipped or failed records point at."""
        params = s.SyncLogCleanupSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            outcome = sync_log_cleanup(**params.validated_data)
        except OperationRefused as exc:
            return refused_response(exc)
        return outcome_response(outcome)


class SyncJobErrorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    queryset = SyncJobError.objects.order_by("-created_at", "-id")
    serializer_class = s.SyncJobErrorSerializer
    filterset_fields = ("job", "source_model", "source_id")


class FullSyncPermission(BasePermission):
    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return user.has_perm("integration.view_fullsyncrun")
        return user.has_perm(RUN)


FULL_SYNC_REFUSED = OpenApiResponse(
    description=gettext_lazy("The connection is not enabled, or there is nothing to restart.")
)
SALES_NOT_ANSWERING = OpenApiResponse(
    description=gettext_lazy("Sales over the Web API did not answer the reads of the recommendations.")
)


class FullSyncViewSet(viewsets.ViewSet):
    """``GET``: the status of the latest full synchronisation; ``POST``: start one (202; 200 when one is already in
    process; 409 when `full_sync_start` refuses; 503 when Sales over the Web API does not answer), the run's status with
    the ``outcome``."""

    permission_classes = [FullSyncPermission]

    @extend_schema(responses={200: OpenApiTypes.OBJECT, 503: SALES_NOT_ANSWERING})
    def list(self, request):
        try:
            return Response(full_sync_status())
        except OperationRefused as exc:  # Sales did not answer the recommendations' reads
            return refused_response(exc)

    @extend_schema(request=s.FullSyncStartSerializer, responses={202: OpenApiTypes.OBJECT, 409: FULL_SYNC_REFUSED,
                                                                     503: SALES_NOT_ANSWERING})
    @idempotent
    def create(self, request):
        params = s.FullSyncStartSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            outcome = full_sync_start(restart=params.validated_data["restart"], user=request.user)
        except OperationRefused as exc:
            return refused_response(exc)
        run = outcome.jobs[0]
        # The run's status, as GET answers it, plus what this request did (202 when lines were queued).
        answer = outcome_response(outcome)
        answer.data = {**full_sync_status(run=run), "outcome": answer.data}
        return answer
