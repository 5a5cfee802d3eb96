"""Serializers of the Finance and Operations data integration API (read-only presentations)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from integration.fo.projects import task_run_errors, task_run_skip_reasons
from integration.models import (
    IntegrationProject,
    IntegrationProjectRun,
    IntegrationProjectTask,
    IntegrationProjectTaskDefault,
    IntegrationProjectTaskRun,
    IntegrationTemplate,
    IntegrationTemplateTask,
)
from p2c.api.serializers import StrictModelSerializer

ERRORS_SHOWN = 100


class TemplateTaskSerializer(StrictModelSerializer):
    class Meta:
        model = IntegrationTemplateTask
        fields = ("name", "sequence", "prerequisites", "definition")


class TemplateSerializer(StrictModelSerializer):
    tasks = TemplateTaskSerializer(many=True, read_only=True)

    class Meta:
        model = IntegrationTemplate
        fields = ("id", "name", "description", "builtin", "tasks")


class TaskDefaultSerializer(StrictModelSerializer):
    class Meta:
        model = IntegrationProjectTaskDefault
        fields = ("erp_field", "default_value", "key_field", "value_map", "required")


class ProjectTaskSerializer(StrictModelSerializer):
    table_mapping = serializers.CharField(source="table_mapping.name", read_only=True)
    source_model = serializers.CharField(source="table_mapping.crm_model", read_only=True)
    destination_model = serializers.CharField(source="table_mapping.erp_model", read_only=True)
    source_filter = serializers.JSONField(source="table_mapping.crm_filter", read_only=True)
    defaults = TaskDefaultSerializer(many=True, read_only=True)

    class Meta:
        model = IntegrationProjectTask
        fields = ("id", "name", "sequence", "prerequisites", "table_mapping", "source_model", "destination_model",
                  "source_filter", "defaults")


class ProjectSerializer(StrictModelSerializer):
    template = serializers.CharField(source="template.name", read_only=True, default=None, allow_null=True)
    tasks = ProjectTaskSerializer(many=True, read_only=True)

    class Meta:
        model = IntegrationProject
        fields = ("id", "name", "template", "description", "created_at", "tasks")


class TaskRunSerializer(StrictModelSerializer):
    errors = serializers.SerializerMethodField()
    message = serializers.CharField(source="message_text", read_only=True,
                                    help_text=_("The task's message, in the request's language (Accept-Language)."))
    skip_reasons = serializers.SerializerMethodField(
        help_text=_("Why rows were skipped, in the request's language (Accept-Language), with how many."))
    sync_job = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = IntegrationProjectTaskRun
        fields = ("task_name", "sequence", "status", "read", "upserted", "inserted", "modified", "coupled",
                  "unchanged", "skipped", "skip_reasons", "failed", "errors", "message", "started_at",
                  "finished_at", "sync_job")

    def get_errors(self, obj) -> list[dict]:
        return [{"source_id": e.source_id, "message": e.message_text}
                for e in task_run_errors(task_run=obj, limit=ERRORS_SHOWN)]

    def get_skip_reasons(self, obj) -> dict[str, int]:
        return task_run_skip_reasons(obj)


class ProjectRunSerializer(StrictModelSerializer):
    project = serializers.CharField(source="project.name", read_only=True)
    task_runs = TaskRunSerializer(many=True, read_only=True)
    message = serializers.CharField(source="message_text", read_only=True,
                                    help_text=_("The run's message, in the request's language (Accept-Language)."))

    class Meta:
        model = IntegrationProjectRun
        fields = ("id", "project", "status", "full", "rerun_of", "requested_by", "created_at", "started_at",
                  "finished_at", "message", "task_runs")


class RunRequestSerializer(serializers.Serializer):
    full = serializers.BooleanField(default=False, help_text=_("Read every row, not only those changed."))
