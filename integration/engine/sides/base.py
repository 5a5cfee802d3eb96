"""What the engine asks of one side of a mapping (Sales or the ERP), and nothing Django-specific: values, keys and
opaque cursors in, values out.

A *row* is a plain ``dict`` of the side's field names (attnames) to values; it always holds the key
(`Side.key_name`) and the modified-on (`Side.modified_name`). A *cursor* is an opaque value the side gives
(`Changes.cursor`, `Deletions.cursor`) and takes back on the next call: a watermark for a database, a delta link for
a Web API. ``None`` is "from the start".
"""

import abc
from collections.abc import Iterable, Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from p2c.records import instance_maker
from p2c.utils import chunked


class CannotAnswer(Exception):
    """The side cannot answer this question (no deletion log, a cursor older than what it keeps): the caller falls
    back to the long way (every key compared), or refuses to run with a message naming what asked."""


@dataclass(frozen=True)
class Written:
    """One row's answer to `Side.write`: written (with its key and its new modified-on), or failed with the field at
    fault (None: the whole row) and the reason, in words a person reads (a `p2c.said.Said`, told in the reader's
    language, or a text: the side's own words)."""

    key: object
    ok: bool
    modified: object = None
    field: str | None = None
    reason: str = ""
    error: Exception | None = None  # what a side in this process raised (the engine words a duplicate from it)


@dataclass(frozen=True)
class Health:
    ok: bool
    message: str = ""


@dataclass
class Deletions:
    """The keys deleted since a cursor, and the cursor to give back next time."""

    keys: set
    cursor: object


class Changes(abc.ABC):
    """The rows changed since a cursor, as an iterator of keyset pages (lists of rows in key order); once the pages
    are read, `cursor` is the cursor to give back next time. A row may come again in a later read (at least once:
    a database re-reads what a late commit may have hidden), never not at all."""

    cursor: object = None

    @abc.abstractmethod
    def __iter__(self) -> Iterator[list[dict]]:
        ...


@dataclass(frozen=True)
class MatchQuery:
    """Candidates for match-based coupling: rows whose field ``name`` holds one of ``values`` for any ``(name,
    values)`` of ``fields``. A field in ``case_insensitive`` is compared trimmed and lower-cased (the values given
    are so already); ``scope``: fields every candidate must hold one of the values of, whatever the match."""

    fields: Mapping[str, frozenset]
    case_insensitive: frozenset = frozenset()
    scope: Mapping[str, frozenset] = field(default_factory=dict)


class Side(abc.ABC):
    """One system the engine keeps in step: Sales or the ERP, in this process's database or reached over HTTP.

    ``key``: "erp" or "crm" (which side of a coupling it is); ``label``: its table, e.g. ``crm.Account``.
    """

    key: str
    label: str
    key_name: str
    modified_name: str
    system_name: str
    writer_name: str | None = None
    # The model of this project whose instances stand for the side's rows in the engine (the field mappings and
    # rules read and set them), whether the rows live in this process's database or not; None: rows only.
    model = None
    # The alias of this process's database holding the rows, None when they are elsewhere (over HTTP, in memory)
    database = None
    # Whether a write that raised left nothing written (a database's transaction); else what reached the side is
    # found out afterwards (the intents, engine/intents.py)
    transactional = False
    # The precision of the side's modified-on (a timedelta), None when every write moves it: Dataverse gives it in
    # whole seconds, so a change in the second of the last synchronisation is not later than it (`modified_since`)
    modified_resolution = None

    @staticmethod
    def key_order(key):
        """A sort key giving the order in which the side compares its keys (``key_range``'s ``low <= key < high``):
        Python's, as the databases here order their keys; a side whose server orders them otherwise says so, and
        whoever cuts its keys into ranges sorts them by it."""
        return key

    def in_key_range(self, key, key_range):
        """Whether ``key`` is in ``key_range`` (``(low, high)``, either end None for open), in the side's order."""
        low, high = key_range
        order = self.key_order
        return (low is None or order(key) >= order(low)) and (high is None or order(key) < order(high))

    # -- reading -------------------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def changes(self, since, *, key_range=None, page_size=5000, fields=None) -> Changes:
        """The rows changed since the cursor ``since`` (None: every row), in keyset pages of ``page_size`` within
        ``key_range`` (``(low, high)``: ``low <= key < high``, either end None for open; a partition of a run), with
        ``fields`` (None: every field)."""

    @abc.abstractmethod
    def changed_count(self, since, *, key_range=None) -> int:
        """How many rows `changes` would give for ``since`` (the health page's *waiting*, the review's counts)."""

    @abc.abstractmethod
    def rows(self, keys: Iterable, *, fields=None) -> dict:
        """``{key: row}`` of the rows of these keys that exist (missing keys are left out)."""

    @abc.abstractmethod
    def match_candidates(self, query: MatchQuery, *, fields=None) -> list[dict]:
        """The rows (within the side's filter) that `MatchQuery` finds, in no order."""

    @abc.abstractmethod
    def deletions(self, since) -> Deletions:
        """The keys deleted since the cursor ``since``; raises `CannotAnswer` when the side does not know (it keeps
        no log, or not that far back)."""

    @abc.abstractmethod
    def deletions_cursor(self):
        """A cursor from which `deletions` lists what is deleted from now on (a run that compared every key starts
        reading the side's deletions from there)."""

    def deletions_cursor_past_writes(self, since):
        """The deletions cursor a run that wrote to this side leaves, taken at ``since`` (before its writes): one
        past the run's own writes where the side would otherwise list them again (a change-tracking stream), so
        that the next run does not read them back; never past a deletion made meanwhile, which the next run still
        finds. Here: ``since`` (a side's own deletion log lists deletions alone)."""
        return since

    @abc.abstractmethod
    def writers(self, keys: Iterable) -> dict:
        """``{key: who last wrote the row}`` (the writer's id, None when unknown): the integration recognises its own
        writes by it, not by what this process remembers."""

    # -- writing -------------------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def new_keys(self, count: int) -> list:
        """Keys for ``count`` new rows, chosen before they are written (a UUID for Sales, as Dataverse takes the
        client's). A side that cannot choose them beforehand answers None for each: `write` then tells the key."""

    @abc.abstractmethod
    def write(self, *, inserts=(), updates=(), writer=None) -> list[Written]:
        """Write ``inserts`` (``(key, values)`` pairs: new rows, their keys from `new_keys`) and ``updates``
        (``(key, values)`` of existing rows, the fields to change), as ``writer`` (who the rows say wrote them);
        one `Written` per row, inserts first, each in its order. A row that fails does not stop the others."""

    # -- the side itself -----------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def health(self) -> Health:
        """Whether the side answers now, and if not, why, in words."""

    def any_row_unlisted(self, listed_among, *, count=None, local=None, page_size=5000):
        """Whether some row (within the side's filter) is not listed elsewhere: ``listed_among(keys)`` tells how
        many of ``keys`` are (e.g. coupled); ``count()``: how many rows are listed in all (fewer than the side has
        settles it). Read in keyset pages of keys until one is found. ``local``: the listing as a
        queryset and its key column, for a side that can ask its own database in one query (`DjangoSide`)."""
        if count is not None and count() < self.changed_count(None):
            return True
        for page in self.changes(None, page_size=page_size, fields=[]):
            keys = [self.key_of(row) for row in page]
            if listed_among(keys) < len(keys):
                return True
        return False

    def rows_where(self, name, values, *, fields=None, scope=None, case_insensitive=False):
        """The rows whose field ``name`` holds one of ``values`` (``case_insensitive``: compared trimmed and
        lower-cased) and each field of ``scope`` one of its values, with ``fields``, in no order: what the rules look
        up beyond the run's tables (integration/rules/reads.py)."""
        if case_insensitive:
            values = {value.strip().lower() for value in values}
        query = MatchQuery(fields={name: frozenset(values)},
                           case_insensitive=frozenset({name}) if case_insensitive else frozenset(),
                           scope={field: frozenset(kept) for field, kept in (scope or {}).items()})
        return self.match_candidates(query, fields=fields)

    def key_of(self, row):
        return row[self.key_name]

    # -- where the rows live -----------------------------------------------------------------------------------------
    def in_database(self, alias):
        """Whether the rows are in this process's database ``alias`` (one transaction may hold them and the
        couplings)."""
        return self.database is not None and self.database == alias

    def transaction(self):
        """A context in which the side's writes commit together, where it has one (a database's)."""
        return nullcontext()

    def own_writer(self, integration_user_id):
        """Who the side's rows say wrote them when the integration did (`writers`): the integration user of this
        process's set-up, or the user the side signs in as."""
        return integration_user_id

    # -- the engine's rows as instances -----------------------------------------------------------------------------
    # The engine decides over instances of `model` (the rules and field mappings read them). A side that hands out
    # rows as dicts gets these generic versions; `DjangoSide` has its own, reading and writing its database directly.

    @cached_property
    def _instance_make(self):
        return instance_maker(self.model)

    def instance(self, row):
        """A row as an (unsaved) instance of `model`: what ``model(**row)`` gives (`p2c.records.instance_maker`,
        without Model.__init__'s per-field keyword lookups: a tenth of a first load's Python over HTTP)."""
        obj = self._instance_make(row)
        obj._state.adding = False
        return obj

    def kept(self, row):
        """Whether the mapping's filter keeps ``row`` (a side that filters in its own queries keeps every row)."""
        return True

    def records(self, keys, *, lock=False):
        """``{key: instance}`` of these keys (``lock``: a side with transactions locks them for the write; the
        others detect a change since the read when writing: an ETag)."""
        return {key: self.instance(row) for key, row in self.rows(list(keys)).items()} if keys else {}

    def record_reads(self, *, narrow=None, key_range=None, writer_excluded=None, only_keys=None, skipped=None,
                     since=None, retry=(), in_sync=None):
        """The reads of a run's source rows, in order, read by `record_pages` (see `DjangoSide.record_reads`).
        Here: the rows of ``only_keys``; else the ``retry`` keys, then the rows changed since the cursor ``since``
        (None: every row), less the rows last written by ``writer_excluded`` and those ``skipped`` lists (a
        queryset of the couplings and its column of this side's keys). ``narrow`` and ``in_sync`` are a
        database's (the caller refuses rules that narrow for a side without one)."""
        common = {"key_range": key_range, "writer_excluded": writer_excluded,
                  "skipped": frozenset(skipped[0].values_list(skipped[1], flat=True)) if skipped else frozenset()}
        if only_keys is not None:  # given as text by a task: the side's keys are the model's (a UUID for Sales)
            to_key = self.model._meta.pk.to_python
            return [RowsRead(keys=[to_key(key) for key in only_keys], **common)]
        reads = [RowsRead(keys=sorted(retry, key=str), **common)] if retry and since is not None else []
        return [*reads, RowsRead(since=since, **common)]

    def record_pages(self, read, size, attnames=None):
        """The instances of a read of `record_reads`, in pages of at most ``size``."""
        if read.keys is not None:
            pages = (self.rows(batch) for batch in chunked(read.keys, size))
            pages = ([rows[key] for key in batch if key in rows] for batch, rows in
                     zip(chunked(read.keys, size), pages, strict=True))
        else:
            read.changes = self.changes(read.since, key_range=read.key_range, page_size=size)
            pages = iter(read.changes)
        for page in pages:
            rows = [self.instance(row) for row in page if read.keeps(self, row) and self.kept(row)]
            if rows:
                yield rows

    def read_count(self, read):
        """How many rows a read of `record_reads` reads at most (a progress bar's total)."""
        return len(read.keys) if read.keys is not None else self.changed_count(read.since, key_range=read.key_range)

    def cursor_after(self, reads, *, max_seen, started):
        """The cursor the next run reads the changes since, once ``reads`` are read (None: none read them all)."""
        cursors = [read.changes.cursor for read in reads if getattr(read, "changes", None) is not None]
        return cursors[-1] if cursors else None

    def pairs_query(self, by, to, values):
        """``(by, to)`` of the rows whose ``by`` (an attname, or "pk") is one of ``values``: a list here."""
        by_name, to_name = (self.key_name if n == "pk" else n for n in (by, to))
        values = frozenset(values)
        if not values:
            return []
        if by_name == self.key_name:
            rows = self.rows(values, fields=[to_name]).values()
        else:
            rows = self.match_candidates(MatchQuery(fields={by_name: values}), fields=[by_name, to_name])
        return [(row[by_name], row[to_name]) for row in rows if row.get(by_name) in values]

    def keys_take(self, objs):
        """Give new instances their keys now (`new_keys`), before anything of them is written or intended."""
        new = [obj for obj in objs if obj.pk is None]
        for obj, key in zip(new, self.new_keys(len(new)), strict=True):
            obj.pk = key

    def record_values(self, obj):
        """What a new instance writes: its fields but the key, the modified-on and the writer (the side's own)."""
        skipped = {self.key_name, self.modified_name, self.writer_name}
        return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if f.attname not in skipped}

    def records_save(self, objs, *, new, attnames=(), writer=None, meanwhile=None, side_failures_raise=False,
                     reserved=None):
        """Write ``objs`` (instances: ``new`` ones, their keys taken, or existing ones, their fields ``attnames``),
        as ``writer``; one `Written` per instance, in order, a row that fails not stopping the others. Each one
        written gets the modified-on the side gave it. ``meanwhile``: the caller's work once the rows are written
        (while a database writes them, `DjangoSide`). ``reserved``: numbers taken ahead for the new records, for a
        side that numbers them in this process (`DjangoSide`; a side across HTTP numbers its own)."""
        if new:
            self.keys_take(objs)
            answers = self.write(inserts=[(obj.pk, self.record_values(obj)) for obj in objs], writer=writer)
        else:
            answers = self.write(updates=[(obj.pk, {name: getattr(obj, name) for name in attnames}) for obj in objs],
                                 writer=writer)
        for obj, answer in zip(objs, answers, strict=True):
            if answer.ok and answer.modified is not None:
                setattr(obj, self.modified_name, answer.modified)
        if meanwhile is not None:
            meanwhile()
        return answers

    def record_holding(self, obj, values):
        """Another record than ``obj`` holding ``values`` (a duplicate's holder, to name it), or None."""
        return None

    def records_insert_undo(self, keys):
        raise NotImplementedError("only a side written in the couplings' transaction takes rows back")

    def statistics_refresh(self, *others, **options):
        """Refresh a database's planner statistics after a bulk write; the models refreshed (none here)."""
        return ()

    def writes_behind(self):
        """Whether a chunk's write may go to another connection while the next is read (a database's)."""
        return False

    def reads_outside_transaction(self):
        return True

    def __repr__(self):
        return f"<{type(self).__name__} {self.label}>"


@dataclass
class RowsRead:
    """One read of a run's source rows (`Side.record_reads`): the rows of ``keys``, or (``keys`` None) the rows
    changed since the cursor ``since``; less the rows written by ``writer_excluded`` and the ``skipped`` keys.
    ``changes``: the side's `Changes`, once read (its cursor is the next run's)."""

    keys: list | None = None
    since: object = None
    key_range: tuple | None = None
    writer_excluded: object = None
    skipped: frozenset = frozenset()
    changes: Changes | None = None

    def keeps(self, side, row):
        key = row[side.key_name]
        if key in self.skipped:
            return False
        if self.key_range is not None and self.keys is not None and not side.in_key_range(key, self.key_range):
            return False
        return self.writer_excluded is None or side.writer_name is None or \
            row.get(side.writer_name) != self.writer_excluded


def modified_since(modified, last, resolution=None):
    """Whether a row modified at ``modified`` may hold a change made after ``last`` (the modified-on synchronised
    last). With a ``resolution`` (`Side.modified_resolution`), both are taken at it and the same instant counts:
    a later change in the same second gives the same whole-second modified-on, and the writer, not the time, tells
    the integration's own writes apart."""
    if resolution is None:
        return modified > last
    return _floor(modified, resolution) >= _floor(last, resolution)


def _floor(moment, resolution):
    return moment - (moment - datetime.min.replace(tzinfo=moment.tzinfo)) % resolution
