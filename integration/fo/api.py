"""API of the Finance and Operations data integration: templates, projects, runs (docs/features.md P1, P6, X3).

Thin doors onto ``integration.fo.projects.project_run``. ``POST projects/{id}/run/`` starts a run in the background
(202, the queued run); a project whose prerequisite task has not succeeded, or that is already running, is refused
with 409 and the reason. ``GET project-runs/``
is the execution history, per task: rows read, upserted, skipped with reasons, failed with messages.
``POST project-runs/{id}/rerun/`` runs a finished run again.
"""

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from integration.fo import serializers
from integration.fo.projects import project_run
from integration.models import IntegrationProject, IntegrationProjectRun, IntegrationTemplate
from integration.permissions import RUN_PERMISSION
from p2c.api.permissions import ModelPermissions
from p2c.doors import refused_response
from p2c.outcomes import OperationRefused


class CanRunSynchronization(BasePermission):
    """Starting a run needs ``integration.run_synchronization`` (as the admin's "Run project" does)."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(RUN_PERMISSION))


def _queued(outcome):
    """202 and the queued run (its id to poll at ``project-runs/{id}/``)."""
    run = outcome.jobs[0]
    run.refresh_from_db()
    return Response(serializers.ProjectRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


REFUSED = OpenApiResponse(
    description=gettext_lazy("Refused: a prerequisite task has not run successfully, or a run is under way.")
)


class TemplateViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [ModelPermissions]
    queryset = IntegrationTemplate.objects.prefetch_related("tasks").order_by("name")
    serializer_class = serializers.TemplateSerializer


class ProjectViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [ModelPermissions]
    queryset = IntegrationProject.objects.select_related("template").prefetch_related(
        "tasks__table_mapping", "tasks__defaults"
    ).order_by("name")
    serializer_class = serializers.ProjectSerializer

    @extend_schema(request=serializers.RunRequestSerializer,
                   responses={202: serializers.ProjectRunSerializer, 409: REFUSED})
    @action(detail=True, methods=["post"], permission_classes=[CanRunSynchronization])
    def run(self, request, pk=None):
        project = self.get_object()
        params = serializers.RunRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            outcome = project_run(project=project, full=params.validated_data["full"],
                                  requested_by=request.user.get_username())
        except OperationRefused as exc:
            return refused_response(exc)
        return _queued(outcome)


class ProjectRunViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [ModelPermissions]
    queryset = IntegrationProjectRun.objects.select_related("project").prefetch_related(
        "task_runs__sync_job"
    ).order_by("-created_at", "-id")
    serializer_class = serializers.ProjectRunSerializer
    filterset_fields = ("project", "status")

    @extend_schema(request=None, responses={202: serializers.ProjectRunSerializer, 409: REFUSED})
    @action(detail=True, methods=["post"], permission_classes=[CanRunSynchronization])
    def rerun(self, request, pk=None):
        previous = self.get_object()
        try:
            outcome = project_run(rerun_of=previous, requested_by=request.user.get_username())
        except OperationRefused as exc:
            return refused_response(exc)
        return _queued(outcome)
