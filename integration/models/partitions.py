"""Partitions of one mapping's run (issue 17): a large run of one mapping in one direction (its SyncJob) split into
key ranges that any worker claims, runs and commits; the job finishes, and the watermark moves, when all are done.
Logic lives in integration/partitions.py."""

from django.db import models

from integration.models.jobs import SyncJob


class SyncPartition(models.Model):
    """One key range ``low <= pk < high`` (empty: open end) of a partitioned synchronisation job."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "In Process"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    job = models.ForeignKey(SyncJob, verbose_name="Integration Synch. Job", on_delete=models.CASCADE,
                            related_name="partitions")
    position = models.PositiveIntegerField("Position")
    low = models.CharField("From Key", max_length=64, blank=True, help_text="Empty: from the first row.")
    high = models.CharField("To Key (excluded)", max_length=64, blank=True, help_text="Empty: to the last row.")
    state = models.CharField("State", max_length=10, choices=State, default=State.PENDING, db_index=True)
    # The worker running it (engine/locks.py holder) and its heartbeat: a claim whose holder died is taken over.
    claim = models.CharField("Claimed By", max_length=64, blank=True, editable=False)
    heartbeat = models.DateTimeField("Heartbeat", null=True, blank=True)
    attempts = models.PositiveIntegerField("Attempts", default=0)
    create_new = models.BooleanField("Create New", null=True, blank=True, help_text="Empty: the mapping's setting.")
    # Asked once per run by the coordinator (an anti-join over the whole destination table): asked per partition,
    # it made a first load quadratic. Empty: the partition asks itself.
    destinations_uncoupled = models.BooleanField(
        "Uncoupled Destinations", null=True, blank=True, editable=False,
        help_text="Whether the destination had rows without a coupling when the run started (only then is matching "
                  "worth a query).")
    rows = models.PositiveIntegerField("Rows Read", default=0)
    counts = models.JSONField("Counts", default=dict, blank=True)
    skips = models.JSONField("Skip Reasons", default=dict, blank=True)
    max_seen = models.DateTimeField("Largest Modified On Read", null=True, blank=True)
    started_at = models.DateTimeField("Started At", null=True, blank=True)
    finished_at = models.DateTimeField("Finished At", null=True, blank=True)
    message = models.TextField("Message", blank=True)

    class Meta:
        verbose_name = "Synchronization Partition"
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="integration_syncpartition_unique_position"),
        ]

    def __str__(self):
        return f"{self.job_id} #{self.position} [{self.low or '…'}, {self.high or '…'}) {self.state}"
