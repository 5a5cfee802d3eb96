"""Near-real-time synchronisation: a committed change to a coupled record is synchronised within seconds.

`records_changed` is called (by `records_written_received`, connected in `integration.apps`) after every write of synchronised records,
bulk writes included. It runs no query: it notes the written ids, with their modified-on and the acting Sales
writer, in a per-transaction buffer and registers one `transaction.on_commit` callback per transaction. When the
transaction commits, `_flush` notes (`changes_note`, `RealtimeChange`) and enqueues the synchronisation of the ids
that

- belong to an enabled mapping with *Synchronise Changes Within Seconds* (``realtime_sync``) whose direction reads
  that side;
- are coupled (and not skipped): new records wait for the scheduled synchronisation, as in BC;
- were not written by the integration itself: Sales rows written as the integration user are ignored, and any row
  whose modified-on is not newer than its coupling's last synchronised value is the engine's own write (the engine
  stores that value in the coupling as it writes), so echoes never ping-pong, whichever door ran the engine.

A Sales reached over the Web API (docs/decisions.md#sales-over-http) commits in another process: `sales_changes_poll`,
on beat every ``P2C_SALES_POLL_SECONDS``, reads its changes since a delta link and hands them to the same enqueue
(`_changed_enqueue`); a settled poll costs one request a table, whatever the number of its mappings. Sales's
modified-on comes in whole seconds there, so a polled row not written by the integration user is a change even in
the second of its last synchronisation (`modified_since`: not earlier at that precision, rather than later).

A near-real-time run takes every record noted for its mapping and direction by the time it holds the mapping
(operations.queued_runs.realtime_changes_synchronize), so changes committed faster than a run takes (a steady stream
of edits, a poll's batch) go together in the next run rather than a run each, and a commit that finds a run on its way
(other records noted within `RUN_ON_ITS_WAY_SECONDS`) enqueues no task of its own (one task per mapping and direction
otherwise, and per chunk of `integration.queue.CHUNK_IDS` ids).

A rolled-back transaction enqueues nothing (its on_commit callback is dropped with it). The flush runs a constant
number of queries whatever the number of rows: the mapping configuration (cached for a few seconds per process,
cleared when a mapping or the connection setup is saved in this process), one coupling query per mapping and chunk of
ids, and two statements to note them.
"""

import logging
import time
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from p2c.utils import chunked

from .. import queue
from ..models import ConnectionSetup, Coupling, Direction, IntegrationTableMapping, RealtimeChange

logger = logging.getLogger("p2c.integration")

LOOKUP_BATCH = 5000  # ids per coupling query, well under SQLite's parameter limit
_config = {"loaded_at": None, "value": None}


def _config_ttl():
    return getattr(settings, "P2C_REALTIME_CONFIG_SECONDS", 5)


def _countdown():
    return settings.P2C_REALTIME_DELAY_SECONDS


def config_clear(**kwargs):
    """Forget the cached configuration (connected to saves of mappings and of the connection setup)."""
    _config["loaded_at"] = None
    _config["value"] = None


def _config_cached():
    """The cached configuration if still fresh, else None (never queries)."""
    loaded = _config["loaded_at"]
    if loaded is None or time.monotonic() - loaded > _config_ttl():
        return None
    return _config["value"]


def realtime_config():
    """``{"integration_user_id": ..., "by_label": {model label: [(mapping, direction, side)]}}`` (cached)."""
    value = _config_cached()
    if value is not None:
        return value
    by_label = defaultdict(list)
    for mapping in IntegrationTableMapping.objects.filter(realtime_sync=True, is_enabled=True, crm_option_field=""):
        if mapping.direction in (Direction.BIDIRECTIONAL, Direction.TO_INTEGRATION):
            by_label[mapping.erp_model].append((mapping, Direction.TO_INTEGRATION, "erp"))
        if mapping.direction in (Direction.BIDIRECTIONAL, Direction.FROM_INTEGRATION):
            by_label[mapping.crm_model].append((mapping, Direction.FROM_INTEGRATION, "crm"))
    setup = ConnectionSetup.objects.filter(pk=1).values("integration_user_id").first()
    value = {"integration_user_id": setup["integration_user_id"] if setup else None, "by_label": dict(by_label)}
    _config["value"], _config["loaded_at"] = value, time.monotonic()
    return value


class _Pending:
    """What one transaction wrote: per (model, acting writer) the ids with their modified-on, and update() sets.
    It is the transaction's on_commit callback (calling it flushes it), where its later writes find it."""

    def __init__(self):
        self.flushed = False
        self.rows = defaultdict(dict)  # (model, writer id) -> {pk: modified}
        self.querysets = []  # (model, writer id, queryset) from QuerySet.update()

    def __call__(self):
        self.flushed = True
        _flush(self)


def _transaction_pending(connection):
    """The buffer the transaction open on ``connection`` registered as its callback, while it is registered (a
    rollback drops it, a commit runs it) and not run yet (a test's capture runs it and leaves it there), else None."""
    for _, func, _ in connection.run_on_commit:
        if type(func) is _Pending and not func.flushed:
            return func
    return None


def records_written_received(sender, instances=None, queryset=None, created=False, writer=None, **kwargs):
    """Changed (not created) synchronised records: note them for synchronisation when the transaction commits."""
    if created:
        return  # a new record is not coupled yet: the scheduled synchronisation picks it up
    records_changed(model=sender, instances=instances, queryset=queryset, writer=writer)


def records_changed(*, model, instances=None, queryset=None, using=None, writer=None):
    """Note changed rows of ``model`` for synchronisation once the transaction commits. Runs no query. ``writer``:
    the Sales user who wrote them (None: unknown or another side's)."""
    config = _config_cached()
    if config is not None and model._meta.label not in config["by_label"]:
        return  # known: no realtime mapping reads this table
    instances = list(instances) if instances is not None else None
    if using is None:
        using = queryset.db if queryset is not None else (instances[0]._state.db if instances else None)
    alias = using or DEFAULT_DB_ALIAS
    connection = connections[alias]
    immediate = not connection.in_atomic_block  # autocommit: the write is already committed
    # One callback per transaction: the buffer it registered, while registered
    pending = None if immediate else _transaction_pending(connection)
    if pending is None:
        pending = _Pending()
        if not immediate:
            transaction.on_commit(pending, using=alias)
    if queryset is not None and instances is None:
        pending.querysets.append((model, writer, queryset))
    else:
        modified_field = model.MODIFIED_FIELD
        rows = pending.rows[(model, writer)]
        for obj in instances or ():
            if obj.pk is not None:
                rows[obj.pk] = getattr(obj, modified_field, None)
    if immediate:
        _flush(pending)


def _flush(pending):
    """Enqueue the synchronisation of the coupled rows the committed transaction changed."""
    try:
        config = realtime_config()
        changed = defaultdict(dict)  # model -> {pk: modified}
        for (model, writer), rows in pending.rows.items():
            if model._meta.label in config["by_label"] and not _is_integration(model, writer, config):
                changed[model].update(rows)
        for model, writer, queryset in pending.querysets:
            if model._meta.label in config["by_label"] and not _is_integration(model, writer, config):
                changed[model].update(dict(queryset.values_list("pk", model.MODIFIED_FIELD)))
        for model, rows in changed.items():
            for mapping, direction, side in config["by_label"][model._meta.label]:
                _changed_enqueue(mapping, direction, side, rows)
    except Exception:  # a failed enqueue must never break the write that was committed
        logger.exception("Near-real-time synchronisation could not be enqueued")


def _changed_enqueue(mapping, direction, side, rows, resolution=None, countdown=None):
    """Note, then enqueue, the synchronisation of the rows of ``rows`` (``{id: modified}`` of ``side``'s table)
    that are coupled in ``mapping`` and newer than their last synchronisation (at ``resolution``, the precision of a
    polled side's modified-on: `modified_since`): what near-real-time does with a change, whether a commit here told
    it or a poll of a Sales over the Web API. The ids are noted (`RealtimeChange`) before their task is enqueued: the
    task runs every id noted by the time it holds the mapping (operations.queued_runs.realtime_changes_synchronize),
    so a steady stream of commits is synchronised a run for many, not a run each, and the tasks whose ids an
    earlier run took do nothing. ``countdown``: seconds before the task runs (default
    ``P2C_REALTIME_DELAY_SECONDS``). Returns the ids enqueued."""
    ids = _coupled_and_newer(mapping, side, rows, resolution)
    if ids and not changes_note(mapping, direction, ids):
        queue.mapping_synchronize_ids_enqueue(mapping_id=mapping.pk, direction=direction, ids=ids,
                                              countdown=_countdown() if countdown is None else countdown)
    return ids


# Records noted this recently by another commit have a run on its way (enqueued by that commit, or by the run that
# found them noted after taking its own: realtime_changes_synchronize); older ones may belong to a run that gave up
# waiting for a busy mapping, and a new run is enqueued.
RUN_ON_ITS_WAY_SECONDS = 60


def changes_note(mapping, direction, ids):
    """Note ``ids`` (source records of ``mapping`` in ``direction``) for its next near-real-time run, a record
    already noted noted again (its ``noted_at`` moved: a run that took it before keeps it noted). Returns whether a
    run is on its way that will take them (other records noted within `RUN_ON_ITS_WAY_SECONDS`): then no task is
    enqueued, and a stream of commits costs one task a run, not one each. Two statements."""
    now = timezone.now()
    noted = RealtimeChange.objects.filter(table_mapping_id=mapping.pk, direction=direction)
    keys = [str(i) for i in ids]
    RealtimeChange.objects.bulk_create(
        [RealtimeChange(table_mapping_id=mapping.pk, direction=direction, record_id=key, noted_at=now) for key in keys],
        update_conflicts=True, unique_fields=["table_mapping", "direction", "record_id"], update_fields=["noted_at"])
    # Asked after the note is written: a run that takes the others now finds this one noted when it has finished
    return noted.filter(noted_at__gte=now - timedelta(seconds=RUN_ON_ITS_WAY_SECONDS)).exclude(
        record_id__in=keys).exists()


POLL_CURSOR = "crm_poll"


def sales_changes_poll():
    """Near-real-time from a Sales reached over the Web API, whose writes raise no signal in this process: for each
    Sales table read by an enabled mapping with *Synchronise Changes Within Seconds*, the rows changed since its last
    poll (Sales's change tracking: its delta link, kept as each such mapping's `SideCursor` ``crm_poll``) go the way a
    commit here goes (`_changed_enqueue`) for every one of those mappings, those the integration wrote itself left
    out. The table is polled once whatever the number of its mappings, so a settled poll costs one request a table.
    Nothing to do when Sales is this process's (its commits tell it). Run from beat every
    ``P2C_SALES_POLL_SECONDS``; returns the ids enqueued, by mapping name. A table whose poll fails is told in the
    log and polled again next time (its cursors kept)."""
    from django.apps import apps

    from ..engine.sides.dataverse_http import configured

    if configured() is None:
        return {}
    enqueued = {}
    for label, entries in realtime_config()["by_label"].items():
        entries = sorted((e for e in entries if e[2] == "crm"), key=lambda e: e[0].pk)
        if entries:
            enqueued.update(_table_poll(apps.get_model(label), entries))
    return enqueued


def _table_poll(model, entries):
    """Poll one Sales table for its mappings ``entries`` (``(mapping, direction, "crm")``): once for each delta link
    they hold (one once they have been polled together: a settled table costs one request); a mapping without one
    yet takes the changes the others' links give, or, none having one, starts following from now. Every mapping then
    keeps the same new link."""
    from ..engine.sides import side_for
    from ..engine.sides.dataverse_http import SalesApiError
    from ..models import SideCursor

    names = ", ".join(mapping.name for mapping, _direction, _side in entries)
    held = dict(SideCursor.objects.filter(table_mapping_id__in=[m.pk for m, _d, _s in entries], name=POLL_CURSOR)
                .values_list("table_mapping_id", "value"))
    links = list(dict.fromkeys(held[m.pk] for m, _d, _s in entries if m.pk in held)) or [None]
    try:
        side = side_for(model, key="crm")
        changed, link = {}, None
        for cursor in links:
            polled, link = side.changes_polled(cursor)
            changed.update(polled)
        own = side.user_id if changed else None  # asked only when something changed
    except SalesApiError as exc:
        logger.warning("Polling Sales's changes for %s failed: %s", names, exc)
        return {}
    # The integration's own writes are told apart by their writer: the others are changes, even in the second of the
    # last synchronisation (Sales's modified-on is in whole seconds, `modified_since`)
    rows = {key: modified for key, (modified, writer) in changed.items() if writer != own}
    enqueued = {}
    for mapping, direction, _side in entries:
        # No countdown: the poll gathered what changed in its interval already
        ids = _changed_enqueue(mapping, direction, "crm", rows, side.modified_resolution, countdown=0) if rows else []
        if ids:
            enqueued[mapping.name] = ids
        if link and link != held.get(mapping.pk):
            SideCursor.objects.update_or_create(table_mapping_id=mapping.pk, name=POLL_CURSOR,
                                                defaults={"value": link})
    return enqueued


def _is_integration(model, writer, config):
    return bool(model.MODIFIED_BY_FIELD) and writer is not None and writer == config["integration_user_id"]


def _coupled_and_newer(mapping, side, rows, resolution=None):
    """The ids among ``rows`` coupled in ``mapping`` (not skipped) and changed since their last synchronisation:
    modified later (a commit here: not later is the engine's own write), or, at a ``resolution``, not earlier."""
    from ..engine.sides.base import modified_since

    id_field, last_field = f"{side}_id", f"last_synced_{side}_modified"
    result = []
    for batch in chunked(list(rows), LOOKUP_BATCH):
        couplings = Coupling.objects.filter(
            erp_model=mapping.erp_model, crm_model=mapping.crm_model, skipped=False, **{f"{id_field}__in": batch}
        ).values_list(id_field, last_field)
        for pk, last in couplings:
            modified = rows.get(pk)
            if modified is None or last is None or modified_since(modified, last, resolution):
                result.append(pk)
    return sorted(result, key=str)
