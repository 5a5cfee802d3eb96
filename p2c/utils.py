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
    """
    if connection.vendor != "postgresql" or not models:
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
