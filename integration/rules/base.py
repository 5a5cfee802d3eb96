"""The hooks a rules module can override. Each receives the `SyncPlan` of the run (``plan``)."""


class RowError(Exception):
    """A row cannot be synchronised; the message names the record and the cause."""


class Rules:
    def source_queryset(self, queryset, *, plan):
        """Narrow the rows read from the source beyond the mapping's filter."""
        return queryset

    def prepare_chunk(self, rows, *, plan):
        """Load, in bulk, whatever ``transfer`` needs for these source rows. Returns a context object."""
        return None

    def transfer(self, source, destination, values, *, plan, context):
        """Adjust ``values`` (destination attname → value) for ``source``; raise RowError to fail the row."""

    def after_write(self, pairs, *, plan):
        """Called after a chunk's rows were written, with (source, destination) pairs. Bulk work only."""
