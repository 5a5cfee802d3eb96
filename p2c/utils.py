"""Small helpers shared by every app."""

import gc
import ipaddress
import json
import os
import time
import uuid
from contextlib import contextmanager
from itertools import islice

from django.db import connections
from django.db.models import F
from django.db.models.lookups import In

from p2c.bulk_writes import NeedsCompiler, prepared_values
from p2c.databases import database_for, databases_of


def chunked(iterable, size):
    """Yield lists of at most ``size`` items (itertools.batched arrives only in Python 3.12)."""
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


def planner_statistics_refresh(*models, written=0, growth=0.1):
    """Refresh PostgreSQL's planner statistics of these models' tables after a bulk load.

    Right after tens of thousands of rows arrive, the statistics still describe the table as it was (empty,
    often), and the planner picks plans that are fine for ten rows and ruinous for 100,000, until autovacuum
    gets round to it. PostgreSQL's own advice for bulk loads is to run ANALYZE afterwards; it samples a fixed
    number of rows, so it costs a fraction of a second at any size. SQLite, without statistics, takes any equality
    for selective: it read a chunk's couplings through the index of their pair (every coupling of the mapping, per
    chunk) and a page of accounts through their state's index (every active account, sorted, per page); its
    ANALYZE tells it otherwise (`_sqlite_statistics_refresh`), read whole: from a sample SQLite takes the rows a
    coupling pair has for the sample's size, and read every coupling of the pair again for each chunk once the
    table passed a few thousand rows (17 ms for 100,000 couplings, 55 ms for 100,000 accounts).

    Only the tables that changed by more than ``growth`` (a tenth, autovacuum's own rule; and `STALE_ROWS` rows) since
    their statistics were taken are analysed: the partitions of one large run, finishing one after the other, then
    refresh them a few times as the tables grow, not once each. What changed is the larger of what the statistics
    collector counted so far and ``written``, the rows the caller wrote since (the collector counts them a second or so
    later, and may count rows written before the last ANALYZE after it: their sum would count those twice):
    one number for every table, or ``{model: rows}`` where the tables were last analysed at different times;
    a table never analysed (-1 rows to the planner) is analysed whatever the collector says, as it may not yet have
    counted a load just made.
    Returns the models whose tables were analysed.
    """
    stale = []
    for alias in databases_of(*models):  # each table in its own database (p2c.databases)
        own = [model for model in models if database_for(model) == alias]
        stale += _statistics_refresh(connections[alias], own, written, growth)
    return stale


def _statistics_refresh(connection, models, written, growth):
    if connection.vendor == "sqlite" and models:
        return _sqlite_statistics_refresh(connection, models, written, growth)
    if connection.vendor != "postgresql" or not models:
        return []
    tables = [model._meta.db_table for model in models]
    written = [written[model] if isinstance(written, dict) else written for model in models]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "JOIN unnest(%s::text[], %s::bigint[]) AS w(relname, written) ON w.relname = s.relname "
            "WHERE c.reltuples < 0 OR GREATEST(n_mod_since_analyze, w.written) >= %s + %s * GREATEST(c.reltuples, 0)",
            [tables, written, STALE_ROWS, growth])
        changed = {row[0] for row in cursor.fetchall()}
        stale = [model for model in models if model._meta.db_table in changed]
        if not stale:
            return []
        # What the planner lacks after a load is the tables' size: a small sample tells it (autovacuum's ANALYZE
        # takes the full one later), in a tenth of the time of the default one.
        cursor.execute("SET default_statistics_target = %s", [QUICK_STATISTICS_TARGET])
        try:
            for model in stale:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        finally:
            cursor.execute("RESET default_statistics_target")
    return stale


def _sqlite_statistics_refresh(connection, models, written, growth):
    """`_statistics_refresh` on SQLite: a table without statistics, or grown past the rule since, is analysed.
    SQLite keeps a table's row count as of its last ANALYZE (``sqlite_stat1``); what was written since is
    ``written`` when the caller counted it, else what others wrote: the table's largest rowid less that count tells
    in no time that nothing was added, and when it says otherwise, the table's count is asked (rows deleted leave
    their rowids behind: couplings deleted and made again, a table emptied and loaded, would otherwise count as
    growth for ever, and a run analysed a table of a million couplings each time, in full)."""
    qn = connection.ops.quote_name
    stale = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        analysed = cursor.fetchone() is not None
        for model in models:
            table = qn(model._meta.db_table)
            counted = None
            if analysed:
                cursor.execute("SELECT MAX(CAST(stat AS INTEGER)) FROM sqlite_stat1 WHERE tbl = %s",
                               [model._meta.db_table])
                counted = cursor.fetchone()[0]
            if counted is not None:
                stale_at = STALE_ROWS + growth * counted
                grown = written[model] if isinstance(written, dict) else written
                if not grown:  # rows written by others: the table's size now against its size then
                    cursor.execute(f"SELECT MAX(rowid) FROM {table}")
                    grown = (cursor.fetchone()[0] or 0) - counted
                    if grown >= stale_at:
                        cursor.execute(f"SELECT COUNT(*) FROM {table}")
                        grown = abs(cursor.fetchone()[0] - counted)
                if grown < stale_at:
                    continue
            stale.append(model)
        for model in stale:
            cursor.execute(f"ANALYZE {qn(model._meta.db_table)}")
    return stale


STALE_ROWS = 500  # changed rows below which a table's statistics are not refreshed
QUICK_STATISTICS_TARGET = 10  # PostgreSQL's default is 100: 300 rows sampled per unit


class AnyOf(In):
    """``field__in=values`` as one parameter where Django's ``IN`` has one placeholder per value, which Django
    compiles and the driver binds one by one in Python (a chunk's 1,000 keys took several milliseconds before the
    database saw them): ``field = ANY(%s)`` with an array on PostgreSQL, ``field IN (SELECT value FROM
    json_each(%s))`` with a JSON array on SQLite (parsed in C; the same index search). For a subquery, and values
    JSON would not give back as they are (only text and 64-bit integers are sent so), it is ``IN``. Used as
    ``queryset.filter(any_of("crm_id", ids))``."""

    def as_postgresql(self, compiler, connection):
        db_type = self.lhs.output_field.db_type(connection)
        if not isinstance(self.rhs, (list, tuple, set, frozenset)) or not db_type:
            return self.as_sql(compiler, connection)
        values = self._values_prepared(connection)
        if values is None:
            return self.as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::{db_type}[])", (*lhs_params, values)

    def as_sqlite(self, compiler, connection):
        values = self._values_prepared(connection) if isinstance(self.rhs, (list, tuple, set, frozenset)) else None
        if not values or not all(type(value) is str or (type(value) is int and -2**63 <= value < 2**63)
                                 for value in values):
            return self.as_sql(compiler, connection)  # none: nothing matches (Django's EmptyResultSet)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} IN (SELECT value FROM json_each(%s))", (*lhs_params, json.dumps(values))

    def _values_prepared(self, connection):
        """The values but None as the field writes them (``get_db_prep_value``, as ``bulk_writes`` converts a
        column: a chunk's UUIDs to text without a call per value); None for an expression among them."""
        try:
            return prepared_values(connection, self.lhs.output_field, [v for v in self.rhs if v is not None])
        except NeedsCompiler:
            return None


def any_of(name, values):
    """The condition ``name__in=values`` as `AnyOf` writes it."""
    return AnyOf(F(name), list(values))


@contextmanager
def collector_paused():
    """Python's cyclic garbage collector off inside the block, then one collection as the collector would choose it
    (`collection_chosen`). For a chunk of a synchronisation, whose thousands of short-lived objects would set off a
    collection every 700 allocations and, as they survive a while, full ones over everything the process holds
    (a tenth of a first load's time); what the chunk left in reference cycles (a few dozen objects) goes then.
    Left off if it was off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        collection_chosen()


class _LongLived:
    """What CPython's collector counts to put off a full collection (its long_lived_pending and long_lived_total)."""

    moved = 0  # objects moved to the oldest generation since the last full collection
    held = None  # objects the oldest generation held after it (None: not counted yet)
    full = None  # the full collections made so far, by any caller (gc.get_stats)


def collection_chosen():
    """One collection, of the generation CPython's collector would choose (gc_collect_generations): the youngest;
    the middle one when its count is past its threshold (counted in blocks rather than allocations); the oldest
    when its count is past too and the objects moved there since the last full collection are more than a quarter
    of what it held then. A full collection walks everything the process holds (a tenth of a second in a worker):
    forced every ten middle ones, it came once every hundred chunks of a run that left a few dozen objects a chunk
    for it to find."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    if counts[1] <= thresholds[1]:
        gc.collect(0)
        return
    full = gc.get_stats()[2]["collections"]
    if full != _LongLived.full:  # one made elsewhere (the collector's own, a gc.collect()): counted from there
        _LongLived.moved, _LongLived.held, _LongLived.full = 0, None, full
    if counts[2] > thresholds[2]:
        if _LongLived.held is None:
            _LongLived.held = len(gc.get_objects(2))
        if _LongLived.moved > _LongLived.held // 4:
            gc.collect(2)
            _LongLived.moved, _LongLived.held = 0, len(gc.get_objects(2))
            _LongLived.full = gc.get_stats()[2]["collections"]
            return
    young = len(gc.get_objects(0)) + len(gc.get_objects(1))
    _LongLived.moved += max(young - gc.collect(1), 0)  # the survivors go to the oldest generation


class _UUID7Keys:
    """Time-ordered keys (`uuid7`): the random bits of 1,024 keys drawn from the system at a time (one system call
    per key, which lets go of the GIL, made a run whose writer thread holds it wait at each new record: 1.4 s of
    deciding 100,000 new customers on PostgreSQL). A forked process (a Celery worker's child) starts with no bits:
    it would otherwise hand out its parent's."""

    BATCH = 1024

    def __init__(self):
        self._bits = []
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self):
        self._bits = []

    def __call__(self):
        try:
            bits = self._bits.pop()  # atomic: threads never share bits
        except IndexError:
            # 64 random bits a key, cut to 62 below, as unsigned integers made in C
            batch = memoryview(os.urandom(8 * self.BATCH)).cast("Q").tolist()
            bits = batch.pop()
            self._bits = batch
        milliseconds, nanoseconds = divmod(time.time_ns(), 1_000_000)
        # RFC 9562's version 7: the Unix time in milliseconds, the version, the millisecond's fraction in 12 bits (its
        # method 3: keys of one process follow the clock within a millisecond too), the variant, 62 random bits
        return uuid_of_int(milliseconds << 80 | (0x7000 | nanoseconds * 4096 // 1_000_000) << 64
                           | _VARIANT_RFC | (bits & _RAND_B))


_RAND_B, _VARIANT_RFC = (1 << 62) - 1, 0b10 << 62
_SAFE_UNKNOWN = uuid.SafeUUID.unknown


def uuid_of_int(value):
    """``uuid.UUID(int=value)`` for a value known to fit 128 bits: its two slots set as its ``__init__`` sets them,
    without the checks of its arguments (half of its time; a key is made for every new record)."""
    key = object.__new__(uuid.UUID)
    object.__setattr__(key, "int", value)
    object.__setattr__(key, "is_safe", _SAFE_UNKNOWN)
    return key


_uuid7_keys = _UUID7Keys()


def uuid7():
    """A new record's key (a Sales record's id, an ERP record's SystemId): a UUID of version 7, whose first 48 bits are
    the time it was made, so that a table's new keys follow each other in its indexes, as the ids Dataverse assigns
    do (sequential GUIDs) and Business Central's CreateSequentialGuid's: random ones (version 4) land all over an
    index, and a large load then writes most of its pages again, chunk after chunk, rather than a few at its end."""
    return _uuid7_keys()


def is_loopback(host):
    """Whether ``host`` is this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
