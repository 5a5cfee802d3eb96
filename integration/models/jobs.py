"""Synchronisation jobs, their errors and the records they touched (BC tables 5338, 5339)."""

from django.db import models
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from integration.models.mappings import Direction, IntegrationTableMapping
from p2c.fields import JSONField
from p2c.said import said_columns, said_stored, said_text


class SaidMessage(models.Model):
    """A ``message`` stored as what it means (p2c.said): ``message_data``, told in the reader's language by
    `message_text`; ``message`` its text in the writer's language, the fallback for older rows and what a search
    matches. A job's, a full synchronisation run's and its lines'."""

    message = models.TextField(_("Message"), blank=True)
    message_data = JSONField(_("Message (as stored)"), null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def message_text(self):
        """The message in the active language (the reader's)."""
        return said_text(self.message_data, self.message)

    def message_set(self, value):
        """Store ``value`` (a `p2c.said.Said` or a text) as what it means, and as text in the active language."""
        self.message, self.message_data = said_stored(value)


class SyncJobQuerySet(models.QuerySet):
    """The life of jobs changed in one conditional UPDATE, where a race decides (a worker that died, a task run
    twice, two workers closing one partitioned job): each returns how many jobs it changed. With `SyncJob`'s own
    methods these are the only writers of a job's status."""

    def create_running(self, *, holder, **fields):
        """A job created running, with its holder, in one statement: a process killed right after still leaves a
        job the next run closes as failed (engine/locks.py), not one queued for ever."""
        return self.create(status=SyncJob.Status.RUNNING, holder=holder, started_at=timezone.now(), **fields)

    def fail(self, message):
        """Close the jobs as failed with ``message`` (a `p2c.said.Said` or a text)."""
        return self.update(status=SyncJob.Status.FAILED, finished_at=timezone.now(), **said_columns(message))

    def finish(self, message, *, rows_failed):
        """Close the jobs as done with ``message``: an error when some of their rows failed (``rows_failed``)."""
        status = SyncJob.Status.ERROR if rows_failed else SyncJob.Status.SUCCESS
        return self.update(status=status, finished_at=timezone.now(), **said_columns(message))

    def requeue(self):
        """Queued again (a task that will retry): not started."""
        return self.update(status=SyncJob.Status.QUEUED, started_at=None)

    def counts_add(self, counts):
        """Add ``counts`` (counter → rows) to the jobs' counters in the database (`F()`: a partition's share)."""
        return self.update(**{name: F(name) + n for name, n in counts.items() if n})


class SyncJob(SaidMessage):
    """One run of one mapping in one direction (BC table 5338).

    Its life: created queued (`integration.queue`) or running (`SyncJobQuerySet.create_running`), then `start`,
    `add_counts` as chunks commit, and `finish` or `fail`. Those methods, and `SyncJobQuerySet`'s for the
    conditional closes, are the only writers of its ``status``."""

    class Type(models.TextChoices):
        SYNCHRONIZATION = "synchronization", _("Synchronization")
        COUPLING = "coupling", _("Coupling")
        UNCOUPLING = "uncoupling", _("Uncoupling")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("In Process")
        SUCCESS = "success", _("Success")
        ERROR = "error", _("Error")
        FAILED = "failed", _("Failed")

    table_mapping = models.ForeignKey(
        IntegrationTableMapping, verbose_name=_("Table Mapping"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="jobs",
    )
    mapping_name = models.CharField(_("Integration Table Mapping Name"), max_length=30, db_index=True)
    type = models.CharField(_("Type"), max_length=20, choices=Type, default=Type.SYNCHRONIZATION)
    direction = models.CharField(_("Synch. Direction"), max_length=20, choices=Direction)
    status = models.CharField(_("Status"), max_length=10, choices=Status, default=Status.QUEUED, db_index=True)
    full = models.BooleanField(_("Full Synchronization"), default=False)
    # A run of selected records ("Synchronise now" of a record or a selection) is no full synchronisation, though it
    # writes them whatever changed: how many it was given, told by `scope`.
    records_given = models.PositiveIntegerField(
        _("Records Given"), null=True, blank=True,
        help_text=_("A run of selected records: how many it was given. Empty: a run of the whole mapping."))
    dry_run = models.BooleanField(_("Dry Run"), default=False)
    created_at = models.DateTimeField(_("Created At"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("Start Date/Time"), null=True, blank=True)
    finished_at = models.DateTimeField(_("Finish Date/Time"), null=True, blank=True)
    inserted = models.PositiveIntegerField(_("Inserted"), default=0)
    modified = models.PositiveIntegerField(_("Modified"), default=0)
    deleted = models.PositiveIntegerField(_("Deleted"), default=0)
    unchanged = models.PositiveIntegerField(_("Unchanged"), default=0)
    skipped = models.PositiveIntegerField(_("Skipped"), default=0)
    failed = models.PositiveIntegerField(_("Failed"), default=0)
    coupled = models.PositiveIntegerField(_("Coupled"), default=0)
    uncoupled = models.PositiveIntegerField(_("Uncoupled"), default=0)
    report = JSONField(
        _("Report"), default=list, blank=True, help_text=_("Dry run: what would change, field by field.")
    )
    # The run holding the job while it runs (engine/locks.py): a running job whose holder is gone is closed as failed.
    holder = models.CharField(_("Run By"), max_length=64, blank=True, editable=False)

    COUNTERS = ("inserted", "modified", "deleted", "unchanged", "skipped", "failed", "coupled", "uncoupled")

    objects = SyncJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("Integration Synch. Job")
        verbose_name_plural = _("Integration Synch. Jobs")
        ordering = ["-created_at", "-id"]
        # The health page's last job of each mapping and direction (integration/health/reads.py), whatever the
        # log's size.
        indexes = [models.Index(fields=["table_mapping", "direction", "-created_at"], name="integration_job_last")]

    def __str__(self):
        return f"{self.mapping_name} {self.get_direction_display()} #{self.pk}"

    @property
    def scope(self):
        """What the job ran over, as a person reads it: selected records, everything, or the changes."""
        if self.records_given is not None:
            return ngettext("Run of %(count)s selected record", "Run of %(count)s selected records",
                            self.records_given) % {"count": self.records_given}
        return gettext("Full synchronisation") if self.full else gettext("Changes since the last run")

    def counts(self):
        return {name: getattr(self, name) for name in self.COUNTERS}

    # -- its life --------------------------------------------------------------------------------------------------
    def start(self, *, holder=None, started_at=None, save=True):
        """Running from now (or from ``started_at``, a resumed run's start), held by ``holder`` when given (a job
        whose holder dies is closed as failed, engine/locks.py); no message, not finished."""
        self.status, self.started_at = self.Status.RUNNING, started_at or timezone.now()
        self.finished_at, self.message, self.message_data = None, "", None
        if holder is not None:
            self.holder = holder
        if save:
            self.save(update_fields=["status", "started_at", "finished_at", "message", "message_data", "holder"])

    def add_counts(self, counts, *, save=True):
        """Add ``counts`` (counter → rows) to the job's counters; saved (the counters only) unless ``save`` is
        False: a killed run's job still tells what it committed."""
        for name, n in counts.items():
            setattr(self, name, getattr(self, name) + n)
        if save:
            self.save(update_fields=list(self.COUNTERS))

    def finish(self, message, *, limit=None, save=True):
        """Done, with ``message`` (a `p2c.said.Said` or a text, its text cut at ``limit`` characters): an error
        when some rows failed, else a success."""
        self._close(self.Status.ERROR if self.failed else self.Status.SUCCESS, message, limit=limit, save=save)

    def fail(self, message, *, save=True):
        """Failed as a whole, with ``message`` (a `p2c.said.Said` or a text); a job never started starts now."""
        self.started_at = self.started_at or timezone.now()
        self._close(self.Status.FAILED, message, save=save)

    def _close(self, status, message, *, limit=None, save):
        self.status, self.finished_at = status, timezone.now()
        self.message_set(message)
        if limit:
            self.message = self.message[:limit]
        if save:
            self.save()

    def get_admin_url(self):
        """The job's admin page (the doors link the jobs an operation started)."""
        return reverse("admin:integration_syncjob_change", args=[self.pk])


class SyncJobError(models.Model):
    """A record that failed in a job (BC table 5339)."""

    job = models.ForeignKey(
        SyncJob, verbose_name=_("Integration Synch. Job"), on_delete=models.CASCADE, related_name="errors"
    )
    source_model = models.CharField(_("Source Table"), max_length=100)
    source_id = models.CharField(_("Source Record"), max_length=64, db_index=True)
    destination_model = models.CharField(_("Destination Table"), max_length=100, blank=True)
    destination_id = models.CharField(_("Destination Record"), max_length=64, blank=True)
    message = models.TextField(_("Error Message"))
    # The message as what it means (p2c.said), as SyncJob.message_data; ``message`` the fallback for older rows.
    message_data = JSONField(_("Message (as stored)"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("Date/Time"), auto_now_add=True)

    class Meta:
        verbose_name = _("Integration Synch. Job Error")
        verbose_name_plural = _("Integration Synch. Job Errors")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.message_text[:120]

    @property
    def message_text(self):
        """The message in the active language (the reader's)."""
        return said_text(self.message_data, self.message)


class SyncJobRecord(models.Model):
    """A record a queued job was given ("Create in Sales", "Synchronise now" of a selection), on either side.

    What lets the Sales and ERP lists show a record *queued* while its job waits or runs, and *failed* when that
    job fails as a whole (before any of its records got a result of its own). Bulk-created with the job
    (integration.queue); deleted when the job ends with results per record, kept with a job that failed as
    a whole and deleted with it.
    """

    job = models.ForeignKey(SyncJob, verbose_name=_("Integration Synch. Job"), on_delete=models.CASCADE,
                            related_name="records")
    model = models.CharField(_("Table"), max_length=100)
    record_id = models.CharField(_("Record"), max_length=64)

    class Meta:
        verbose_name = _("Integration Synch. Job Record")
        verbose_name_plural = _("Integration Synch. Job Records")
        indexes = [models.Index(fields=["model", "record_id"], name="integration_jobrecord_record")]

    def __str__(self):
        return f"{self.model} {self.record_id} in job #{self.job_id}"


class RealtimeChange(models.Model):
    """A coupled record changed since its last synchronisation, noted for its near-real-time run
    (integration.background.realtime). A run of the mapping and direction takes every record noted by the time it
    holds the mapping, so changes committed faster than one run takes go together in the next run, not one run each.
    Forgotten once a run has taken it, unless it was noted again meanwhile (``noted_at`` moved): the next run then
    takes it again."""

    # Found by the unique constraint, which starts with it: no index of its own
    table_mapping = models.ForeignKey(IntegrationTableMapping, on_delete=models.CASCADE, related_name="+",
                                      db_index=False)
    direction = models.CharField(max_length=20, choices=Direction)
    record_id = models.CharField(max_length=64)
    noted_at = models.DateTimeField()

    class Meta:
        verbose_name = _("Change Waiting for Near-Real-Time Synchronisation")
        verbose_name_plural = _("Changes Waiting for Near-Real-Time Synchronisation")
        constraints = [models.UniqueConstraint(fields=["table_mapping", "direction", "record_id"],
                                               name="integration_realtime_change_once")]

    def __str__(self):
        return f"{self.record_id} ({self.direction}) noted {self.noted_at}"
