"""Full synchronisation runs and their per-mapping lines."""

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from integration.models.jobs import SaidMessage, SyncJob
from integration.models.mappings import IntegrationTableMapping
from p2c.fields import JSONField


class FullSyncRun(SaidMessage):
    """One full synchronisation of every mapping, in dependency order."""

    class Status(models.TextChoices):
        RUNNING = "running", _("In Process")
        FINISHED = "finished", _("Finished")
        FAILED = "failed", _("Failed")

    status = models.CharField(_("Status"), max_length=10, choices=Status, default=Status.RUNNING, db_index=True)
    started_at = models.DateTimeField(_("Started At"), auto_now_add=True)
    finished_at = models.DateTimeField(_("Finished At"), null=True, blank=True)
    started_by = models.ForeignKey(
        "auth.User", verbose_name=_("Started By"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    restarts = models.PositiveIntegerField(_("Restarts"), default=0)
    restarted_at = models.DateTimeField(_("Last Restarted At"), null=True, blank=True)

    class Meta:
        verbose_name = _("Full Synchronization Run")
        verbose_name_plural = _("Full Synchronization Runs")
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


class FullSyncLine(SaidMessage):
    """One mapping of a full synchronisation run (BC table 5373)."""

    class Recommendation(models.TextChoices):
        FULL = "full_synchronization", _("Full Synchronization")
        # (BC's "Couple Records": here Start does it, matching the records of both sides before it synchronises)
        COUPLE = "couple_records", _("Start couples the records that match, then synchronises")
        NO_RECORDS = "no_records", _("No Records To Synchronize Now")
        DEPENDENCY = "dependency_not_satisfied", _("Dependency not satisfied")

    class State(models.TextChoices):
        NOT_STARTED = "", " "
        WAITING = "waiting", _("Waiting")
        RUNNING = "running", _("In Process")
        FINISHED = "finished", _("Finished")
        FAILED = "failed", _("Failed")

    run = models.ForeignKey(FullSyncRun, verbose_name=_("Run"), on_delete=models.CASCADE, related_name="lines")
    mapping = models.ForeignKey(
        IntegrationTableMapping, verbose_name=_("Table Mapping"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    mapping_name = models.CharField(_("Name"), max_length=30)
    position = models.PositiveIntegerField(_("Position"), default=0)
    dependencies = JSONField(_("Dependency Filter"), default=list, blank=True)
    recommendation = models.CharField(_("Initial Synch Recommendation"), max_length=30, choices=Recommendation)
    state = models.CharField(_("Job Queue Entry Status"), max_length=10, choices=State, blank=True, default="")
    claim = models.CharField(_("Claimed By"), max_length=64, blank=True, editable=False)
    to_job = models.ForeignKey(
        SyncJob, verbose_name=_("To Int. Table Job"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_job = models.ForeignKey(
        SyncJob,
        verbose_name=_("From Int. Table Job"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    coupling_job = models.ForeignKey(
        SyncJob, verbose_name=_("Coupling Job"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(_("Started At"), null=True, blank=True)
    finished_at = models.DateTimeField(_("Finished At"), null=True, blank=True)

    class Meta:
        verbose_name = _("Full Synchronization Review Line")
        verbose_name_plural = _("Full Synchronization Review Lines")
        ordering = ["run", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "mapping_name"], name="integration_fullsyncline_unique_mapping"),
        ]

    def __str__(self):
        return f"{self.mapping_name} ({self.get_state_display().strip() or 'not started'})"
