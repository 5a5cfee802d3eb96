"""The hooks a rules module can override. Each receives the `SyncPlan` of the run (``plan``)."""


class RowError(Exception):
    """A row cannot be synchronised; the message names the record and the cause: a text, or a `p2c.said.Said`
    (stored as what it means, told in the reader's language)."""

    @property
    def message(self):
        """The message as raised (a `Said` kept as it is), for the job's error row."""
        return self.args[0] if len(self.args) == 1 and not isinstance(self.args[0], str) else str(self)


class Rules:
    # Whether match-based coupling may create counterparts of the records it finds no match for (BC: never for
    # salespeople, nor for sales orders unless they synchronise both ways).
    match_creates_new = True

    def source_queryset(self, queryset, *, plan):
        """Narrow the rows read from the source beyond the mapping's filter."""
        return queryset

    def coupling_queryset(self, queryset, *, plan):
        """Narrow the uncoupled source rows match-based coupling looks at, beyond the mapping's filter."""
        return queryset

    def match_scope(self, rows, *, plan):
        """Destination fields a match must also agree on, per source row, beyond the match fields.

        None (the default) for no scope; else {source pk: {destination attname: value}}, for values the rules
        write rather than a field mapping. A row missing from the dict matches nothing. Bulk work only.
        """
        return None

    def source_fields(self, *, plan):
        """The source's attnames the hooks read beyond the mapped fields, read with the rows. A column read neither
        way is read for a whole chunk at once when a hook first touches it (p2c.records.PeerColumns): declaring it
        saves that query."""
        return ()

    def prepare_chunk(self, rows, *, plan):
        """Load, in bulk, whatever ``transfer`` needs for these source rows. Returns a context object."""
        return None

    def transfer(self, source, destination, values, *, plan, context):
        """Adjust ``values`` (destination attname → value) for ``source``; raise RowError to fail the row."""

    def after_write(self, pairs, *, plan):
        """Called after a chunk's rows were written, with (source, destination) pairs. Bulk work only."""
