"""`DjangoSide`: a side whose rows are a Django model of this project, in its own database (Sales in one of its own
when ``SALES_DATABASE_URL`` is set, p2c.databases) or in the couplings' one.

Today's fast paths stay: keyset pages read as value tuples converted a column at a time (`p2c.bulk_reads.rows_read`),
new rows written by ``bulk_insert`` (COPY on PostgreSQL, ``executemany`` on SQLite), changed ones by ``bulk_update``
(one statement of values), match candidates found through the case-insensitive ``LOWER(field)`` indexes. A write that
fails in bulk is done again row by row, so that only the bad rows fail, each with its field and reason.
"""

import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    InternalError,
    OperationalError,
    connections,
    transaction,
)
from django.db.models import Exists, F, OuterRef, Q, UniqueConstraint
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from integration.catalogue.filters import filter_unindexed_on_sqlite, filter_validate
from p2c.bulk_reads import rows_read
from p2c.bulk_writes import keys_take, sequence_keys
from p2c.databases import SALES, database_for, same_database
from p2c.deletions import deletion_log_of
from p2c.records import instances_from_rows, writing_as
from p2c.said import said
from p2c.utils import any_of, chunked, planner_statistics_refresh, uuid7

from .base import CannotAnswer, Changes, Deletions, Health, Side, Written

logger = logging.getLogger("p2c.integration")

# Rows committed just before a cursor was taken may carry a slightly older timestamp: read them again (they come out
# "unchanged"), as Business Central does with its 999 ms.
WATERMARK_MARGIN = timedelta(seconds=1)
# A deletion is logged when its transaction writes it, and may commit a while later: the log is read this far back.
DELETIONS_MARGIN = timedelta(minutes=10)
BATCH = 5000  # keys per query, well under SQLite's parameter limit
CHANGED_KEYS = 100_000  # keys of changed rows a run's read holds at most (a few megabytes)


class DjangoSide(Side):
    """A model of this project as a side. ``key``: "erp" or "crm" (by default: "crm" for the Sales app's models);
    ``filter_spec``: the mapping's filter of this side (integration.engine.filters)."""

    transactional = True

    def __init__(self, model, *, key=None, filter_spec=None):
        meta = model._meta
        self.model = model
        self.key = key or ("crm" if meta.app_label == "crm" else "erp")
        self.label = meta.label
        self.key_name = meta.pk.attname
        # A table without one (a setup, a relation table the rules look up) is read by keys and values only
        modified = getattr(model, "MODIFIED_FIELD", None)
        self.modified_name = meta.get_field(modified).attname if modified else None
        writer = getattr(model, "MODIFIED_BY_FIELD", None)
        self.writer_name = meta.get_field(writer).attname if writer else None
        self.system_name = "Sales" if self.key == "crm" else "ERP"
        self.filter_spec = filter_spec or {}

    @property
    def database(self):
        """The alias of the database this side's rows are in."""
        return database_for(self.model)

    def _all(self):
        return self.model._base_manager.using(self.database)

    def transaction(self):
        return transaction.atomic(using=self.database)

    def _filtered(self, key_range=None):
        queryset = self._all().filter(filter_validate(self.model, self.filter_spec))
        if key_range is not None:
            low, high = key_range
            if low is not None:
                queryset = queryset.filter(pk__gte=low)
            if high is not None:
                queryset = queryset.filter(pk__lt=high)
        return queryset

    def _since(self, queryset, since):
        if since is None:
            return queryset
        return queryset.filter(**{f"{self.model.MODIFIED_FIELD}__gt": since - WATERMARK_MARGIN})

    def _attnames(self, fields):
        every = [f.attname for f in self.model._meta.concrete_fields]
        if fields is None:
            return every
        wanted = {self.key_name, self.modified_name, *fields}
        return [name for name in every if name in wanted]

    def _dicts(self, queryset, attnames):
        return [dict(zip(attnames, row, strict=True)) for row in rows_read(queryset.values_list(*attnames))]

    # -- reading -------------------------------------------------------------------------------------------------------
    def changes(self, since, *, key_range=None, page_size=BATCH, fields=None):
        return _DatabaseChanges(self, self._since(self._filtered(key_range), since), since, page_size,
                                self._attnames(fields))

    def changed_count(self, since, *, key_range=None):
        return self._since(self._filtered(key_range), since).count()

    def rows(self, keys, *, fields=None):
        attnames = self._attnames(fields)
        found = {}
        for batch in chunked(list(dict.fromkeys(keys)), BATCH):
            for row in self._dicts(self._all().filter(any_of("pk", batch)), attnames):
                found[row[self.key_name]] = row
        return found

    def match_candidates(self, query, *, fields=None):
        meta = self.model._meta
        condition, annotations = Q(), {}
        indexed = True  # whether an index serves each condition (_index_serves)
        for index, (attname, values) in enumerate(query.fields.items()):
            if not values:
                continue
            field = _field_of(meta, attname)
            lowered = attname in query.case_insensitive
            if lowered:  # through the LOWER(field) index
                alias = f"_match_{index}"
                annotations[alias] = Lower(field.name)
                condition |= Q(**{f"{alias}__in": values})
            else:
                condition |= Q(**{f"{attname}__in": values})
            indexed = indexed and _index_serves(self.model, field, lowered=lowered)
        if not condition:
            return []
        # The mapping's filter kept from SQLite's planner (`filter_unindexed_on_sqlite`) when the match fields'
        # indexes serve every condition
        mapping_filter = filter_validate(self.model, self.filter_spec)
        if indexed:
            mapping_filter = filter_unindexed_on_sqlite(self.model, mapping_filter)
        # Unordered: which candidate comes first decides nothing (a key with two candidates matches none).
        queryset = self._all().filter(mapping_filter).annotate(**annotations).filter(condition).order_by()
        for attname, values in query.scope.items():
            queryset = queryset.filter(**{f"{attname}__in": values})
        return self._dicts(queryset, self._attnames(fields))

    def any_row_unlisted(self, listed_among, *, count=None, local=None, page_size=BATCH):
        """One anti-join where the listing (``local``: a queryset and its column holding this side's keys) is in
        this side's database; else `Side.any_row_unlisted`."""
        if local is not None and same_database(local[0].model, self.model):
            listing, column = local
            return self._filtered().filter(~Exists(listing.filter(**{column: OuterRef("pk")}))).exists()
        return super().any_row_unlisted(listed_among, count=count, page_size=page_size)

    def deletions(self, since):
        log = deletion_log_of(self.model)
        now = timezone.now()
        if log is None:
            raise CannotAnswer(gettext("%(table)s keeps no log of its deleted records.") % {"table": self.label})
        if since is None or since - DELETIONS_MARGIN < log.kept_since(now):
            raise CannotAnswer(gettext("The log of deleted records of %(table)s does not go back that far.")
                               % {"table": self.label})
        return Deletions(keys=log.deleted_since(self.model, since - DELETIONS_MARGIN), cursor=now)

    def deletions_cursor(self):
        return timezone.now()

    def writers(self, keys):
        keys = list(dict.fromkeys(keys))
        if self.writer_name is None:
            return dict.fromkeys(keys)
        found = {}
        for batch in chunked(keys, BATCH):
            found.update(self._all().filter(any_of("pk", batch)).values_list("pk", self.writer_name))
        return found

    # -- writing -------------------------------------------------------------------------------------------------------
    def new_keys(self, count):
        pk = self.model._meta.pk
        if pk.get_internal_type() == "UUIDField":
            return [uuid7() for _ in range(count)]
        return sequence_keys(self.model, count, using=self.database) or [None] * count

    def write(self, *, inserts=(), updates=(), writer=None):
        with writing_as(writer):
            written = self._insert(list(inserts)) + self._update(list(updates))
        modified = self.rows([w.key for w in written if w.ok], fields=[])
        return [Written(w.key, True, modified=modified[w.key][self.modified_name]) if w.ok else w for w in written]

    def _insert(self, inserts):
        if not inserts:
            return []
        pk = self.model._meta.pk.attname
        objs = [self.model(**values, **({pk: key} if key is not None else {})) for key, values in inserts]
        manager = self.model._base_manager.db_manager(self.database)
        try:
            with transaction.atomic(using=self.database):
                (manager.bulk_insert if hasattr(manager, "bulk_insert") else manager.bulk_create)(objs)
            return [Written(obj.pk, True) for obj in objs]
        except (IntegrityError, ValidationError, ValueError, TypeError, DatabaseError) as exc:
            if side_failure(exc):
                raise
        return [self._each(obj, lambda obj: obj.save(force_insert=True, using=self.database)) for obj in objs]

    def _update(self, updates):
        if not updates:
            return []
        existing = {}
        for batch in chunked([key for key, _ in updates], BATCH):
            existing.update(self._all().in_bulk(batch))
        results, objs, names = [], [], set()
        for key, values in updates:
            obj = existing.get(key)
            if obj is None:
                results.append(Written(key, False, reason=said(gettext_noop("The record no longer exists."))))
                continue
            for name, value in values.items():
                setattr(obj, name, value)
            objs.append(obj)
            names.update(values)
        fields = [_field_of(self.model._meta, name).name for name in names]
        if objs:
            try:
                with transaction.atomic(using=self.database):
                    self.model._base_manager.db_manager(self.database).bulk_update(objs, fields)
                results += [Written(obj.pk, True) for obj in objs]
            except (IntegrityError, ValidationError, ValueError, TypeError, DatabaseError) as exc:
                if side_failure(exc):
                    raise
                results += [self._each(obj, lambda obj: obj.save(using=self.database)) for obj in objs]
        return results

    def _each(self, obj, save):
        try:
            with transaction.atomic(using=self.database):
                save(obj)
        except (IntegrityError, ValidationError, ValueError, TypeError, DatabaseError) as exc:
            if side_failure(exc):
                raise
            field, reason = _fault(self.model, obj, exc)
            return Written(obj.pk, False, field=field, reason=reason)
        return Written(obj.pk, True)

    # -- the engine's fast path in this process: model instances ------------------------------------------------------
    # A side in this process hands the engine its model instances (the rules read them, and a chunk writes them
    # back in bulk) rather than rows as dicts: the same reads and writes as above, without converting every value.

    def records(self, keys, *, lock=False):
        """``{key: instance}`` of these keys; ``lock``: locked for the write (the caller's transaction)."""
        manager = self.model.objects.db_manager(self.database)
        return (manager.select_for_update() if lock else manager).in_bulk(keys) if keys else {}

    def record_reads(self, *, narrow=None, key_range=None, writer_excluded=None, only_keys=None, skipped=None,
                     since=None, retry=(), in_sync=None):
        """The reads of a run's source rows, in order (querysets, read by `record_pages`): the mapping's filter,
        ``narrow``-ed (the rules' `source_queryset`), within ``key_range``, less the rows last written by
        ``writer_excluded`` and the ``skipped`` rows (a queryset of the listing and its column of this side's keys: a
        run's skipped couplings, or every coupling of the pair for match-based coupling); then ``only_keys`` (rows
        named explicitly), or everything (``since`` None) or the ``retry`` keys followed
        by the rows changed since the cursor ``since``, less those ``in_sync`` says are (a subquery over the
        couplings, used where they share this side's database)."""
        # On SQLite the filter is kept from the planner: a page in key order walks the key (filters.py)
        queryset = self.model.objects.db_manager(self.database).filter(
            filter_unindexed_on_sqlite(self.model, filter_validate(self.model, self.filter_spec)))
        if narrow is not None:
            queryset = narrow(queryset)
        if key_range is not None:
            low, high = key_range
            queryset = queryset.filter(**({"pk__gte": low} if low is not None else {}),
                                       **({"pk__lt": high} if high is not None else {}))
        if writer_excluded is not None and self.writer_name:
            queryset = queryset.exclude(**{self.writer_name: writer_excluded})
        # One database: the listing is asked inside this side's query; two (Sales in its own): by keys.
        if skipped is not None:
            listing, column = skipped
            if same_database(listing.model, self.model):
                # Row by row through the listing's unique index: NOT IN (the pair's skipped couplings) had SQLite
                # read every coupling of the pair for each page
                queryset = queryset.exclude(Exists(listing.filter(**{column: OuterRef("pk")})))
            elif skipped_keys := list(listing.values_list(column, flat=True)):
                queryset = queryset.exclude(any_of("pk", skipped_keys))
        if only_keys is not None:
            return [queryset.filter(pk__in=only_keys)]
        if since is None:
            return [queryset]
        changed = Q(**{f"{self.model.MODIFIED_FIELD}__gt": since - WATERMARK_MARGIN})
        if in_sync is not None and same_database(in_sync.model, self.model):
            changed &= ~Exists(in_sync)
        # The retries first (as BC does), then the changed rows less those just retried (`DirectionRun` leaves out
        # the rows of a later queryset that an earlier one read).
        querysets = [queryset.filter(pk__in=keys) for keys in chunked(sorted(retry), BATCH)]
        # The changed rows' keys first, found through the modified-on index: read in key order with the change as a
        # filter, a page walks the primary key and reads every row before the changed ones (two seconds a page at a
        # million rows). Keys beyond CHANGED_KEYS are not held: that many changed rows are most of a page's reading.
        # In no order (they are sorted here): in the model's (an account's name) SQLite walked that index for the
        # LIMIT, every row of the table (0.3 s a run at a million accounts), where the modified-on index finds them.
        changed_keys = list(queryset.filter(changed).order_by().values_list("pk", flat=True)[:CHANGED_KEYS + 1])
        if len(changed_keys) > CHANGED_KEYS:
            querysets.append(queryset.filter(changed))
        else:
            querysets += [queryset.filter(any_of("pk", keys)) for keys in chunked(sorted(changed_keys), BATCH)]
        return querysets

    def pairs_query(self, by, to, values):
        """``(by, to)`` of the rows whose ``by`` is one of ``values``, as a read `p2c.bulk_reads.pairs_read` sends with
        the chunk's other look-ups in one statement (a related record's natural key, or its key by that)."""
        return self.model._default_manager.db_manager(self.database).filter(**{f"{by}__in": values}).values_list(by, to)

    def records_save(self, objs, *, new, attnames=(), writer=None, meanwhile=None, side_failures_raise=False,
                     reserved=None):
        """`Side.records_save` in one statement (`records_insert`, `records_update`); when it fails, row by row in
        savepoints, so that only the bad rows fail (each `Written` with the exception, which names the field or the
        duplicate). ``side_failures_raise``: the database's own failure (no connection) stops the write rather than
        failing every row (the rows are committed before their couplings: intents.py). ``reserved``: numbers taken ahead
        for the new records (`RecordQuerySet.bulk_insert`); a row written alone is numbered anew, since the failed bulk
        write took its numbers back (`RecordQuerySet.bulk_create`), and a number taken ahead left unused is a gap."""
        with writing_as(writer):
            try:
                with transaction.atomic(using=self.database):
                    if new:
                        self.records_insert(objs, meanwhile=meanwhile, reserved=reserved)
                    else:
                        self.records_update(objs, attnames)
                return [Written(obj.pk, True) for obj in objs]
            except Exception as exc:
                if side_failures_raise and side_failure(exc):
                    raise
                logger.info("Bulk write failed (%s); writing rows one by one", exc)
            answers = []
            for obj in objs:
                try:
                    with transaction.atomic(using=self.database):
                        (self.record_insert if new else self.record_update)(obj)
                    answers.append(Written(obj.pk, True))
                except Exception as exc:
                    if side_failures_raise and side_failure(exc):
                        raise
                    answers.append(Written(obj.pk, False, reason=" ".join(getattr(exc, "messages", None) or [str(exc)]),
                                           error=exc))
            return answers

    def cursor_after(self, reads, *, max_seen, started):
        """The watermark: just past the latest modified-on read, at most the run's start (`engine.sync`)."""
        return max_seen and min(max_seen + WATERMARK_MARGIN, started)

    def read_count(self, read):
        return read.count()

    def record_pages(self, read, size, attnames=None):
        return record_pages(read, size, attnames)

    def records_insert(self, objs, *, meanwhile=None, reserved=None):
        """New instances in one statement (COPY on PostgreSQL, ``executemany`` on SQLite, `bulk_insert`);
        ``meanwhile``: the caller's work while the database writes them; ``reserved``: numbers taken ahead."""
        manager = self.model.objects.db_manager(self.database)
        if hasattr(manager, "bulk_insert"):
            manager.bulk_insert(objs, meanwhile=meanwhile, reserved=reserved)
        else:
            manager.bulk_create(objs)

    def records_update(self, objs, attnames):
        """Changed instances in one statement, their fields ``attnames``."""
        meta = self.model._meta
        self.model.objects.db_manager(self.database).bulk_update(objs, [_field_of(meta, a).name for a in attnames])

    def record_insert(self, obj):
        obj.save(force_insert=True, using=self.database)

    def record_update(self, obj):
        obj.save(using=self.database)

    def records_insert_undo(self, keys):
        """Take back rows inserted in the caller's transaction, still open (no deletion logged: for the rest of the
        world they never existed)."""
        self._all().filter(any_of("pk", keys))._raw_delete(self.database)

    def record_holding(self, obj, values):
        """Another record than ``obj`` holding ``values`` (attname → value), or None (a duplicate's holder)."""
        return self._all().filter(**values).exclude(pk=obj.pk).first()

    def keys_take(self, objs):
        """Give new instances their keys now where the database takes them from a sequence (`keys_take`)."""
        keys_take(objs, using=self.database)

    def statistics_refresh(self, *others, **options):
        """Refresh the planner's statistics of this side's table (and ``others``', models of this process) after a
        bulk write; the models refreshed (`planner_statistics_refresh`)."""
        return planner_statistics_refresh(self.model, *others, **options)

    def writes_behind(self):
        """Whether a chunk's write may go to another connection of this side while the next is read: PostgreSQL,
        outside a transaction of the caller's."""
        connection = connections[self.database]
        return connection.vendor == "postgresql" and not connection.in_atomic_block

    def reads_outside_transaction(self):
        return not connections[self.database].in_atomic_block

    # -- the side itself -----------------------------------------------------------------------------------------------
    def health(self):
        try:
            with connections[self.database].cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError as exc:
            return Health(False, gettext("The %(system_name)s database (%(alias)s) did not answer: %(error)s.") % {
                "system_name": self.system_name, "alias": self.database, "error": " ".join(str(exc).split())})
        return Health(True)


def record_pages(queryset, size, attnames=None):
    """Yield lists of a read's rows (`DjangoSide.record_reads`) in primary-key order, one keyset page at a time
    (memory stays flat in N).

    The rows are read as value tuples of ``attnames`` (by default every column; the key among them), converted a
    column at a time (`rows_read`), and made instances without ``Model.__init__`` (`instances_from_rows`): a third
    of the cost of model instances, and the same objects to the rules. A column left out is read for the whole
    page at once when one of its rows first needs it.
    """
    last = None
    model = queryset.model
    attnames = attnames or [f.attname for f in model._meta.concrete_fields]
    ordered = queryset.order_by("pk")
    while True:
        page = ordered if last is None else ordered.filter(pk__gt=last)
        rows = instances_from_rows(model, queryset.db, attnames, rows_read(page.values_list(*attnames)[:size]))
        if not rows:
            return
        count, last = len(rows), rows[-1].pk
        # Handed over, not kept while the caller works on them: the collection after each chunk of a run
        # (p2c.utils.collector_paused) would otherwise find them alive in this frame and walk them all.
        handed = [rows]
        del rows
        yield handed.pop()
        if count < size:  # the last page: asking for the next one would only read the index again
            return


class _DatabaseChanges(Changes):
    """Keyset pages in key order; the cursor after them is just past the latest modified-on read, at most the time
    the read began (a row committed later with an earlier stamp is read again next time, within `WATERMARK_MARGIN`)."""

    def __init__(self, side, queryset, since, page_size, attnames):
        self.side, self.queryset, self.page_size, self.attnames = side, queryset, page_size, attnames
        self.cursor = since
        self.started = timezone.now()

    def __iter__(self):
        side, last, latest = self.side, None, None
        ordered = self.queryset.order_by("pk")
        while True:
            page = ordered if last is None else ordered.filter(pk__gt=last)
            rows = side._dicts(page[:self.page_size], self.attnames)
            if not rows:
                break
            last = rows[-1][side.key_name]
            latest = max([m for m in [latest, *(row[side.modified_name] for row in rows)] if m is not None],
                         default=None)
            yield rows
            if len(rows) < self.page_size:
                break
        if latest is not None:  # as engine.sync.watermark_after: the margin is read again only near the read's start
            after = min(latest + WATERMARK_MARGIN, self.started)
            self.cursor = max(after, self.cursor) if self.cursor else after


def _field_of(meta, attname):
    for f in meta.concrete_fields:
        if f.attname == attname or f.name == attname:
            return f
    raise KeyError(attname)


class SideUnavailable(DatabaseError):
    """A database of the run did not answer, or refused to write: the run stops, the next one picks it up."""


def side_failure(exc):
    """Whether ``exc`` is the database's failure (no connection, a refused write), not one row's bad values."""
    return isinstance(exc, (OperationalError, InterfaceError, InternalError)) and not isinstance(exc, IntegrityError)


def side_unavailable(exc, alias):
    """The `SideUnavailable` to raise for ``exc``, a failure of database ``alias``, naming the database: "The Sales
    database (sales) did not answer: …", in the active language (and as what it means: ``.said``, p2c.said)."""
    values = {"system_name": "Sales" if alias == SALES else "ERP", "alias": alias,
              "error": " ".join(str(exc).split()).rstrip(".")}
    if isinstance(exc, InternalError):
        # Translators: the system name is Sales or ERP, the alias the database's name in the settings, the error
        # the database's own message.
        text = gettext_noop("The %(system_name)s database (%(alias)s) refused the write: %(error)s. Nothing more "
                            "was written; the next run picks up the rest.")
    else:
        # Translators: the system name is Sales or ERP, the alias the database's name in the settings, the error
        # the database's own message.
        text = gettext_noop("The %(system_name)s database (%(alias)s) did not answer: %(error)s. Nothing more was "
                            "written; the next run picks up the rest.")
    unavailable = SideUnavailable(gettext(text) % values)
    unavailable.said = said(text, **values)
    return unavailable


def database_failed(*aliases):
    """Which of ``aliases`` lost its connection (the first, when none says so)."""
    for alias in aliases:
        connection = connections[alias]
        if connection.connection is not None and not connection.is_usable():
            return alias
    return aliases[0]



def _fault(model, obj, exc):
    """(field or None, reason) of a row the database refused."""
    messages = getattr(exc, "message_dict", None)
    if messages:
        name, texts = next(iter(messages.items()))
        return name, " ".join(texts)
    if isinstance(exc, IntegrityError):
        for f in model._meta.concrete_fields:
            value = getattr(obj, f.attname)
            if (f.unique and not f.primary_key and value not in (None, "")
                    and model._base_manager.using(database_for(model)).filter(**{f.attname: value})
                    .exclude(pk=obj.pk).exists()):
                return f.name, said(gettext_noop("%(value)s is already used by another record."), value=str(value))
    return None, " ".join(getattr(exc, "messages", None) or [str(exc)])


def _index_serves(model, field, *, lowered):
    """Whether an index of ``model`` looks ``field`` (``LOWER(field)`` when ``lowered``) up: one that starts with it,
    without a condition other than the field being set (which ``field IN (...)`` implies)."""
    if not lowered and (field.primary_key or field.unique or field.db_index):
        return True
    for index in model._meta.indexes:
        if index.condition is not None and index.condition != Q(**{f"{field.name}__isnull": False}):
            continue
        if lowered:
            first = index.expressions[0] if index.expressions else None
            if isinstance(first, Lower) and first.get_source_expressions() == [F(field.name)]:
                return True
        elif index.fields[:1] == [field.name]:
            return True
    return not lowered and any(isinstance(c, UniqueConstraint) and c.condition is None and c.fields[:1] == (field.name,)
                               for c in model._meta.constraints)
