"""One run of a mapping at a time, across processes and machines.

The lock is a claim written into the mapping row with a single conditional UPDATE, which both PostgreSQL and
SQLite perform atomically: the first run sets ``locked_by``, a second sees zero rows updated and is refused
(or waits, when asked to). A run refreshes ``locked_at`` after every chunk; a claim older than
``STALE_AFTER`` belongs to a crashed run and may be taken over.
"""

import time
import uuid
from contextlib import contextmanager
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

STALE_AFTER = timedelta(minutes=10)


class MappingBusy(Exception):
    """Another run holds the mapping."""


def _claim(mapping, token):
    from integration.models import IntegrationTableMapping

    now = timezone.now()
    free = Q(locked_by="") | Q(locked_at__lt=now - STALE_AFTER) | Q(locked_by=token)
    return IntegrationTableMapping.objects.filter(free, pk=mapping.pk).update(locked_by=token, locked_at=now) == 1


@contextmanager
def mapping_lock(mapping, *, wait_seconds=0, token=None):
    """Hold the run lock of ``mapping`` for the block; raise MappingBusy if another run holds it.

    With the ``token`` of a lock the caller holds already, the block runs under that lock and leaves it held.
    """
    from integration.models import IntegrationTableMapping

    held_already = token is not None
    token = token or uuid.uuid4().hex
    deadline = time.monotonic() + wait_seconds
    while not _claim(mapping, token):
        if time.monotonic() >= deadline:
            holder = IntegrationTableMapping.objects.filter(pk=mapping.pk).values_list("locked_at", flat=True).first()
            raise MappingBusy(
                f"Mapping {mapping.name} is being synchronised by another run (since {holder:%Y-%m-%d %H:%M:%S} UTC); "
                "try again when it has finished."
            )
        time.sleep(0.2)
    try:
        yield token
    finally:
        if not held_already:
            IntegrationTableMapping.objects.filter(pk=mapping.pk, locked_by=token).update(locked_by="", locked_at=None)


class MappingLockLost(Exception):
    """Another run took the lock over (this run made no progress for STALE_AFTER): this run must stop writing."""


def mapping_lock_refresh(mapping, token):
    """Move the heartbeat of the lock ``token`` holds; raise MappingLockLost when it is no longer held."""
    from integration.models import IntegrationTableMapping

    if not IntegrationTableMapping.objects.filter(pk=mapping.pk, locked_by=token).update(locked_at=timezone.now()):
        raise MappingLockLost(
            f"Mapping {mapping.name} was taken over by another run after this one made no progress for "
            f"{int(STALE_AFTER.total_seconds() // 60)} minutes; this run stopped (what it had written is kept)."
        )
