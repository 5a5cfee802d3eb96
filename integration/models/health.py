"""What the health page, /health/ and the alerts read besides the log: the heartbeats of the workers and of beat."""

from datetime import timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """The last time a Celery worker or the beat scheduler said it was alive (integration/health/heartbeats.py).

    One row per process name, overwritten in place every `EVERY` seconds: the table stays as small as the
    number of workers ever started, and reading it costs one query. A process is taken for alive while its row is
    younger than `ALIVE_WITHIN` and it did not say it stopped (``stopped_at``, written as it shuts down)."""

    class Kind(models.TextChoices):
        WORKER = "worker", _("Worker")
        BEAT = "beat", _("Beat")

    EVERY = 10  # seconds between two heartbeats of a process
    ALIVE_WITHIN = timedelta(seconds=2 * EVERY + 5)  # two heartbeats missed: the process is taken for dead
    GONE_SHOWN = timedelta(days=1)  # a process gone since longer is no longer named by /health/

    kind = models.CharField(_("Kind"), max_length=10, choices=Kind)
    name = models.CharField(_("Name"), max_length=200, help_text=_("The worker's host name, or beat's."))
    seen_at = models.DateTimeField(_("Last Seen"))
    stopped_at = models.DateTimeField(_("Stopped At"), null=True, blank=True,
                                      help_text=_("When the process said it was shutting down."))

    class Meta:
        verbose_name = _("Heartbeat")
        verbose_name_plural = _("Heartbeats")
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="integration_heartbeat_unique")]

    def __str__(self):
        return f"{self.kind} {self.name}"

    def alive_at(self, now):
        return self.stopped_at is None and self.seen_at >= now - self.ALIVE_WITHIN


class AlertState(models.Model):
    """Where one kind of alert stands for one mapping (blank: the whole connection): open or not, when it was last
    told, and the figure it was told about (integration/health/alerts.py). At most one row per kind and mapping."""

    class Kind(models.TextChoices):
        JOB_FAILED = "job_failed", _("Job failed")
        RECORDS_SKIPPED = "records_skipped", _("Records skipped")
        LAG = "lag", _("Mapping behind")
        NO_WORKER = "no_worker", _("No worker")

    kind = models.CharField(_("Kind"), max_length=20, choices=Kind)
    mapping_name = models.CharField(_("Mapping"), max_length=30, blank=True)
    is_open = models.BooleanField(_("Open"), default=False)
    notified = models.BooleanField(_("Told"), default=False, help_text=_("The opening was told by e-mail."))
    opened_at = models.DateTimeField(_("Open Since"), null=True, blank=True)
    last_sent_at = models.DateTimeField(_("Last Sent"), null=True, blank=True)
    value = models.PositiveIntegerField(_("Figure Told"), default=0)

    class Meta:
        verbose_name = _("Alert State")
        verbose_name_plural = _("Alert States")
        constraints = [models.UniqueConstraint(fields=["kind", "mapping_name"], name="integration_alertstate_unique")]

    def __str__(self):
        return f"{self.kind} {self.mapping_name or '-'}"
