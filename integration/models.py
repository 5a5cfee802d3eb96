"""The integration's tables, after Business Central's CRM integration (tables 5330, 5335, 5336, 5331, 5338, 5339).

Directions use BC's words: *to integration table* is ERP → Sales, *from integration table* is Sales → ERP.
"""

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from integration.engine import registry
from p2c.records import Singleton


class Direction(models.TextChoices):
    BIDIRECTIONAL = "bidirectional", "Bidirectional"
    TO_INTEGRATION = "to_integration", "To Integration Table (ERP → Sales)"
    FROM_INTEGRATION = "from_integration", "From Integration Table (Sales → ERP)"


class SyncResult(models.TextChoices):
    NONE = "", " "
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"


class ConnectionSetup(Singleton):
    """The one connection record (BC table 5330, SPEC I1)."""

    is_enabled = models.BooleanField("Is Enabled", default=False)
    integration_user = models.ForeignKey(
        "crm.SystemUser",
        verbose_name="Integration User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Sales user the integration writes as; rows it last modified are never read back from Sales.",
    )
    sales_order_integration_enabled = models.BooleanField("Sales Order Integration Enabled", default=False)
    create_sales_orders_automatically = models.BooleanField("Create Sales Orders Automatically", default=False)
    item_availability_enabled = models.BooleanField("Item Availability Enabled", default=False)
    log_retention_days = models.PositiveIntegerField(
        "Delete Synch. Log Entries Older Than (days)", default=30, validators=[MinValueValidator(1)],
        help_text="The daily clean-up deletes synchronisation jobs, their errors and full synchronisation runs older "
                  "than this; failed jobs that skipped or failed records still point at are kept.",
    )

    class Meta:
        verbose_name = "Connection Setup"
        verbose_name_plural = "Connection Setup"
        permissions = [
            ("run_synchronization", "Can run synchronisation"),
            ("change_couplings", "Can couple and uncouple records"),
        ]

    def __str__(self):
        return "Connection Setup"


class ValueMap(models.Model):
    """ERP values ↔ Sales values (codes ↔ option sets), used by field mappings (SPEC I3, I5)."""

    name = models.CharField("Name", max_length=50, unique=True)
    description = models.CharField("Description", max_length=250, blank=True)

    class Meta:
        verbose_name = "Value Map"
        ordering = ["name"]

    def __str__(self):
        return self.name


class ValueMapEntry(models.Model):
    value_map = models.ForeignKey(ValueMap, verbose_name="Value Map", on_delete=models.CASCADE, related_name="entries")
    erp_value = models.CharField("ERP Value", max_length=250)
    crm_value = models.CharField("Sales Value", max_length=250)

    class Meta:
        verbose_name = "Value Map Entry"
        verbose_name_plural = "Value Map Entries"
        ordering = ["value_map", "erp_value"]
        constraints = [
            models.UniqueConstraint(fields=["value_map", "erp_value"], name="integration_valuemap_unique_erp_value"),
        ]

    def __str__(self):
        return f"{self.erp_value} ↔ {self.crm_value}"


class IntegrationTableMapping(models.Model):
    """Pairs an ERP model with a Sales model (BC table 5335)."""

    class UpdateConflictResolution(models.TextChoices):
        NONE = "", "None"
        SEND_UPDATE = "send_update", "Send data update to integration table (ERP wins)"
        GET_UPDATE = "get_update", "Get data update from integration table (Sales wins)"

    class DeletionConflictResolution(models.TextChoices):
        NONE = "", "None"
        REMOVE_COUPLING = "remove_coupling", "Remove coupling"
        RESTORE_RECORDS = "restore_records", "Restore records"

    name = models.CharField("Name", max_length=30, unique=True)
    # Only the tables the Sales and ERP apps declare synchronisable (integration.engine.registry).
    erp_model = models.CharField(
        "ERP Table", max_length=100, choices=registry.erp_model_choices,
        error_messages={"invalid_choice": "%(value)r is not an ERP table the integration synchronises."},
    )
    crm_model = models.CharField(
        "Sales Table", max_length=100, choices=registry.crm_model_choices,
        error_messages={"invalid_choice": "%(value)r is not a Sales table the integration synchronises."},
    )
    crm_option_field = models.CharField(
        "Sales Option Field",
        max_length=100,
        blank=True,
        help_text="Set for option mappings (payment terms, …): the Sales option set the ERP codes are mapped to.",
    )
    direction = models.CharField("Direction", max_length=20, choices=Direction, default=Direction.BIDIRECTIONAL)
    erp_filter = models.JSONField("ERP Table Filter", default=dict, blank=True)
    crm_filter = models.JSONField("Sales Table Filter", default=dict, blank=True)
    sync_only_coupled = models.BooleanField("Synch. Only Coupled Records", default=True)
    create_new_if_no_match = models.BooleanField("Create New in Case of No Match", default=False)
    sync_after_match_coupling = models.BooleanField("Synch. After Match-Based Coupling", default=False)
    dependencies = models.ManyToManyField(
        "self", verbose_name="Dependencies", symmetrical=False, blank=True, related_name="dependants"
    )
    parent = models.ForeignKey(
        "self", verbose_name="Parent Mapping", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    parent_erp_field = models.CharField("ERP Field to Parent", max_length=100, blank=True)
    parent_crm_field = models.CharField("Sales Field to Parent", max_length=100, blank=True)
    update_conflict_resolution = models.CharField(
        "Resolve Update Conflicts", max_length=20, choices=UpdateConflictResolution, blank=True, default=""
    )
    deletion_conflict_resolution = models.CharField(
        "Resolve Deletion Conflicts", max_length=20, choices=DeletionConflictResolution, blank=True, default=""
    )
    erp_watermark = models.DateTimeField("Last Synch. ERP Modified On", null=True, blank=True)
    crm_watermark = models.DateTimeField("Last Synch. Sales Modified On", null=True, blank=True)
    rules_module = models.CharField(
        "Rules Module", max_length=100, blank=True, choices=registry.rules_module_choices,
        help_text="Module under integration.rules with entity rules.",
        error_messages={"invalid_choice": "%(value)r is not a rules module (integration/rules/)."},
    )
    is_enabled = models.BooleanField("Enabled", default=True)
    realtime_sync = models.BooleanField(
        "Synchronise Changes Within Seconds",
        default=False,
        help_text="Enqueue the synchronisation of a coupled record as soon as its change is committed.",
    )
    sort_order = models.PositiveIntegerField("Order", default=0)
    locked_by = models.CharField("Run In Progress", max_length=64, blank=True, editable=False)
    locked_at = models.DateTimeField("Run Heartbeat", null=True, blank=True, editable=False)
    user_defined = models.BooleanField("User Defined", default=False)
    created_at = models.DateTimeField("Created At", auto_now_add=True)

    class Meta:
        verbose_name = "Integration Table Mapping"
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name

    @property
    def is_option_mapping(self):
        return bool(self.crm_option_field)

    def erp_model_class(self):
        return _model_or_error(self.erp_model, "erp_model")

    def crm_model_class(self):
        return _model_or_error(self.crm_model, "crm_model")

    def directions(self):
        """The one-way directions a run of this mapping goes, in the order BC runs them."""
        if self.direction == Direction.BIDIRECTIONAL:
            return [Direction.TO_INTEGRATION, Direction.FROM_INTEGRATION]
        return [self.direction]

    #: clean() checks the stored field mappings serve the direction; the admin form turns this off because its
    #: field-mapping inline checks the pair with the field mappings being saved (engine.validation).
    check_field_mappings = True

    def clean(self):
        from integration.engine.validation import table_mapping_validate

        table_mapping_validate(mapping=self)

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self.option_direction_carry()

    def option_direction_carry(self):
        """An option mapping's field mappings go its one way (BC: validating Direction copies it to them; the
        full synchronisation review line reads it from the mapping)."""
        if self.is_option_mapping and self.direction != Direction.BIDIRECTIONAL:
            self.field_mappings.exclude(direction=self.direction).update(direction=self.direction)


class IntegrationFieldMapping(models.Model):
    """Pairs a field of the ERP model with a field of the Sales model (BC table 5336)."""

    class Status(models.TextChoices):
        ENABLED = "enabled", "Enabled"
        DISABLED = "disabled", "Disabled"

    class Transformation(models.TextChoices):
        NONE = "", "None"
        UPPERCASE = "upper", "Uppercase"
        LOWERCASE = "lower", "Lowercase"
        TITLECASE = "title", "Title Case"
        TRIM = "trim", "Trim"

    table_mapping = models.ForeignKey(
        IntegrationTableMapping, verbose_name="Table Mapping", on_delete=models.CASCADE, related_name="field_mappings"
    )
    erp_field = models.CharField("ERP Field", max_length=100, blank=True, help_text="Blank: a constant for Sales.")
    crm_field = models.CharField("Sales Field", max_length=100, blank=True, help_text="Blank: a constant for ERP.")
    direction = models.CharField("Direction", max_length=20, choices=Direction, default=Direction.BIDIRECTIONAL)
    constant_value = models.CharField("Constant Value", max_length=250, blank=True)
    default_value = models.CharField(
        "Default Value", max_length=250, blank=True, help_text="Written when the source value is blank."
    )
    validate_field = models.BooleanField("Validate Field", default=True)
    clear_value_on_failed_sync = models.BooleanField("Clear Value on Failed Sync", default=False)
    status = models.CharField("Status", max_length=10, choices=Status, default=Status.ENABLED)
    not_null = models.BooleanField("Not Null", default=False, help_text="Never write an empty value over a value.")
    value_map = models.ForeignKey(
        ValueMap, verbose_name="Value Map", on_delete=models.PROTECT, null=True, blank=True, related_name="field_mappings"
    )
    transformation = models.CharField("Transformation", max_length=10, choices=Transformation, blank=True, default="")
    use_for_match_coupling = models.BooleanField("Use For Match-Based Coupling", default=False)
    match_priority = models.PositiveSmallIntegerField("Match Priority", default=0)
    case_sensitive_matching = models.BooleanField("Case-Sensitive Matching", default=False)
    create_only = models.BooleanField("Only When Creating", default=False)

    class Meta:
        verbose_name = "Integration Field Mapping"
        ordering = ["table_mapping", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(erp_field="", crm_field=""),
                name="integration_fieldmapping_names_a_field",
                violation_error_message="A field mapping names an ERP field, a Sales field, or both.",
            ),
            models.CheckConstraint(
                condition=~models.Q(clear_value_on_failed_sync=True, not_null=True),
                name="integration_fieldmapping_not_null_or_clear",
                violation_error_message="Clear Value on Failed Sync cannot be combined with Not Null.",
            ),
        ]

    def __str__(self):
        return f"{self.erp_field or '(constant)'} ↔ {self.crm_field or '(constant)'}"

    @property
    def is_enabled(self):
        return self.status == self.Status.ENABLED

    def clean(self):
        from integration.engine.validation import field_mapping_validate

        field_mapping_validate(field_mapping=self)

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        mapping = self.table_mapping
        if mapping.is_option_mapping and self.direction not in (Direction.BIDIRECTIONAL, mapping.direction):
            # BC: changing the direction of an option mapping's field mapping changes the table mapping's (and so
            # its other field mappings').
            mapping.direction = self.direction
            IntegrationTableMapping.objects.filter(pk=mapping.pk).update(direction=self.direction)
            mapping.option_direction_carry()


class Coupling(models.Model):
    """Which ERP record is which Sales record (BC table 5331): one row per pair, unique on each side."""

    erp_model = models.CharField("ERP Table", max_length=100)
    crm_model = models.CharField("Sales Table", max_length=100)
    erp_id = models.BigIntegerField("ERP Record")
    crm_id = models.UUIDField("Sales Record")
    last_synced_erp_modified = models.DateTimeField("Last Synch. Modified On", null=True, blank=True)
    last_synced_crm_modified = models.DateTimeField("Last Synch. Sales Modified On", null=True, blank=True)
    last_erp_result = models.CharField(
        "Last Synch. Result", max_length=10, choices=SyncResult, blank=True, default="",
        help_text="Result of the last write into the ERP.",
    )
    last_crm_result = models.CharField(
        "Last Synch. Sales Result", max_length=10, choices=SyncResult, blank=True, default="",
        help_text="Result of the last write into Sales.",
    )
    last_erp_job = models.ForeignKey(
        "integration.SyncJob", verbose_name="Last Synch. Job", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    last_crm_job = models.ForeignKey(
        "integration.SyncJob", verbose_name="Last Synch. Sales Job", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    skipped = models.BooleanField("Skipped", default=False, db_index=True)
    created_at = models.DateTimeField("Coupled At", auto_now_add=True)
    # The mapped field values of both sides as last synchronised ({"erp": {attname: value}, "crm": {…}}), written
    # with the coupling: which side changed which field (engine/conflicts.py). None for couplings older than it.
    synced_values = models.JSONField("Synchronised Values", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "Coupling"
        ordering = ["erp_model", "erp_id"]
        constraints = [
            models.UniqueConstraint(fields=["erp_model", "crm_model", "erp_id"], name="integration_coupling_unique_erp"),
            models.UniqueConstraint(fields=["erp_model", "crm_model", "crm_id"], name="integration_coupling_unique_crm"),
        ]
        indexes = [models.Index(fields=["crm_model", "crm_id"], name="integration_coupling_crm")]

    def __str__(self):
        return f"{self.erp_model} {self.erp_id} ↔ {self.crm_model} {self.crm_id}"


class SyncConflict(models.Model):
    """A coupled pair in conflict, waiting for a person's decision (the conflict inbox, SPEC I5/I7).

    *update*: the same mapped field changed on both sides since the last synchronisation, and no resolution
    policy decides; *deletion*: one side's record was deleted while the coupling stands. Recorded by the engine
    in bulk, cleared when the pair synchronises cleanly or is resolved (integration/operations/conflicts.py).
    """

    class Kind(models.TextChoices):
        UPDATE = "update", "Update conflict"
        DELETION = "deletion", "Deletion conflict"

    coupling = models.OneToOneField(Coupling, verbose_name="Coupling", on_delete=models.CASCADE,
                                    related_name="conflict")
    table_mapping = models.ForeignKey("integration.IntegrationTableMapping", verbose_name="Table Mapping",
                                      on_delete=models.CASCADE, related_name="conflicts")
    kind = models.CharField("Kind", max_length=10, choices=Kind, default=Kind.UPDATE)
    fields = models.JSONField("Fields in Conflict", default=list, blank=True,
                              help_text="The ERP fields (of the mapping's field mappings) changed on both sides.")
    deleted_side = models.CharField("Deleted Side", max_length=3, blank=True, help_text="erp or crm (deletion).")
    since = models.DateTimeField("In Conflict Since", db_index=True)
    job = models.ForeignKey("integration.SyncJob", verbose_name="Integration Synch. Job", on_delete=models.SET_NULL,
                            null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = "Conflict"
        ordering = ["-since", "-id"]
        indexes = [models.Index(fields=["table_mapping", "since"], name="integration_conflict_mapping")]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"


class FailedInsert(models.Model):
    """A source record that could not be created on the other side, so has no coupling to carry its result.

    The next run tries it again even if it has not changed; one that fails with the same message twice in a
    row is skipped until it changes or is restored, as a coupled record would be.
    """

    erp_model = models.CharField("ERP Table", max_length=100)
    crm_model = models.CharField("Sales Table", max_length=100)
    direction = models.CharField("Synch. Direction", max_length=20, choices=Direction)
    source_id = models.CharField("Source Record", max_length=64)
    message = models.TextField("Error Message")
    job = models.ForeignKey(
        "integration.SyncJob", verbose_name="Last Synch. Job", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    skipped = models.BooleanField("Skipped", default=False)
    failed_at = models.DateTimeField("Failed At")

    class Meta:
        verbose_name = "Failed Insert"
        constraints = [
            models.UniqueConstraint(fields=["erp_model", "crm_model", "direction", "source_id"],
                                    name="integration_failedinsert_unique"),
        ]

    def __str__(self):
        return f"{self.source_id}: {self.message[:80]}"

    @property
    def source_model(self):
        return self.erp_model if self.direction == Direction.TO_INTEGRATION else self.crm_model


class SyncJob(models.Model):
    """One run of one mapping in one direction (BC table 5338)."""

    class Type(models.TextChoices):
        SYNCHRONIZATION = "synchronization", "Synchronization"
        COUPLING = "coupling", "Coupling"
        UNCOUPLING = "uncoupling", "Uncoupling"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "In Process"
        SUCCESS = "success", "Success"
        ERROR = "error", "Error"
        FAILED = "failed", "Failed"

    table_mapping = models.ForeignKey(
        IntegrationTableMapping, verbose_name="Table Mapping", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="jobs",
    )
    mapping_name = models.CharField("Integration Table Mapping Name", max_length=30, db_index=True)
    type = models.CharField("Type", max_length=20, choices=Type, default=Type.SYNCHRONIZATION)
    direction = models.CharField("Synch. Direction", max_length=20, choices=Direction)
    status = models.CharField("Status", max_length=10, choices=Status, default=Status.QUEUED, db_index=True)
    full = models.BooleanField("Full Synchronization", default=False)
    dry_run = models.BooleanField("Dry Run", default=False)
    created_at = models.DateTimeField("Created At", auto_now_add=True, db_index=True)
    started_at = models.DateTimeField("Start Date/Time", null=True, blank=True)
    finished_at = models.DateTimeField("Finish Date/Time", null=True, blank=True)
    message = models.TextField("Message", blank=True)
    inserted = models.PositiveIntegerField("Inserted", default=0)
    modified = models.PositiveIntegerField("Modified", default=0)
    deleted = models.PositiveIntegerField("Deleted", default=0)
    unchanged = models.PositiveIntegerField("Unchanged", default=0)
    skipped = models.PositiveIntegerField("Skipped", default=0)
    failed = models.PositiveIntegerField("Failed", default=0)
    coupled = models.PositiveIntegerField("Coupled", default=0)
    uncoupled = models.PositiveIntegerField("Uncoupled", default=0)
    report = models.JSONField("Report", default=list, blank=True, help_text="Dry run: what would change, field by field.")
    # The run holding the job while it runs (engine/locks.py): a running job whose holder is gone is closed as failed.
    holder = models.CharField("Run By", max_length=64, blank=True, editable=False)

    COUNTERS = ("inserted", "modified", "deleted", "unchanged", "skipped", "failed", "coupled", "uncoupled")

    class Meta:
        verbose_name = "Integration Synch. Job"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.mapping_name} {self.get_direction_display()} #{self.pk}"

    def counts(self):
        return {name: getattr(self, name) for name in self.COUNTERS}

    def get_admin_url(self):
        """The job's admin page (the doors link the jobs an operation started)."""
        from django.urls import reverse

        return reverse("admin:integration_syncjob_change", args=[self.pk])


class SyncJobError(models.Model):
    """A record that failed in a job (BC table 5339)."""

    job = models.ForeignKey(SyncJob, verbose_name="Integration Synch. Job", on_delete=models.CASCADE, related_name="errors")
    source_model = models.CharField("Source Table", max_length=100)
    source_id = models.CharField("Source Record", max_length=64, db_index=True)
    destination_model = models.CharField("Destination Table", max_length=100, blank=True)
    destination_id = models.CharField("Destination Record", max_length=64, blank=True)
    message = models.TextField("Error Message")
    created_at = models.DateTimeField("Date/Time", auto_now_add=True)

    class Meta:
        verbose_name = "Integration Synch. Job Error"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.message[:120]


class SyncJobRecord(models.Model):
    """A record a queued job was given ("Create in Sales", "Synchronise now" of a selection), on either side.

    What lets the Sales and ERP lists show a record *queued* while its job waits or runs, and *failed* when that
    job fails as a whole (before any of its records got a result of its own). Bulk-created with the job
    (integration.background); deleted when the job ends with results per record, kept with a job that failed as
    a whole and deleted with it.
    """

    job = models.ForeignKey(SyncJob, verbose_name="Integration Synch. Job", on_delete=models.CASCADE,
                            related_name="records")
    model = models.CharField("Table", max_length=100)
    record_id = models.CharField("Record", max_length=64)

    class Meta:
        verbose_name = "Integration Synch. Job Record"
        indexes = [models.Index(fields=["model", "record_id"], name="integration_jobrecord_record")]

    def __str__(self):
        return f"{self.model} {self.record_id} in job #{self.job_id}"


def _model_or_error(label, field):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError) as exc:
        raise ValidationError({field: f"{label!r} is not a model (use app_label.ModelName)."}) from exc


# =====================================================================================================================
# Finance and Operations "prospect to cash" data integration (SPEC P1-P6): templates, projects, tasks, runs.
#
# A project is made from a template and holds ordered tasks. Each task *owns* an IntegrationTableMapping (the
# engine's mapping, run in the task's one direction with the task's filter and field mappings) plus its default
# values and value maps (`IntegrationProjectTaskDefault`). A run of a project is recorded per task (P6).
# Logic lives in integration/fo_templates.py and integration/fo_projects.py.
# =====================================================================================================================
class IntegrationTemplate(models.Model):
    """A Data Integrator template (shipped as data in integration/fo_templates.py)."""

    name = models.CharField("Name", max_length=100, unique=True)
    description = models.TextField("Description", blank=True)
    builtin = models.BooleanField("Shipped With p2c", default=False)

    class Meta:
        verbose_name = "Data Integration Template"
        ordering = ["name"]

    def __str__(self):
        return self.name


class IntegrationTemplateTask(models.Model):
    """A task of a template: what a project task's table mapping, field mappings and defaults are made from."""

    template = models.ForeignKey(
        IntegrationTemplate, verbose_name="Template", on_delete=models.CASCADE, related_name="tasks"
    )
    name = models.CharField("Task Name", max_length=60)
    sequence = models.PositiveIntegerField("Sequence", default=10)
    definition = models.JSONField(
        "Definition", default=dict, help_text="Models, direction, filter, field mappings, defaults (see fo_templates)."
    )
    prerequisites = models.JSONField(
        "Prerequisite Tasks", default=list, blank=True,
        help_text="Names of tasks that must have run successfully (in any project) before this one may run.",
    )

    class Meta:
        verbose_name = "Data Integration Template Task"
        ordering = ["template", "sequence", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["template", "name"], name="integration_templatetask_unique_name"),
        ]

    def __str__(self):
        return self.name


class IntegrationProject(models.Model):
    """A data integration project: a template's tasks, run in order (SPEC P1)."""

    name = models.CharField("Name", max_length=100, unique=True)
    template = models.ForeignKey(
        IntegrationTemplate, verbose_name="Template", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="projects",
    )
    description = models.TextField("Description", blank=True)
    created_at = models.DateTimeField("Created At", auto_now_add=True)

    class Meta:
        verbose_name = "Data Integration Project"
        ordering = ["name"]

    def __str__(self):
        return self.name


class IntegrationProjectTask(models.Model):
    """One task of a project: its own table mapping (filter, field mappings) run in one direction."""

    project = models.ForeignKey(
        IntegrationProject, verbose_name="Project", on_delete=models.CASCADE, related_name="tasks"
    )
    name = models.CharField("Task Name", max_length=60)
    sequence = models.PositiveIntegerField("Sequence", default=10)
    table_mapping = models.OneToOneField(
        IntegrationTableMapping, verbose_name="Table Mapping", on_delete=models.PROTECT, related_name="fo_task",
        help_text="The engine mapping this task runs (its filter and field mappings are the task's own).",
    )
    prerequisites = models.JSONField(
        "Prerequisite Tasks", default=list, blank=True,
        help_text="Names of tasks that must have run successfully (in any project) before this one may run.",
    )

    class Meta:
        verbose_name = "Data Integration Project Task"
        ordering = ["project", "sequence", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="integration_projecttask_unique_name"),
        ]

    def __str__(self):
        return f"{self.project_id and self.project.name}: {self.name}"


class IntegrationProjectTaskDefault(models.Model):
    """A default value and/or value map for one ERP field of a task (SPEC P4).

    The value is, in this order: the value the field mappings produced, when not blank; else the value map's entry
    for the Sales key field (country/region or city), when there is one; else the default value. A required field
    that is still blank fails the row with a message naming the field and the record.
    """

    class KeyField(models.TextChoices):
        NONE = "", "(no value map)"
        COUNTRY = "address1_country", "Country/Region"
        CITY = "address1_city", "City"
        STATE = "address1_stateorprovince", "State/Province"

    task = models.ForeignKey(
        IntegrationProjectTask, verbose_name="Task", on_delete=models.CASCADE, related_name="defaults"
    )
    erp_field = models.CharField("ERP Field", max_length=100)
    default_value = models.CharField("Default Value", max_length=250, blank=True)
    key_field = models.CharField(
        "Value Map Keyed On", max_length=40, choices=KeyField, blank=True, default="",
        help_text="The Sales field whose value picks the ERP value from the value map.",
    )
    value_map = models.JSONField(
        "Value Map", default=dict, blank=True,
        help_text='Sales value → ERP value, e.g. {"Sweden": "S1", "Norway": "S1"} (case-insensitive keys).',
    )
    required = models.BooleanField("Required in the ERP", default=False)

    class Meta:
        verbose_name = "Task Default / Value Map"
        verbose_name_plural = "Task Defaults / Value Maps"
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
            errors["value_map"] = 'A value map is a JSON object of text to text, e.g. {"Sweden": "S1"}.'
        elif self.value_map and not self.key_field:
            errors["key_field"] = "Choose the Sales field the value map is keyed on."
        if self.task_id:
            model = self.task.table_mapping.erp_model_class()
            try:
                model._meta.get_field(self.erp_field)
            except Exception:
                errors["erp_field"] = f"{model._meta.label} has no field {self.erp_field!r}."
        if errors:
            raise ValidationError(errors)


class IntegrationProjectRun(models.Model):
    """One execution of a project (SPEC P6: execution history)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "In Process"
        SUCCESS = "success", "Completed"
        WARNING = "warning", "Completed with errors"
        ERROR = "error", "Error"

    project = models.ForeignKey(
        IntegrationProject, verbose_name="Project", on_delete=models.CASCADE, related_name="runs"
    )
    status = models.CharField("Status", max_length=10, choices=Status, default=Status.QUEUED, db_index=True)
    full = models.BooleanField("Full Run", default=False, help_text="Read every row, not only those changed.")
    rerun_of = models.ForeignKey(
        "self", verbose_name="Re-run Of", on_delete=models.SET_NULL, null=True, blank=True, related_name="reruns"
    )
    requested_by = models.CharField("Requested By", max_length=150, blank=True)
    created_at = models.DateTimeField("Created At", auto_now_add=True, db_index=True)
    started_at = models.DateTimeField("Started At", null=True, blank=True)
    finished_at = models.DateTimeField("Finished At", null=True, blank=True)
    message = models.TextField("Message", blank=True)
    holder = models.CharField("Run By", max_length=64, blank=True, editable=False)  # engine/locks.py, while running

    class Meta:
        verbose_name = "Data Integration Project Run"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.project_id and self.project.name} #{self.pk}"

    def get_admin_url(self):
        """Its execution history page (p2c.doors links an outcome's runs there)."""
        from django.urls import reverse

        return reverse("admin:integration_integrationprojectrun_change", args=[self.pk])


class IntegrationProjectTaskRun(models.Model):
    """One task of a project run: rows read, upserted, skipped (with reasons), failed (messages in the job)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Not Run"
        RUNNING = "running", "In Process"
        SUCCESS = "success", "Completed"
        WARNING = "warning", "Completed with errors"
        ERROR = "error", "Error"

    run = models.ForeignKey(
        IntegrationProjectRun, verbose_name="Project Run", on_delete=models.CASCADE, related_name="task_runs"
    )
    task = models.ForeignKey(
        IntegrationProjectTask, verbose_name="Task", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="runs",
    )
    task_name = models.CharField("Task Name", max_length=60, db_index=True)
    sequence = models.PositiveIntegerField("Sequence", default=0)
    status = models.CharField("Status", max_length=10, choices=Status, default=Status.PENDING, db_index=True)
    sync_job = models.ForeignKey(
        SyncJob, verbose_name="Synch. Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    read = models.PositiveIntegerField("Read", default=0)
    upserted = models.PositiveIntegerField("Upserted", default=0)
    inserted = models.PositiveIntegerField("Inserted", default=0)
    modified = models.PositiveIntegerField("Modified", default=0)
    coupled = models.PositiveIntegerField("Coupled", default=0)
    unchanged = models.PositiveIntegerField("Unchanged", default=0)
    skipped = models.PositiveIntegerField("Skipped", default=0)
    failed = models.PositiveIntegerField("Failed", default=0)
    skip_reasons = models.JSONField("Skipped: Reasons", default=dict, blank=True)
    started_at = models.DateTimeField("Started At", null=True, blank=True)
    finished_at = models.DateTimeField("Finished At", null=True, blank=True)
    message = models.TextField("Message", blank=True)

    class Meta:
        verbose_name = "Data Integration Task Run"
        ordering = ["run", "sequence", "pk"]

    def __str__(self):
        return f"{self.task_name} ({self.get_status_display()})"


# =====================================================================================================================
# Full synchronisation review (SPEC I6; BC table/page 5373 "CRM Full Synch. Review Line") and its runs.
#
# A run snapshots one line per enabled top-level mapping with its recommendation; Celery tasks start each line
# when every line it depends on has finished (or had no records), claim it with a conditional UPDATE so no line
# ever runs twice at once, and record the line's jobs. Logic lives in integration/full_sync.py.
# =====================================================================================================================
class FullSyncRun(models.Model):
    """One full synchronisation of every mapping, in dependency order."""

    class Status(models.TextChoices):
        RUNNING = "running", "In Process"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    status = models.CharField("Status", max_length=10, choices=Status, default=Status.RUNNING, db_index=True)
    started_at = models.DateTimeField("Started At", auto_now_add=True)
    finished_at = models.DateTimeField("Finished At", null=True, blank=True)
    started_by = models.ForeignKey(
        "auth.User", verbose_name="Started By", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    restarts = models.PositiveIntegerField("Restarts", default=0)
    restarted_at = models.DateTimeField("Last Restarted At", null=True, blank=True)
    message = models.TextField("Message", blank=True)

    class Meta:
        verbose_name = "Full Synchronization Run"
        ordering = ["-started_at", "-id"]
        constraints = [
            # At most one run in process: two clicks on Start cannot start two runs.
            models.UniqueConstraint(
                fields=["status"], condition=models.Q(status="running"), name="integration_fullsyncrun_one_running"
            ),
        ]

    def __str__(self):
        return f"Full synchronization #{self.pk} ({self.get_status_display()})"

    def get_admin_url(self):
        """The full synchronisation review, which shows the latest run (p2c.doors links an outcome's run there)."""
        from django.urls import reverse

        return reverse("admin:integration_full_sync_review")


class FullSyncLine(models.Model):
    """One mapping of a full synchronisation run (BC table 5373)."""

    class Recommendation(models.TextChoices):
        FULL = "full_synchronization", "Full Synchronization"
        COUPLE = "couple_records", "Couple Records"
        NO_RECORDS = "no_records", "No Records To Synchronize Now"
        DEPENDENCY = "dependency_not_satisfied", "Dependency not satisfied"

    class State(models.TextChoices):
        NOT_STARTED = "", " "
        WAITING = "waiting", "Waiting"
        RUNNING = "running", "In Process"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    run = models.ForeignKey(FullSyncRun, verbose_name="Run", on_delete=models.CASCADE, related_name="lines")
    mapping = models.ForeignKey(
        IntegrationTableMapping, verbose_name="Table Mapping", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    mapping_name = models.CharField("Name", max_length=30)
    position = models.PositiveIntegerField("Position", default=0)
    dependencies = models.JSONField("Dependency Filter", default=list, blank=True)
    recommendation = models.CharField("Initial Synch Recommendation", max_length=30, choices=Recommendation)
    state = models.CharField("Job Queue Entry Status", max_length=10, choices=State, blank=True, default="")
    claim = models.CharField("Claimed By", max_length=64, blank=True, editable=False)
    to_job = models.ForeignKey(
        SyncJob, verbose_name="To Int. Table Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_job = models.ForeignKey(
        SyncJob, verbose_name="From Int. Table Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    coupling_job = models.ForeignKey(
        SyncJob, verbose_name="Coupling Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField("Started At", null=True, blank=True)
    finished_at = models.DateTimeField("Finished At", null=True, blank=True)
    message = models.TextField("Message", blank=True)

    class Meta:
        verbose_name = "Full Synchronization Review Line"
        ordering = ["run", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "mapping_name"], name="integration_fullsyncline_unique_mapping"),
        ]

    def __str__(self):
        return f"{self.mapping_name} ({self.get_state_display().strip() or 'not started'})"
