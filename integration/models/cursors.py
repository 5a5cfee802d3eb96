"""Where a run of a mapping left off reading a side that is not a table of this process (`SideCursor`)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SideCursor(models.Model):
    """An opaque cursor a side gave a mapping's run (a Web API's delta link), given back to it by the next run:
    ``name`` says which (``crm``: the Sales changes the run Sales → ERP read; ``crm_deletions``: the Sales deletions
    the run ERP → Sales checked; ``crm_poll``: the Sales changes near-real-time last polled; ``run_<job>``: the cursor a partitioned run took
before its partitions read, the source's once they are all done). A side in this process's database keeps its watermarks on the mapping instead."""

    table_mapping = models.ForeignKey("integration.IntegrationTableMapping", verbose_name=_("Table Mapping"),
                                      on_delete=models.CASCADE, related_name="side_cursors")
    name = models.CharField(_("Name"), max_length=30)
    value = models.TextField(_("Cursor"))
    updated_at = models.DateTimeField(_("Updated At"), auto_now=True)

    class Meta:
        verbose_name = _("side cursor")
        verbose_name_plural = _("side cursors")
        constraints = [models.UniqueConstraint(fields=["table_mapping", "name"], name="side_cursor_unique")]

    def __str__(self):
        return f"{self.table_mapping_id} {self.name}"
