"""Synchronisation jobs, their errors and the records they touched (BC tables 5338, 5339)."""

from django.db import models
from django.urls import reverse

from integration.models.mappings import Direction, IntegrationTableMapping


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
    (integration.queue); deleted when the job ends with results per record, kept with a job that failed as
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
