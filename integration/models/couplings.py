"""Couplings between a Sales and an ERP record, their conflicts and failed inserts (BC table 5331)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from integration.models.mappings import Direction, SyncResult
from p2c.fields import JSONField, JSONTextField
from p2c.indexes import indexes_when_set
from p2c.said import said_text


class Coupling(models.Model):
    """Which ERP record is which Sales record (BC table 5331): one row per pair, unique on each side."""

    erp_model = models.CharField(_("ERP Table"), max_length=100)
    crm_model = models.CharField(_("Sales Table"), max_length=100)
    erp_id = models.BigIntegerField(_("ERP Record"))
    crm_id = models.UUIDField(_("Sales Record"))
    last_synced_erp_modified = models.DateTimeField(_("Last Synch. Modified On"), null=True, blank=True)
    last_synced_crm_modified = models.DateTimeField(_("Last Synch. Sales Modified On"), null=True, blank=True)
    last_erp_result = models.CharField(
        _("Last Synch. Result"), max_length=10, choices=SyncResult, blank=True, default="",
        help_text=_("Result of the last write into the ERP."),
    )
    last_crm_result = models.CharField(
        _("Last Synch. Sales Result"), max_length=10, choices=SyncResult, blank=True, default="",
        help_text=_("Result of the last write into Sales."),
    )
    # Entries of the log, without a database constraint: PostgreSQL checked one per new coupling at each chunk's
    # commit, all naming the same job (0.27 s a first load of 100,000). Deleting a job still clears them: Django's
    # SET_NULL, and the log clean-up's one UPDATE per reference (background/sync_log.py).
    last_erp_job = models.ForeignKey(
        "integration.SyncJob", verbose_name=_("Last Synch. Job"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", db_index=False, db_constraint=False,
    )
    last_crm_job = models.ForeignKey(
        "integration.SyncJob",
        verbose_name=_("Last Synch. Sales Job"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    skipped = models.BooleanField(_("Skipped"), default=False)
    created_at = models.DateTimeField(_("Coupled At"), auto_now_add=True)
    # The mapped field values of both sides as last synchronised ({"fields": {ERP field: value, or [ERP value, Sales
    # value] where they differ}}; formerly {"erp": {attname: value}, "crm": {…}}), written with the coupling:
    # which side changed which field (engine/conflicts.py). None for couplings older than it.
    synced_values = JSONTextField(_("Synchronised Values"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("Coupling")
        verbose_name_plural = _("Couplings")
        ordering = ["erp_model", "erp_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["erp_model", "crm_model", "erp_id"], name="integration_coupling_unique_erp"
            ),
            # Led by the Sales side, so that it also finds a Sales record's couplings whatever the ERP table.
            models.UniqueConstraint(
                fields=["crm_model", "crm_id", "erp_model"], name="integration_coupling_unique_crm"
            ),
        ]
        # The skipped couplings only: the few a run and the lists look for, and writing an unskipped one skips it.
        indexes = [
            models.Index(fields=["skipped"], name="integration_coupling_skipped", condition=models.Q(skipped=True)),
            # A coupling made by a run in one direction has no job of the other yet.
            *indexes_when_set(erp_job="last_erp_job", crm_job="last_crm_job"),
            # The failed couplings only: every incremental run retries them (a scan of every coupling, otherwise).
            models.Index(fields=["erp_model", "crm_model"], name="integration_cpl_erp_failed",
                         condition=models.Q(last_erp_result=SyncResult.FAILURE)),
            models.Index(fields=["erp_model", "crm_model"], name="integration_cpl_crm_failed",
                         condition=models.Q(last_crm_result=SyncResult.FAILURE)),
        ]

    def __str__(self):
        return f"{self.erp_model} {self.erp_id} ↔ {self.crm_model} {self.crm_id}"


class SyncConflict(models.Model):
    """A coupled pair in conflict, waiting for a person's decision (the conflict inbox, docs/features.md I5/I7).

    *update*: the same mapped field changed on both sides since the last synchronisation, and no resolution
    policy decides; *deletion*: one side's record was deleted while the coupling stands. Recorded by the engine
    in bulk, cleared when the pair synchronises cleanly or is resolved (integration/operations/conflicts.py).
    """

    class Kind(models.TextChoices):
        UPDATE = "update", _("Update conflict")
        DELETION = "deletion", _("Deletion conflict")

    coupling = models.OneToOneField(Coupling, verbose_name=_("Coupling"), on_delete=models.CASCADE,
                                    related_name="conflict")
    table_mapping = models.ForeignKey("integration.IntegrationTableMapping", verbose_name=_("Table Mapping"),
                                      on_delete=models.CASCADE, related_name="conflicts")
    kind = models.CharField(_("Kind"), max_length=10, choices=Kind, default=Kind.UPDATE)
    fields = JSONField(_("Fields in Conflict"), default=list, blank=True,
                              help_text=_("The ERP fields (of the mapping's field mappings) changed on both sides."))
    deleted_side = models.CharField(_("Deleted Side"), max_length=3, blank=True, help_text=_("erp or crm (deletion)."))
    since = models.DateTimeField(_("In Conflict Since"), db_index=True)
    job = models.ForeignKey("integration.SyncJob", verbose_name=_("Integration Synch. Job"), on_delete=models.SET_NULL,
                            null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("Conflict")
        verbose_name_plural = _("Conflicts")
        ordering = ["-since", "-id"]
        indexes = [models.Index(fields=["table_mapping", "since"], name="integration_conflict_mapping")]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"


class FailedInsert(models.Model):
    """A source record that could not be created on the other side, so has no coupling to carry its result.

    The next run tries it again even if it has not changed; one that fails with the same message twice in a
    row is skipped until it changes or is restored, as a coupled record would be.
    """

    erp_model = models.CharField(_("ERP Table"), max_length=100)
    crm_model = models.CharField(_("Sales Table"), max_length=100)
    direction = models.CharField(_("Synch. Direction"), max_length=20, choices=Direction)
    source_id = models.CharField(_("Source Record"), max_length=64)
    message = models.TextField(_("Error Message"))
    # The message as what it means (p2c.said), as SyncJob.message_data; ``message`` the fallback for older rows.
    message_data = JSONField(_("Message (as stored)"), null=True, blank=True, editable=False)
    job = models.ForeignKey(
        "integration.SyncJob", verbose_name=_("Last Synch. Job"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    skipped = models.BooleanField(_("Skipped"), default=False)
    failed_at = models.DateTimeField(_("Failed At"))

    class Meta:
        verbose_name = _("Failed Insert")
        verbose_name_plural = _("Failed Inserts")
        constraints = [
            models.UniqueConstraint(fields=["erp_model", "crm_model", "direction", "source_id"],
                                    name="integration_failedinsert_unique"),
        ]

    def __str__(self):
        return f"{self.source_id}: {self.message_text[:80]}"

    @property
    def message_text(self):
        """The message in the active language (the reader's)."""
        return said_text(self.message_data, self.message)

    @property
    def source_model(self):
        return self.erp_model if self.direction == Direction.TO_INTEGRATION else self.crm_model


class CouplingIntent(models.Model):
    """A write into Sales the integration is about to make, recorded on the ERP side first
    (docs/decisions.md#two-databases-intents-recorded-first).

    With Sales in a database of its own, a Sales row and its coupling cannot commit together. So the engine
    records, in the ERP side's database, which Sales key it will write for which ERP record (*insert*: a new Sales
    record whose UUID it chose; *update*: a coupled one), then writes the Sales rows, then confirms (the coupling
    made or refreshed, the intent deleted). A run killed in between leaves intents that the next run, or the
    stopped-run check, completes by looking the keys up in Sales (`integration.engine.intents`): a Sales row that
    was written is adopted, one that was not is forgotten. Never a second Sales record, never a lost one.
    """

    class Kind(models.TextChoices):
        INSERT = "insert", "Insert"
        UPDATE = "update", "Update"

    erp_model = models.CharField("ERP Table", max_length=100)
    crm_model = models.CharField("Sales Table", max_length=100)
    erp_id = models.BigIntegerField("ERP Record")
    crm_id = models.UUIDField("Sales Record")
    kind = models.CharField("Kind", max_length=10, choices=Kind)
    job = models.ForeignKey("integration.SyncJob", verbose_name="Integration Synch. Job", on_delete=models.SET_NULL,
                            null=True, blank=True, related_name="+")
    # The ERP record's modified-on when it was read: the coupling's last synchronised value once confirmed.
    erp_modified = models.DateTimeField("ERP Modified On", null=True, blank=True)
    # Update: the Sales record's modified-on as last synchronised before the write (a later one means it landed).
    crm_modified_before = models.DateTimeField("Sales Modified On Before", null=True, blank=True)

    class Meta:
        verbose_name = "Coupling Intent"
        verbose_name_plural = "Coupling Intents"
        indexes = [models.Index(fields=["erp_model", "crm_model"], name="integration_intent_pair")]

    def __str__(self):
        return f"{self.kind}: {self.erp_model} {self.erp_id} → {self.crm_model} {self.crm_id}"
