"""Partitions of one mapping's run (docs/decisions.md#partitions): a large run of one mapping in one direction (its
SyncJob) split into key ranges that any worker claims, runs and commits; the job finishes, and the watermark moves, when
all are done. Logic lives in integration/full_sync/partitions.py."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from integration.models.jobs import SyncJob
from p2c.fields import JSONField
from p2c.said import said_text


class SyncPartition(models.Model):
    """One key range ``low <= pk < high`` (empty: open end) of a partitioned synchronisation job."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("In Process")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    job = models.ForeignKey(SyncJob, verbose_name=_("Integration Synch. Job"), on_delete=models.CASCADE,
                            related_name="partitions")
    position = models.PositiveIntegerField(_("Position"))
    low = models.CharField(_("From Key"), max_length=64, blank=True, help_text=_("Empty: from the first row."))
    high = models.CharField(_("To Key (excluded)"), max_length=64, blank=True, help_text=_("Empty: to the last row."))
    state = models.CharField(_("State"), max_length=10, choices=State, default=State.PENDING, db_index=True)
    # The worker running it (engine/locks.py holder) and its heartbeat: a claim whose holder died is taken over.
    claim = models.CharField(_("Claimed By"), max_length=64, blank=True, editable=False)
    heartbeat = models.DateTimeField(_("Heartbeat"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("Attempts"), default=0)
    create_new = models.BooleanField(
        _("Create New"), null=True, blank=True, help_text=_("Empty: the mapping's setting.")
    )
    # Asked once per run by the coordinator (an anti-join over the whole destination table): asked per partition,
    # it made a first load quadratic. Empty: the partition asks itself.
    destinations_uncoupled = models.BooleanField(
        _("Uncoupled Destinations"), null=True, blank=True, editable=False,
        help_text=_("Whether the destination had rows without a coupling when the run started (only then is matching "
                  "worth a query)."))
    # A run that matches (the destination has uncoupled rows) decides its uncoupled source rows in one partition,
    # run first by the coordinator, in the order one process reads them, so that two workers never match two
    # source rows to one destination row; the other partitions then take the coupled rows. Empty: every row.
    rows_coupled = models.BooleanField(
        _("Coupled Rows"), null=True, blank=True, editable=False,
        help_text=_("Yes: only the rows coupled when it runs; No: only the uncoupled rows, matched or created in "
                    "key order by one worker; empty: every row of its range."))
    rows = models.PositiveIntegerField(_("Rows Read"), default=0)
    counts = JSONField(_("Counts"), default=dict, blank=True)
    skips = JSONField(_("Skip Reasons"), default=dict, blank=True)
    max_seen = models.DateTimeField(_("Largest Modified On Read"), null=True, blank=True)
    started_at = models.DateTimeField(_("Started At"), null=True, blank=True)
    finished_at = models.DateTimeField(_("Finished At"), null=True, blank=True)
    message = models.TextField(_("Message"), blank=True)
    # The message as what it means (p2c.said), as SyncJob.message_data; ``message`` the fallback for older rows.
    message_data = JSONField(_("Message (as stored)"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("Synchronization Partition")
        verbose_name_plural = _("Synchronization Partitions")
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="integration_syncpartition_unique_position"),
        ]

    def __str__(self):
        return f"{self.job_id} #{self.position} [{self.low or '…'}, {self.high or '…'}) {self.state}"

    @property
    def message_text(self):
        """The message in the active language (the reader's)."""
        return said_text(self.message_data, self.message)
