"""What a run reads: the source rows to examine (`source_querysets`), in keyset chunks (`iterate_chunks`), and the
failed insertions of the mapping's source side (`FailedInserts`).

A partition of a run (``plan.key_range``, docs/decisions.md#partitions) reads only the source rows with
``low <= pk < high`` in every queryset: the full read, the retries and the changed rows alike.
"""


from django.db.models import OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext

from integration import binder
from integration.labels import record_title_attnames
from integration.models import Coupling, FailedInsert, SyncResult
from p2c.records import Record
from p2c.said import said_stored
from p2c.utils import any_of, chunked

from .cursors import CHANGES, DELETIONS, cursor_get
from .sides import WATERMARK_MARGIN, CannotAnswer, record_pages

RETRY_BATCH = 5000  # ids per query, well under SQLite's parameter limit
ALL = object()  # "examine every row", for runs over records named explicitly


def counterpart_ids(*, mapping, side, ids):
    """The ids coupled (in ``mapping``'s pair of tables) to ``side``'s records ``ids``: one query per 5,000."""
    tables = {"erp": mapping.erp_model, "crm": mapping.crm_model}
    other = "crm" if side == "erp" else "erp"
    return binder.counterpart_list(tables[side], ids, to=tables[other])


def key_range_q(key_range, field="pk"):
    """``low <= field < high`` (either end None: open) as a Q; an empty Q for no range."""
    if key_range is None:
        return Q()
    low, high = key_range
    q = Q()
    if low is not None:
        q &= Q(**{f"{field}__gte": low})
    if high is not None:
        q &= Q(**{f"{field}__lt": high})
    return q


def source_querysets(plan):
    """The source rows a run reads (querysets read one after the other), the ids to examine in any case, and the
    failed inserts (`FailedInserts`) of the mapping's source side.

    The mapping's filter, less the skipped couplings, and then: everything (full run, or never run), or the rows
    to retry (coupled rows whose last write failed or whose counterpart was deleted, uncoupled rows whose
    insertion failed), by id, followed by the rows changed since the watermark, read through the index on the
    modified timestamp alone. The forced ids are examined even if their timestamps say unchanged (retries,
    deleted counterparts; ``ALL`` for records named explicitly). Every queryset keeps to ``plan.key_range``. The
    source's side builds them (`DjangoSide.record_reads`: the reads are opaque to the engine, which hands them back
    to `iterate_chunks`).
    """
    source, destination = plan.source, plan.destination
    side = source.reach
    excluded = plan.skip_rows_modified_by if source.key == "crm" else None
    reads = {"narrow": narrowing(plan), "key_range": plan.key_range,
             "writer_excluded": None if excluded is None else side.own_writer(excluded)}
    failed_inserts = FailedInserts.load(plan)
    if plan.only_ids is not None:
        return side.record_reads(**reads, only_keys=plan.only_ids), ALL, failed_inserts
    couplings = Coupling.objects.filter(**plan.coupling_pair)
    reads["skipped"] = (couplings.filter(skipped=True), source.id_field)
    watermark = cursor_get(plan.mapping, source, CHANGES)
    if plan.full or watermark is None:
        if destination.reach.database is None and not plan.dry_run and plan.key_range is None:
            # the destination's deletions are checked from now on by the next runs (cursors.py)
            plan.cursors[DELETIONS] = destination.reach.deletions_cursor()
        return side.record_reads(**reads), set(), failed_inserts
    retry = set(couplings.filter(skipped=False, **{destination.result_field: SyncResult.FAILURE})
                .values_list(source.id_field, flat=True))
    retry |= counterparts_deleted(plan, couplings)
    retry |= failed_inserts.to_retry()
    # Rows re-read inside the margin that are already in sync, where the side can leave them out by the coupling
    # index in its own query (in two databases they are read, and found unchanged by their coupling)
    in_sync = couplings.filter(
        **{source.id_field: OuterRef("pk"), f"{source.last_synced_field}__gte": OuterRef(source.modified_field)}
    ).exclude(**{destination.result_field: SyncResult.FAILURE})
    return side.record_reads(**reads, since=watermark, retry=retry, in_sync=in_sync), retry, failed_inserts


def narrowing(plan, hook="source_queryset"):
    """The rules' narrowing of the rows read (``hook``: `Rules.source_queryset`, or match-based coupling's
    `Rules.coupling_queryset`), a query of this process's database: a side elsewhere cannot take it, and the run is
    refused, naming the mapping and its rules."""
    from integration.rules.base import Rules

    narrow = getattr(plan.rules, hook)
    if getattr(type(plan.rules), hook, None) is getattr(Rules, hook):
        return None
    if plan.source.reach.database is None:
        raise CannotAnswer(gettext(
            "Mapping %(mapping)s cannot run: its rules (%(rules)s) narrow the rows read from %(table)s with a query "
            "of this database, and %(table)s is reached elsewhere.") % {
                "mapping": plan.mapping.name, "rules": type(plan.rules).__module__, "table": plan.source.label})
    return lambda queryset: narrow(queryset, plan=plan)


def counterparts_deleted(plan, couplings):
    """The source ids of the couplings (of the pair) whose destination record no longer exists.

    From the destination side's deletions since the mapping last checked them (`Side.deletions`; a database reads
    its log of deleted records, p2c.deletions, a margin back for late commits): the couplings of those keys read and
    the destination asked which are still missing. A run then costs what was deleted, not what is coupled, in one
    database as in two. What the side cannot answer (never checked, checked before the log's retention, a side
    without a log) is compared in full, every coupled key in keyset pages (`_counterparts_deleted_all`).
    """
    source, destination = plan.source, plan.destination
    elsewhere = destination.reach.database is None
    try:
        deletions = destination.reach.deletions(cursor_get(plan.mapping, destination, DELETIONS))
    except CannotAnswer:
        if elsewhere:  # checked in full now, from this cursor on next time
            plan.cursors[DELETIONS] = destination.reach.deletions_cursor()
        return _counterparts_deleted_all(plan, couplings)
    deleted = deletions.keys
    if elsewhere:
        plan.cursors[DELETIONS] = deletions.cursor
    found = set()
    for keys in chunked(sorted(deleted), RETRY_BATCH):
        pairs = list(couplings.filter(any_of(destination.id_field, keys))
                     .values_list(destination.id_field, source.id_field))
        found |= _missing(destination, pairs)
    return found


def _counterparts_deleted_all(plan, couplings):
    """`counterparts_deleted` the long way: the couplings' destination keys read in keyset chunks and the destination
    asked which of them it still has (two queries per `RETRY_BATCH`)."""
    source, destination = plan.source, plan.destination
    deleted, last = set(), None
    ordered = couplings.order_by(destination.id_field)
    while True:
        page = ordered if last is None else ordered.filter(**{f"{destination.id_field}__gt": last})
        pairs = list(page.values_list(destination.id_field, source.id_field)[:RETRY_BATCH])
        if not pairs:
            return deleted
        last = pairs[-1][0]
        deleted |= _missing(destination, pairs)


def _missing(destination, pairs):
    """The source ids of the (destination id, source id) ``pairs`` whose destination record does not exist."""
    if not pairs:
        return set()
    existing = set(destination.reach.rows([d for d, _ in pairs], fields=[]))
    return {source_id for dest_id, source_id in pairs if dest_id not in existing}


class FailedInserts:
    """The source rows of a mapping direction whose insertion failed (`FailedInsert`), read once per run.

    They have no coupling to carry a last result, so these rows do: retried in the next run, skipped after the
    same message twice in a row, and then left out (counted skipped) until the row changes or is restored.
    """

    def __init__(self, plan, entries):
        self.plan = plan
        self.entries = entries  # source pk -> FailedInsert

    @classmethod
    def load(cls, plan):
        to_python = plan.source.model._meta.pk.to_python
        rows = FailedInsert.objects.filter(**plan.coupling_pair, direction=plan.direction)
        if plan.key_range is not None:  # source_id is text: the range is applied to the converted keys
            return cls(plan, {pk: entry for pk, entry in ((to_python(e.source_id), e) for e in rows)
                              if plan.source.reach.in_key_range(pk, plan.key_range)})
        return cls(plan, {to_python(entry.source_id): entry for entry in rows})

    def to_retry(self):
        return {pk for pk, entry in self.entries.items() if not entry.skipped}

    def waits(self, row):
        """Skipped, and not changed since the run that failed it (less the watermark margin, for late commits)."""
        entry = self.entries.get(self.plan.source.pk_of(row)) if self.entries else None
        return (entry is not None and entry.skipped
                and getattr(row, self.plan.source.modified_field) < entry.failed_at - WATERMARK_MARGIN)

    def record(self, job, failures, succeeded):
        """Store this chunk's insert failures (row, message) and forget the rows that now went through
        (``succeeded()``: their keys, asked only when some row of the direction failed before; most runs have none,
        and the keys are two lists of a chunk's rows)."""
        gone = [pk for pk in succeeded() if pk in self.entries] if self.entries else []
        if gone:
            FailedInsert.objects.filter(pk__in=[self.entries.pop(pk).pk for pk in gone]).delete()
        if not failures:
            return
        entries = []
        for row, message in failures:
            previous = self.entries.get(row.pk)
            text, data = said_stored(message)
            # The same failure as last time: the same meaning, or (an entry stored as text) the same text.
            same = previous is not None and (previous.message_data == data if data is not None
                                             else previous.message == text)
            entry = FailedInsert(
                **self.plan.coupling_pair, direction=self.plan.direction, source_id=str(row.pk), message=text,
                message_data=data, job=job, failed_at=job.started_at or timezone.now(), skipped=same,
            )
            self.entries[row.pk] = entry
            entries.append(entry)
        FailedInsert.objects.bulk_create(
            entries, update_conflicts=True, unique_fields=["erp_model", "crm_model", "direction", "source_id"],
            update_fields=["message", "message_data", "job", "skipped", "failed_at"],
        )



def source_attnames(plan):
    """The source's columns a run reads with its rows: the key, the modified-on and writer, the mapped fields, the
    record's label and what the rules declare (`Rules.source_fields`). The others stay unread, and are read for a
    whole chunk at once if something touches one (`instances_from_rows`): of the 35 columns of a Sales
    account, the CUSTOMER mapping reads 18 (a third less time reading 20,000 accounts on SQLite)."""
    model = plan.source.model
    every = [f.attname for f in model._meta.concrete_fields]
    if not issubclass(model, Record):  # Django's descriptor would read a left-out column one row at a time
        return every
    meta = model._meta
    needed = {meta.pk.attname, meta.get_field(model.MODIFIED_FIELD).attname,
              *(meta.get_field(name).attname for name in model.writer_fields()),
              *(rule.source_attname for rule in plan.field_rules if rule.source_attname is not None),
              *record_title_attnames(model), *plan.rules.source_fields(plan=plan)}
    return [attname for attname in every if attname in needed]


def iterate_chunks(read, size, attnames=None, *, side=None):
    """The rows of one of a run's reads (`source_querysets`), in keyset pages: ``side.record_pages`` (by default
    a queryset's, `DjangoSide`'s)."""
    if side is None:
        return record_pages(read, size, attnames)
    return side.record_pages(read, size, attnames)
