"""Small helpers shared by every app."""

from itertools import islice

from django.db import connection


def chunked(iterable, size):
    """Yield lists of at most ``size`` items (itertools.batched arrives only in Python 3.12)."""
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


def planner_statistics_refresh(*models):
    """Refresh PostgreSQL's planner statistics of these models' tables after a bulk load.

    Right after tens of thousands of rows arrive, the statistics still describe the table as it was (empty,
    often), and the planner picks plans that are fine for ten rows and ruinous for 100,000, until autovacuum
    gets round to it. PostgreSQL's own advice for bulk loads is to run ANALYZE afterwards; it samples a fixed
    number of rows, so it costs a fraction of a second at any size. SQLite plans well enough without.

    Only the tables that changed by more than a tenth (and `STALE_ROWS` rows) since their statistics were taken are
    analysed, as autovacuum would analyse them later: the partitions of one large run, finishing one after the other,
    then refresh them a few times as the tables grow, not once each.
    """
    if connection.vendor != "postgresql" or not models:
        return
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "WHERE relname = ANY(%s) AND n_mod_since_analyze >= %s + 0.1 * GREATEST(c.reltuples, 0)",
            [tables, STALE_ROWS])
        stale = {row[0] for row in cursor.fetchall()}
        for table in tables:
            if table in stale:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


STALE_ROWS = 500  # changed rows below which a table's statistics are not refreshed
