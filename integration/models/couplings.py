"""Couplings between a Sales and an ERP record, their conflicts and failed inserts (BC table 5331)."""

from django.db import models

from integration.models.mappings import Direction, SyncResult
from p2c.indexes import indexes_when_set


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
        related_name="+", db_index=False,
    )
    last_crm_job = models.ForeignKey(
        "integration.SyncJob", verbose_name="Last Synch. Sales Job", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", db_index=False,
    )
    skipped = models.BooleanField("Skipped", default=False)
    created_at = models.DateTimeField("Coupled At", auto_now_add=True)
    # The mapped field values of both sides as last synchronised ({"erp": {attname: value}, "crm": {…}}), written
    # with the coupling: which side changed which field (engine/conflicts.py). None for couplings older than it.
    synced_values = models.JSONField("Synchronised Values", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "Coupling"
        ordering = ["erp_model", "erp_id"]
        constraints = [
            models.UniqueConstraint(fields=["erp_model", "crm_model", "erp_id"], name="integration_coupling_unique_erp"),
            # Led by the Sales side, so that it also finds a Sales record's couplings whatever the ERP table.
            models.UniqueConstraint(fields=["crm_model", "crm_id", "erp_model"], name="integration_coupling_unique_crm"),
        ]
        # The skipped couplings only: the few a run and the lists look for, and writing an unskipped one skips it.
        indexes = [
            models.Index(fields=["skipped"], name="integration_coupling_skipped", condition=models.Q(skipped=True)),
            # A coupling made by a run in one direction has no job of the other yet.
            *indexes_when_set(erp_job="last_erp_job", crm_job="last_crm_job"),
        ]

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
