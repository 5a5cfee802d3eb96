"""Admin for Finance and Operations data integration: templates, projects, tasks (their filter, defaults and
value maps), and the execution history of runs, with the actions "Run project" and "Re-run".

Thin doors: every action calls integration.fo.templates / integration.fo.projects (``project_run`` for "Run
project" and "Re-run", which queues the run for a worker) and tells its outcome in one message at its level.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.utils.translation import gettext_lazy as _

from integration.configuration.history_admin import ConfigurationHistoryAdminMixin
from integration.engine.filters import filter_validate
from integration.fo.projects import project_run, project_runs_cleanup, task_run_errors, task_run_skip_reasons
from integration.fo.templates import project_create, project_delete
from integration.models import (
    IntegrationProject,
    IntegrationProjectRun,
    IntegrationProjectTask,
    IntegrationProjectTaskDefault,
    IntegrationProjectTaskRun,
    IntegrationTemplate,
    IntegrationTemplateTask,
)
from integration.permissions import RUN_PERMISSION
from p2c.admin_text import long_text
from p2c.doors import outcome_message
from p2c.outcomes import REFUSED, OperationRefused, Outcome

ERROR_LINES = 50


# -- templates ----------------------------------------------------------------------------------------------------
class TemplateTaskInline(admin.TabularInline):
    model = IntegrationTemplateTask
    extra = 0
    fields = ("sequence", "name", "prerequisites", "entities")
    readonly_fields = ("entities",)

    @admin.display(description=_("Entity set"))
    def entities(self, obj):
        definition = obj.definition or {}
        return f"{definition.get('crm', '?')} → {definition.get('erp', '?')}"


@admin.register(IntegrationTemplate)
class IntegrationTemplateAdmin(ConfigurationHistoryAdminMixin, admin.ModelAdmin):
    list_display = ("name", "builtin", "task_names")
    inlines = [TemplateTaskInline]
    actions = ["create_projects"]
    readonly_fields = ("builtin",)

    @admin.display(description=_("Tasks"))
    def task_names(self, obj):
        return ", ".join(obj.tasks.order_by("sequence").values_list("name", flat=True))

    def has_add_project_permission(self, request):
        return request.user.has_perm("integration.add_integrationproject")

    @admin.action(description=_("Create a project from the selected templates"), permissions=["add_project"])
    def create_projects(self, request, queryset):
        made = []
        for template in queryset:
            name = template.name.split(" (")[0]
            suffix = 1
            while IntegrationProject.objects.filter(name=name).exists():
                suffix += 1
                name = f"{template.name.split(' (')[0]} {suffix}"
            made.append(project_create(template=template, name=name))
        self.message_user(
            request,
            ngettext("%(count)s project created: %(names)s.", "%(count)s projects created: %(names)s.", len(made))
            % {"count": len(made), "names": ", ".join(p.name for p in made)},
            messages.SUCCESS,
        )


# -- projects and tasks -------------------------------------------------------------------------------------------
class ProjectTaskInline(admin.TabularInline):
    model = IntegrationProjectTask
    extra = 0
    fields = ("sequence", "name", "task_link", "mapping_link", "prerequisites")
    readonly_fields = ("task_link", "mapping_link")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Filter, defaults, value maps"))
    def task_link(self, obj):
        if obj.pk is None:
            return "-"
        url = reverse("admin:integration_integrationprojecttask_change", args=[obj.pk])
        return format_html('<a href="{}">Edit task</a>', url)

    @admin.display(description=_("Table mapping"))
    def mapping_link(self, obj):
        return obj.table_mapping.name if obj.table_mapping_id else "-"


@admin.register(IntegrationProject)
class IntegrationProjectAdmin(ConfigurationHistoryAdminMixin, admin.ModelAdmin):
    list_display = ("name", "template", "task_names", "last_run")
    search_fields = ("name",)
    inlines = [ProjectTaskInline]
    actions = ["run_project", "run_project_full"]
    fields = ("name", "template", "description")

    def get_readonly_fields(self, request, obj=None):
        return ("template",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if change or obj.template_id is None:
            super().save_model(request, obj, form, change)
            return
        # A new project is made from its template: its tasks, table mappings and defaults come with it.
        project = project_create(template=obj.template, name=obj.name, description=obj.description)
        obj.pk = project.pk
        obj._state.adding = False

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # a new project's tasks come from its template

    def delete_model(self, request, obj):
        project_delete(project=obj)

    def delete_queryset(self, request, queryset):
        for project in queryset:
            project_delete(project=project)

    @admin.display(description=_("Tasks"))
    def task_names(self, obj):
        return ", ".join(obj.tasks.order_by("sequence").values_list("name", flat=True))

    @admin.display(description=_("Last run"))
    def last_run(self, obj):
        run = obj.runs.first()
        return f"#{run.pk} {run.get_status_display()} {run.created_at:%Y-%m-%d %H:%M}" if run else "-"

    def has_run_permission(self, request):
        return request.user.has_perm(RUN_PERMISSION)

    def _run(self, request, queryset, *, full):
        outcome = Outcome(verb=gettext("Run project"))
        for project in queryset:
            try:
                outcome.merge(project_run(project=project, full=full, requested_by=request.user.get_username()))
            except OperationRefused as exc:
                outcome.record(REFUSED, project.name, exc.message, key=project.pk)
        outcome_message(self, request, outcome)

    @admin.action(description=_("Run project"), permissions=["run"])
    def run_project(self, request, queryset):
        self._run(request, queryset, full=False)

    @admin.action(description=_("Run project (full: read every row)"), permissions=["run"])
    def run_project_full(self, request, queryset):
        self._run(request, queryset, full=True)


class TaskDefaultInline(admin.TabularInline):
    model = IntegrationProjectTaskDefault
    extra = 1
    fields = ("erp_field", "default_value", "key_field", "value_map", "required")


class ProjectTaskForm(forms.ModelForm):
    source_filter = forms.JSONField(
        label=_("Source filter"), required=False,
        help_text=_('The task\'s filter on the Sales rows, as Django lookups, e.g. {"is_active_customer": true}. '
                  'A key starting with ~ excludes.'),
    )

    class Meta:
        model = IntegrationProjectTask
        fields = ("name", "sequence", "prerequisites")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        mapping = self.instance.table_mapping if self.instance.table_mapping_id else None
        if mapping is not None:
            self.fields["source_filter"].initial = (
                mapping.crm_filter if mapping.direction == "from_integration" else mapping.erp_filter
            )

    def clean_source_filter(self):
        value = self.cleaned_data.get("source_filter") or {}
        mapping = self.instance.table_mapping
        model = mapping.crm_model_class() if mapping.direction == "from_integration" else mapping.erp_model_class()
        try:
            filter_validate(model, value, field_name="source_filter")
        except ValidationError as exc:
            raise ValidationError(exc.message_dict.get("source_filter", exc.messages)) from None
        return value

    def save(self, commit=True):
        task = super().save(commit=commit)
        mapping = task.table_mapping
        attr = "crm_filter" if mapping.direction == "from_integration" else "erp_filter"
        if getattr(mapping, attr) != self.cleaned_data.get("source_filter"):
            setattr(mapping, attr, self.cleaned_data.get("source_filter") or {})
            mapping.save(update_fields=[attr])
        return task


@admin.register(IntegrationProjectTask)
class IntegrationProjectTaskAdmin(ConfigurationHistoryAdminMixin, admin.ModelAdmin):
    form = ProjectTaskForm
    list_display = ("name", "project", "sequence", "table_mapping")
    list_filter = ("project",)
    inlines = [TaskDefaultInline]
    fieldsets = (
        (None, {"fields": ("name", "sequence", "prerequisites", "source_filter")}),
        (gettext_lazy("Table mapping"), {"fields": ("mapping_summary", "field_mapping_table")}),
    )
    readonly_fields = ("mapping_summary", "field_mapping_table")

    def has_add_permission(self, request):
        return False  # tasks come with their project's template

    @admin.display(description=_("Table mapping"))
    def mapping_summary(self, obj):
        mapping = obj.table_mapping
        return f"{mapping.name}: {mapping.crm_model} → {mapping.erp_model} ({mapping.get_direction_display()})"

    @admin.display(description=_("Field mappings"))
    def field_mapping_table(self, obj):
        rows = obj.table_mapping.field_mappings.order_by("id")
        body = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((fm.crm_field or "-", fm.erp_field or "-", f"constant {fm.constant_value}" if fm.constant_value else "")
             for fm in rows),
        )
        return format_html("<table><tr><th>Sales</th><th>ERP</th><th></th></tr>{}</table>", body)


# -- execution history ------------------------------------------------------------------------------------------------
class TaskRunInline(admin.TabularInline):
    model = IntegrationProjectTaskRun
    extra = 0
    can_delete = False
    fields = ("task_name", "status", "read", "upserted", "inserted", "modified", "unchanged", "skipped",
              "skip_reason_text", "failed", "error_text", "message_text")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Skipped: reasons"))
    def skip_reason_text(self, obj):
        return format_html_join("", "<div>{}: {}</div>",
                                ((n, long_text(reason)) for reason, n in task_run_skip_reasons(obj).items()))

    @admin.display(description=_("Message"))
    def message_text(self, obj):
        return long_text(obj.message_text)  # told in the reader's language

    @admin.display(description=_("Failed rows"))
    def error_text(self, obj):
        errors = task_run_errors(task_run=obj, limit=ERROR_LINES)
        return format_html_join("", "<div>{}</div>", ((long_text(e.message_text),) for e in errors)) or "-"


@admin.register(IntegrationProjectRun)
class IntegrationProjectRunAdmin(admin.ModelAdmin):
    list_display = ("__str__", "project", "status", "full", "created_at", "finished_at", "totals")
    list_filter = ("status", "project")
    date_hierarchy = "created_at"
    inlines = [TaskRunInline]
    actions = ["rerun", "cleanup_history"]
    readonly_fields = ("project", "status", "full", "rerun_of", "requested_by", "created_at", "started_at",
                       "finished_at", "message_text")
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Message"))
    def message_text(self, obj):
        return long_text(obj.message_text)  # told in the reader's language

    @admin.display(description=_("Read / upserted / skipped / failed"))
    def totals(self, obj):
        task_runs = list(obj.task_runs.all())
        return " / ".join(str(sum(getattr(t, name) for t in task_runs)) for name in ("read", "upserted", "skipped",
                                                                                       "failed"))

    def has_run_permission(self, request):
        return request.user.has_perm(RUN_PERMISSION)

    @admin.action(description=_("Re-run"), permissions=["run"])
    def rerun(self, request, queryset):
        outcome = Outcome(verb=gettext("Re-run"))
        for run in queryset:
            try:
                outcome.merge(project_run(rerun_of=run, requested_by=request.user.get_username()))
            except OperationRefused as exc:
                outcome.record(REFUSED, f"Run #{run.pk}", exc.message, key=run.pk)
        outcome_message(self, request, outcome)

    @admin.action(description=_("Delete execution history older than the configured age"), permissions=["delete"])
    def cleanup_history(self, request, queryset):
        count = project_runs_cleanup()
        self.message_user(request, ngettext("%(count)s run deleted.", "%(count)s runs deleted.", count) % {"count": count}, messages.SUCCESS)
