"""The history of the integration's configuration: who changed what, when, through which door, key by key."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from p2c.fields import JSONField


class ConfigurationChange(models.Model):
    """One difference in the configuration (integration/configuration/history.py): a record added or removed, or
    one key of a record changed from ``old`` to ``new``. The rows written by one save share ``batch``."""

    class Action(models.TextChoices):
        ADDED = "added", _("Added")
        CHANGED = "changed", _("Changed")
        REMOVED = "removed", _("Removed")

    class Door(models.TextChoices):
        ADMIN = "admin", _("Admin")
        API = "api", _("API")
        IMPORT = "import", _("Configuration import")
        COMMAND = "command", _("Command line")
        WIZARD = "wizard", _("Assisted set-up")

    batch = models.UUIDField(_("Change"), db_index=True)
    at = models.DateTimeField(_("Date/Time"), db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("User"), on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="+")
    username = models.CharField(_("By"), max_length=150, blank=True, help_text=_("Kept when the user is deleted."))
    door = models.CharField(_("Through"), max_length=10, choices=Door)
    action = models.CharField(_("Action"), max_length=10, choices=Action)
    path = models.CharField(_("Record"), max_length=500, help_text=_("mappings[CUSTOMER].fields[name ↔ name]"))
    key = models.CharField(_("Key"), max_length=100, blank=True)
    old = JSONField(_("Before"), null=True, blank=True)
    new = JSONField(_("After"), null=True, blank=True)
    mapping_name = models.CharField(_("Table Mapping"), max_length=30, blank=True, db_index=True)

    class Meta:
        verbose_name = _("Configuration Change")
        verbose_name_plural = _("Configuration Changes")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.path}.{self.key}" if self.key else self.path


class ConfigurationChangeSet(models.Model):
    """What one save, import or set-up changed (its `ConfigurationChange` rows share its ``batch``): who, when,
    through which door, and a one-line summary ("Connection enabled; 15 table mappings reset to their defaults")
    stored as what it means (p2c.said), told in the reader's language."""

    batch = models.UUIDField(_("Change"), unique=True)
    at = models.DateTimeField(_("Date/Time"), db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("User"), on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="+")
    username = models.CharField(_("By"), max_length=150, blank=True, help_text=_("Kept when the user is deleted."))
    door = models.CharField(_("Through"), max_length=10, choices=ConfigurationChange.Door)
    changes = models.PositiveIntegerField(_("Changes"), default=0)
    # Empty for a set recorded before change sets were: its summary is worked out from its rows when shown.
    summary_data = JSONField(_("Summary (as stored)"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("Configuration Change Set")
        verbose_name_plural = _("Configuration Change Sets")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.username or '-'}"

    def rows(self):
        return ConfigurationChange.objects.filter(batch=self.batch).order_by("id")
