"""Finance and Operations data integration tables: templates, projects, tasks, runs (docs/features.md P1-P6)."""

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integration.models.jobs import SaidMessage, SyncJob
from integration.models.mappings import IntegrationTableMapping
from p2c.fields import JSONField


# =====================================================================================================================
# Finance and Operations "prospect to cash" data integration (docs/features.md P1-P6): templates, projects, tasks, runs.
#
# A project is made from a template and holds ordered tasks. Each task *owns* an IntegrationTableMapping (the
# engine's mapping, run in the task's one direction with the task's filter and field mappings) plus its default
# values and value maps (`IntegrationProjectTaskDefault`). A run of a project is recorded per task (P6).
# Logic lives in integration/fo/templates.py and integration/fo/projects.py.
# =====================================================================================================================
class IntegrationTemplate(models.Model):
    """A Data Integrator template (shipped as data in integration/fo/templates.py)."""

    name = models.CharField(_("Name"), max_length=100, unique=True)
    description = models.TextField(_("Description"), blank=True)
    builtin = models.BooleanField(_("Shipped With p2c"), default=False)

    class Meta:
        verbose_name = _("Data Integration Template")
        verbose_name_plural = _("Data Integration Templates")
        ordering = ["name"]

    def __str__(self):
        return self.name


class IntegrationTemplateTask(models.Model):
    """A task of a template: what a project task's table mapping, field mappings and defaults are made from."""

    template = models.ForeignKey(
        IntegrationTemplate, verbose_name=_("Template"), on_delete=models.CASCADE, related_name="tasks"
    )
    name = models.CharField(_("Task Name"), max_length=60)
    sequence = models.PositiveIntegerField(_("Sequence"), default=10)
    definition = JSONField(
        _("Definition"),
        default=dict,
        help_text=_("Models, direction, filter, field mappings, defaults (see fo_templates)."),
    )
    prerequisites = JSONField(
        _("Prerequisite Tasks"), default=list, blank=True,
        help_text=_("Names of tasks that must have run successfully (in any project) before this one may run."),
    )

    class Meta:
        verbose_name = _("Data Integration Template Task")
        verbose_name_plural = _("Data Integration Template Tasks")
        ordering = ["template", "sequence", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["template", "name"], name="integration_templatetask_unique_name"),
        ]

    def __str__(self):
        return self.name


class IntegrationProject(models.Model):
    """A data integration project: a template's tasks, run in order (docs/features.md P1)."""

    name = models.CharField(_("Name"), max_length=100, unique=True)
    template = models.ForeignKey(
        IntegrationTemplate, verbose_name=_("Template"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="projects",
    )
    description = models.TextField(_("Description"), blank=True)
    created_at = models.DateTimeField(_("Created At"), auto_now_add=True)

    class Meta:
        verbose_name = _("Data Integration Project")
        verbose_name_plural = _("Data Integration Projects")
        ordering = ["name"]

    def __str__(self):
        return self.name


class IntegrationProjectTask(models.Model):
    """One task of a project: its own table mapping (filter, field mappings) run in one direction."""

    project = models.ForeignKey(
        IntegrationProject, verbose_name=_("Project"), on_delete=models.CASCADE, related_name="tasks"
    )
    name = models.CharField(_("Task Name"), max_length=60)
    sequence = models.PositiveIntegerField(_("Sequence"), default=10)
    table_mapping = models.OneToOneField(
        IntegrationTableMapping, verbose_name=_("Table Mapping"), on_delete=models.PROTECT, related_name="fo_task",
        help_text=_("The engine mapping this task runs (its filter and field mappings are the task's own)."),
    )
    prerequisites = JSONField(
        _("Prerequisite Tasks"), default=list, blank=True,
        help_text=_("Names of tasks that must have run successfully (in any project) before this one may run."),
    )

    class Meta:
        verbose_name = _("Data Integration Project Task")
        verbose_name_plural = _("Data Integration Project Tasks")
        ordering = ["project", "sequence", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="integration_projecttask_unique_name"),
        ]

    def __str__(self):
        return f"{self.project_id and self.project.name}: {self.name}"


class IntegrationProjectTaskDefault(models.Model):
    """A default value and/or value map for one ERP field of a task (docs/features.md P4).

    The value is, in this order: the value the field mappings produced, when not blank; else the value map's entry
    for the Sales key field (country/region or city), when there is one; else the default value. A required field
    that is still blank fails the row with a message naming the field and the record.
    """

    class KeyField(models.TextChoices):
        NONE = "", _("(no value map)")
        COUNTRY = "address1_country", _("Country/Region")
        CITY = "address1_city", _("City")
        STATE = "address1_stateorprovince", _("State/Province")

    task = models.ForeignKey(
        IntegrationProjectTask, verbose_name=_("Task"), on_delete=models.CASCADE, related_name="defaults"
    )
    erp_field = models.CharField(_("ERP Field"), max_length=100)
    default_value = models.CharField(_("Default Value"), max_length=250, blank=True)
    key_field = models.CharField(
        _("Value Map Keyed On"), max_length=40, choices=KeyField, blank=True, default="",
        help_text=_("The Sales field whose value picks the ERP value from the value map."),
    )
    value_map = JSONField(
        _("Value Map"), default=dict, blank=True,
        help_text=_('Sales value → ERP value, e.g. {"Sweden": "S1", "Norway": "S1"} (case-insensitive keys).'),
    )
    required = models.BooleanField(_("Required in the ERP"), default=False)

    class Meta:
        verbose_name = _("Task Default / Value Map")
        verbose_name_plural = _("Task Defaults / Value Maps")
        ordering = ["task", "erp_field"]
        constraints = [
            models.UniqueConstraint(fields=["task", "erp_field"], name="integration_taskdefault_unique_field"),
        ]

    def __str__(self):
        return self.erp_field

    def clean(self):
        errors = {}
        if not isinstance(self.value_map, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in (self.value_map or {}).items()
        ):
            errors["value_map"] = gettext('A value map is a JSON object of text to text, e.g. {"Sweden": "S1"}.')
        elif self.value_map and not self.key_field:
            errors["key_field"] = gettext("Choose the Sales field the value map is keyed on.")
        if self.task_id:
            model = self.task.table_mapping.erp_model_class()
            try:
                model._meta.get_field(self.erp_field)
            except Exception:
                errors["erp_field"] = gettext("%(model_label)s has no field %(erp_field)s.") % {
                    "model_label": model._meta.label,
                    "erp_field": repr(self.erp_field),
                }
        if errors:
            raise ValidationError(errors)


class IntegrationProjectRun(SaidMessage):
    """One execution of a project (docs/features.md P6: execution history)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("In Process")
        SUCCESS = "success", _("Completed")
        WARNING = "warning", _("Completed with errors")
        ERROR = "error", _("Error")

    project = models.ForeignKey(
        IntegrationProject, verbose_name=_("Project"), on_delete=models.CASCADE, related_name="runs"
    )
    status = models.CharField(_("Status"), max_length=10, choices=Status, default=Status.QUEUED, db_index=True)
    full = models.BooleanField(_("Full Run"), default=False, help_text=_("Read every row, not only those changed."))
    rerun_of = models.ForeignKey(
        "self", verbose_name=_("Re-run Of"), on_delete=models.SET_NULL, null=True, blank=True, related_name="reruns"
    )
    requested_by = models.CharField(_("Requested By"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("Created At"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("Started At"), null=True, blank=True)
    finished_at = models.DateTimeField(_("Finished At"), null=True, blank=True)
    holder = models.CharField(_("Run By"), max_length=64, blank=True, editable=False)  # engine/locks.py, while running

    class Meta:
        verbose_name = _("Data Integration Project Run")
        verbose_name_plural = _("Data Integration Project Runs")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.project_id and self.project.name} #{self.pk}"

    def get_admin_url(self):
        """Its execution history page (p2c.doors links an outcome's runs there)."""
        return reverse("admin:integration_integrationprojectrun_change", args=[self.pk])


class IntegrationProjectTaskRun(SaidMessage):
    """One task of a project run: rows read, upserted, skipped (with reasons), failed (messages in the job)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Not Run")
        RUNNING = "running", _("In Process")
        SUCCESS = "success", _("Completed")
        WARNING = "warning", _("Completed with errors")
        ERROR = "error", _("Error")

    run = models.ForeignKey(
        IntegrationProjectRun, verbose_name=_("Project Run"), on_delete=models.CASCADE, related_name="task_runs"
    )
    task = models.ForeignKey(
        IntegrationProjectTask, verbose_name=_("Task"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="runs",
    )
    task_name = models.CharField(_("Task Name"), max_length=60, db_index=True)
    sequence = models.PositiveIntegerField(_("Sequence"), default=0)
    status = models.CharField(_("Status"), max_length=10, choices=Status, default=Status.PENDING, db_index=True)
    sync_job = models.ForeignKey(
        SyncJob, verbose_name=_("Synch. Job"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    read = models.PositiveIntegerField(_("Read"), default=0)
    upserted = models.PositiveIntegerField(_("Upserted"), default=0)
    inserted = models.PositiveIntegerField(_("Inserted"), default=0)
    modified = models.PositiveIntegerField(_("Modified"), default=0)
    coupled = models.PositiveIntegerField(_("Coupled"), default=0)
    unchanged = models.PositiveIntegerField(_("Unchanged"), default=0)
    skipped = models.PositiveIntegerField(_("Skipped"), default=0)
    failed = models.PositiveIntegerField(_("Failed"), default=0)
    # reason (`job_log.skip_reason_key`: what it means, or a text in an older row) -> how many
    skip_reasons = JSONField(_("Skipped: Reasons"), default=dict, blank=True)
    started_at = models.DateTimeField(_("Started At"), null=True, blank=True)
    finished_at = models.DateTimeField(_("Finished At"), null=True, blank=True)

    class Meta:
        verbose_name = _("Data Integration Task Run")
        verbose_name_plural = _("Data Integration Task Runs")
        ordering = ["run", "sequence", "pk"]

    def __str__(self):
        return f"{self.task_name} ({self.get_status_display()})"


# =====================================================================================================================
# Full synchronisation review (docs/features.md I6; BC table/page 5373 "CRM Full Synch. Review Line") and its runs.
#
# A run snapshots one line per enabled top-level mapping with its recommendation; Celery tasks start each line
# when every line it depends on has finished (or had no records), claim it with a conditional UPDATE so no line
# ever runs twice at once, and record the line's jobs. Logic lives in integration/full_sync/review.py.
# =====================================================================================================================
