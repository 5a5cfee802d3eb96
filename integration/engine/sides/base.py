"""What the engine asks of one side of a mapping (Sales or the ERP), and nothing Django-specific: values, keys and
opaque cursors in, values out.

A *row* is a plain ``dict`` of the side's field names (attnames) to values; it always holds the key
(`Side.key_name`) and the modified-on (`Side.modified_name`). A *cursor* is an opaque value the side gives
(`Changes.cursor`, `Deletions.cursor`) and takes back on the next call: a watermark for a database, a delta link for
a Web API. ``None`` is "from the start".
"""

import abc
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field


class CannotAnswer(Exception):
    """The side cannot answer this question (no deletion log, a cursor older than what it keeps): the caller falls
    back to the long way (every key compared), or refuses to run with a message naming what asked."""


@dataclass(frozen=True)
class Written:
    """One row's answer to `Side.write`: written (with its key and its new modified-on), or failed with the field at
    fault (None: the whole row) and the reason, in words a person reads."""

    key: object
    ok: bool
    modified: object = None
    field: str | None = None
    reason: str = ""


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

    def key_of(self, row):
        return row[self.key_name]

    def __repr__(self):
        return f"<{type(self).__name__} {self.label}>"
