"""Full synchronisation runs and their per-mapping lines."""

from django.db import models
from django.urls import reverse

from integration.models.jobs import SyncJob
from integration.models.mappings import IntegrationTableMapping


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
