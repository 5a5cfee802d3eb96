"""Service protection as Dataverse's: per login, requests in a sliding window (default 6,000 in 5 minutes) and
requests in flight (default 52). Past either, 429 with ``Retry-After`` and Dataverse's code.

The counts live in the database (`crm.DataverseRequestCount`), changed by single upsert statements, so every
process and machine serving the API counts together, with or without a cache server. The window is kept as slots
of ``DATAVERSE_LIMIT_SLOT_SECONDS`` (10 s): the sum of the slots of the last window is the request count. Requests
in flight are counted in negative slots, one per ten minutes (`_in_flight_slot`): this period's and the last.
"""

import time
from contextlib import contextmanager

from django.conf import settings
from django.db import connections
from django.db.models import Q, Sum
from django.utils.translation import gettext

from crm.models import DataverseRequestCount
from p2c.databases import database_for

from . import errors

IN_FLIGHT_PERIOD = 600  # seconds: a request counts as in flight in the row of the period it started in


def _in_flight_slot(now):
    """The (negative) slot of the in-flight count of the period of ``now``. A count left by a process killed
    mid-request is forgotten two periods later, so a crash never blocks a login for good."""
    return -1 - int(now // IN_FLIGHT_PERIOD)


def _limits():
    return (
        getattr(settings, "DATAVERSE_LIMIT_REQUESTS", 6000),
        getattr(settings, "DATAVERSE_LIMIT_WINDOW_SECONDS", 300),
        getattr(settings, "DATAVERSE_LIMIT_CONCURRENT", 52),
        getattr(settings, "DATAVERSE_LIMIT_SLOT_SECONDS", 10),
    )


def _add(alias, user_id, *slots, amount):
    """Add ``amount`` to the counts of ``slots`` (made when missing), atomically, in one statement (INSERT … ON
    CONFLICT DO UPDATE … RETURNING: PostgreSQL, SQLite ≥ 3.35): a request costs the database three statements, not a
    dozen. Returns each slot's count as this statement left it."""
    connection = connections[alias]
    table = connection.ops.quote_name(DataverseRequestCount._meta.db_table)
    rows = ", ".join(["(%s, %s, %s)"] * len(slots))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (user_id, slot, count) VALUES {rows} ON CONFLICT (user_id, slot) "
                       f"DO UPDATE SET count = {table}.count + excluded.count RETURNING slot, count",
                       [value for slot in slots for value in (user_id, slot, amount)])
        return dict(cursor.fetchall())


@contextmanager
def protected(user_id):
    """Count one request of ``user_id`` for the block; DataverseError 429 when a limit is passed."""
    max_requests, window, max_concurrent, slot_seconds = _limits()
    alias = database_for(DataverseRequestCount)
    now = time.time()
    slot = int(now // slot_seconds)
    first_slot = slot - window // slot_seconds + 1
    rows = DataverseRequestCount.objects.using(alias)
    in_flight = _in_flight_slot(now)
    # This request in the window and in flight together. The counts that statement returns place it among the
    # requests of its own slot and period exactly, however many processes add at once; the earlier slots, which no
    # longer grow, are read after. (Summing every slot after the add would let two racing requests each see the
    # other and both be refused, one short of the limit.)
    added = _add(alias, user_id, slot, in_flight, amount=1)
    counts = rows.filter(Q(slot__gte=first_slot, slot__lt=slot) | Q(slot=in_flight + 1), user_id=user_id).aggregate(
        total=Sum("count", filter=Q(slot__gte=first_slot), default=0),
        running=Sum("count", filter=Q(slot=in_flight + 1), default=0))
    counts["total"] += added[slot]
    counts["running"] += added[in_flight]
    if counts["total"] > max_requests:
        _add(alias, user_id, in_flight, amount=-1)
        # The oldest slot still counted leaves the window first: wait for it (a client that keeps sending keeps
        # filling the window, and waits longer).
        oldest = rows.filter(user_id=user_id, slot__gte=first_slot).order_by("slot").values_list(
            "slot", flat=True).first()
        retry_after = max(1, int((oldest + window // slot_seconds) * slot_seconds - now) + 1)
        raise errors.DataverseError(
            429, errors.REQUESTS_LIMIT,
            gettext("Number of requests exceeded the limit of %(limit)s over time window of %(window)s seconds.")
            % {"limit": max_requests, "window": window},
            headers={"Retry-After": str(retry_after)},
        )
    if counts["running"] > max_concurrent:
        _add(alias, user_id, in_flight, amount=-1)
        raise errors.DataverseError(
            429, errors.CONCURRENCY_LIMIT,
            gettext("Number of concurrent requests exceeded the limit of %(limit)s.") % {"limit": max_concurrent},
            headers={"Retry-After": "1"},
        )
    try:
        yield
    finally:
        _add(alias, user_id, in_flight, amount=-1)
        if slot % 30 == 0:  # now and then, forget the slots that left the window and the past periods' in flight
            rows.filter(user_id=user_id, slot__gte=0, slot__lt=first_slot).delete()
            rows.filter(user_id=user_id, slot__gt=in_flight + 1, slot__lt=0).delete()
