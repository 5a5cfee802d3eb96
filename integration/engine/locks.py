"""One run of a mapping at a time, across processes and machines; a lock dies with the process holding it.

Every run has a *holder*: a token naming its host and process id (``host:pid:random``). On PostgreSQL the holder
keeps a connection of its own holding a session-level advisory lock on its token, and the run holds its mapping
through a second advisory lock (``pg_try_advisory_lock``) on that connection: PostgreSQL releases both the moment
the connection goes, so a run killed with ``kill -9`` frees its mapping at once, and whether a holder is alive is
one look at ``pg_locks``. On other databases (SQLite: one machine) a holder is alive while its process is (on this
host), or while it refreshed its heartbeat within `HEARTBEAT_STALE` (a holder on another machine).

The mapping row keeps the claim for display and for the other databases: ``locked_by`` (the holder's token) and
``locked_at`` (its heartbeat, moved at most every `HEARTBEAT_EVERY`), set with a conditional UPDATE that PostgreSQL
and SQLite both perform atomically. Taking a mapping closes the jobs of that mapping whose holder is gone
(`jobs_close_stopped`): they stay *running* for ever otherwise.
"""

import hashlib
import logging
import os
import socket
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta

from django.db import DatabaseError, connections
from django.utils import timezone
from django.utils.translation import gettext_noop

from integration.models import IntegrationTableMapping, SyncJob
from p2c.said import said

logger = logging.getLogger("p2c.integration")

HEARTBEAT_STALE = timedelta(minutes=1)  # a holder on another machine that has not moved for this long is gone
HEARTBEAT_EVERY = timedelta(seconds=5)  # how often a run moves its heartbeat: well inside HEARTBEAT_STALE
STALE_AFTER = timedelta(minutes=10)  # a holder on this host whose pid lives on (reused by another process) is gone
HOST = socket.gethostname()[:24]
MAPPING_LOCKS = 0x70326301  # the advisory-lock namespace of mapping runs (two-int form: namespace, mapping id)
_OPEN = set()  # the tokens of this process's holders still open (a run of this process that ended is gone)


class MappingBusy(Exception):
    """Another run holds the mapping. ``said``: the message as what it means (p2c.said), for the job or line that
    stores it."""

    def __init__(self, message):
        super().__init__(str(message))
        self.said = message


class MappingLockLost(Exception):
    """This run no longer holds its mapping (its claim was judged stopped and taken over): it must stop writing.
    ``said`` as MappingBusy's."""

    def __init__(self, message):
        super().__init__(str(message))
        self.said = message


# -- holders ------------------------------------------------------------------------------------------------------
def _alias():
    return IntegrationTableMapping.objects.db


def _on_postgres(alias=None):
    return connections[alias or _alias()].vendor == "postgresql"


def _token_key(token):
    """The advisory-lock key (a signed 64-bit int, one-int form) of a holder token."""
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "big", signed=True)


class Holder:
    """A run's identity while it runs: its token, and on PostgreSQL the connection that keeps it alive."""

    def __init__(self):
        self.token = f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self.alias = _alias()
        self.connection = None
        _OPEN.add(self.token)
        if _on_postgres(self.alias):
            # A connection of its own: the run's connection may close between requests or sit in a failed
            # transaction; this one stays in autocommit, open exactly as long as the run.
            self.connection = connections.create_connection(self.alias)
            self._select("SELECT pg_advisory_lock(%s)", [_token_key(self.token)])

    def _select(self, sql, params):
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    def try_lock(self, namespace, key):
        """PostgreSQL: take the advisory lock (namespace, key) for as long as this holder lives; False if taken."""
        return self._select("SELECT pg_try_advisory_lock(%s, %s)", [namespace, key])

    def close(self):
        _OPEN.discard(self.token)
        if self.connection is not None:
            try:
                # Released here, not only by ending the session: the server ends a closed session when it gets to
                # it, and a run of the same mapping started at once (on a loaded machine) found it still held.
                self._select("SELECT pg_advisory_unlock_all()", [])
                self.connection.close()  # ends the session: PostgreSQL releases its advisory locks
            except DatabaseError:
                logger.warning("Closing the lock connection of %s failed", self.token, exc_info=True)
            self.connection = None


@contextmanager
def holding():
    """A `Holder` for the block (a run that must be known alive while it lasts: a full synchronisation line)."""
    holder = Holder()
    try:
        yield holder
    finally:
        holder.close()


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child its parent has not reaped yet is a zombie: gone all the same
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _parse(token):
    host, _, rest = (token or "").partition(":")
    pid, _, _ = rest.partition(":")
    return (host, int(pid)) if pid.isdigit() else (None, None)


def holders_alive(claims, *, now=None):
    """The tokens among ``claims`` (token → last heartbeat or None) whose holder is still running."""
    claims = {token: beat for token, beat in claims.items() if token}
    if not claims:
        return set()
    if _on_postgres():
        with connections[_alias()].cursor() as cursor:
            cursor.execute(
                "SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks WHERE locktype = 'advisory' "
                "AND objsubid = 1 AND granted AND database = (SELECT oid FROM pg_database "
                "WHERE datname = current_database())"
            )
            held = {key if key < 2**63 else key - 2**64 for (key,) in cursor.fetchall()}
        return {token for token in claims if _token_key(token) in held}
    now = now or timezone.now()
    alive = set()
    for token, beat in claims.items():
        host, pid = _parse(token)
        if host == HOST and pid == os.getpid():
            if token in _OPEN:
                alive.add(token)
        elif host == HOST:
            if _pid_alive(pid) and not (beat and beat < now - STALE_AFTER):
                alive.add(token)
        elif beat and beat >= now - HEARTBEAT_STALE:
            alive.add(token)
    return alive


def holder_alive(token, heartbeat=None):
    return token in holders_alive({token: heartbeat})


def holder_gone(token, *, beats=(), mapping=None):
    """Is the run that claimed something with ``token`` gone? The one answer to "is this claim still live" for
    jobs, full synchronisation lines and mapping locks.

    ``beats``: the times it was last seen where only a heartbeat tells (another machine, not PostgreSQL); the latest
    counts. A claim without a token is gone, unless ``mapping`` is given: then it is live while a run holds that
    mapping (a job started before runs named their holder).
    """
    if not token:
        return True if mapping is None else not mapping_running(mapping)
    return not holder_alive(token, max((beat for beat in beats if beat), default=None))


def holder_describe(token):
    """"process 1234 on host web-1" for a holder token (what a busy message names), as what it means (p2c.said):
    told in the reader's language."""
    host, pid = _parse(token)
    if pid:
        # Translators: who holds a mapping, in a message saying the mapping is being synchronised by another run.
        return said(gettext_noop("process %(pid)s on host %(host)s"), pid=str(pid), host=host)
    # Translators: who holds a mapping when its process is unknown, in a message saying the mapping is being
    # synchronised by another run.
    return said(gettext_noop("another run"))


# -- the mapping lock ---------------------------------------------------------------------------------------------
def mapping_running(mapping):
    """True when a live run holds ``mapping`` (read from the row as given: refresh it first for the latest)."""
    return bool(mapping and mapping.locked_by and holder_alive(mapping.locked_by, mapping.locked_at))


def _take(mapping, holder):
    """Claim ``mapping`` for ``holder``; return the claim it replaced ``(locked_by, locked_at)``, or None if busy."""
    rows = IntegrationTableMapping.objects.filter(pk=mapping.pk)
    if holder.connection is not None and not holder.try_lock(MAPPING_LOCKS, mapping.pk):
        return None
    previous = rows.values_list("locked_by", "locked_at").first() or ("", None)
    if holder.connection is None and previous[0] and holder_alive(*previous):
        return None
    # On PostgreSQL the advisory lock decided; elsewhere the UPDATE is conditional on the claim read (a race loses).
    claimed = rows if holder.connection is not None else rows.filter(locked_by=previous[0])
    if not claimed.update(locked_by=holder.token, locked_at=timezone.now()):
        return None
    return previous


@contextmanager
def mapping_lock(mapping, *, wait_seconds=0, token=None):
    """Hold the run lock of ``mapping`` for the block (yielding its token); raise MappingBusy if a live run holds it.

    With the ``token`` of a lock the caller holds already, the block runs under that lock and leaves it held.
    """
    if token is not None:
        if not IntegrationTableMapping.objects.filter(pk=mapping.pk, locked_by=token).update(locked_at=timezone.now()):
            raise MappingBusy(said(gettext_noop("Mapping %(mapping)s is no longer held by this run."),
                                   mapping=mapping.name))
        yield token
        return
    holder = Holder()
    try:
        deadline = time.monotonic() + wait_seconds
        while (previous := _take(mapping, holder)) is None:
            if time.monotonic() >= deadline:
                by, at = IntegrationTableMapping.objects.filter(pk=mapping.pk).values_list(
                    "locked_by", "locked_at").first() or ("", None)
                values = {"mapping": mapping.name, "holder": holder_describe(by)}
                if at:
                    # Translators: the holder is "process 1234 on host web-1", or "another run".
                    text = gettext_noop("Mapping %(mapping)s is being synchronised by another run (since %(since)s "
                                        "UTC, %(holder)s); try again when it has finished.")
                    values["since"] = f"{at:%Y-%m-%d %H:%M:%S}"
                else:
                    # Translators: the holder is "process 1234 on host web-1", or "another run".
                    text = gettext_noop("Mapping %(mapping)s is being synchronised by another run (%(holder)s); try "
                                        "again when it has finished.")
                raise MappingBusy(said(text, **values))
            time.sleep(0.2)
        jobs_close_stopped(mapping=mapping, but=holder.token, stopped_at=previous[1])
        try:
            yield holder.token
        finally:
            try:
                IntegrationTableMapping.objects.filter(pk=mapping.pk, locked_by=holder.token).update(
                    locked_by="", locked_at=None)
            except DatabaseError:  # a broken connection: the claim is judged by its holder's liveness anyway
                logger.warning("Releasing the claim on mapping %s failed", mapping.name, exc_info=True)
    finally:
        holder.close()


def mapping_lock_refresh(mapping, token):
    """Check that ``token`` still holds the lock of ``mapping``, raising MappingLockLost when not, and move its
    heartbeat when it is `HEARTBEAT_EVERY` old.

    Called after every chunk, by every worker of a partitioned run: a read most of the time, since an UPDATE each
    time would queue them all on the mapping's one row (its row lock, until each commit).
    """
    held = IntegrationTableMapping.objects.filter(pk=mapping.pk, locked_by=token)
    now = timezone.now()
    beats = list(held.values_list("locked_at", flat=True))
    if beats and beats[0] is not None and now - beats[0] < HEARTBEAT_EVERY:
        return
    if not held.update(locked_at=now):
        raise MappingLockLost(said(gettext_noop(
            "Mapping %(mapping)s was taken over by another run after this one was judged stopped (no heartbeat for "
            "%(seconds)s s); this run stopped (what it had written is kept)."
        ), mapping=mapping.name, seconds=int(HEARTBEAT_STALE.total_seconds())))


# -- jobs whose process stopped -----------------------------------------------------------------------------------
def stopped_message(stopped_at, started_at=None):
    """What a run whose process died says, in the active language (`stopped_said`)."""
    return str(stopped_said(stopped_at, started_at))


def stopped_said(stopped_at, started_at=None):
    """What a run whose process died says, as what it means (p2c.said): when it was last seen, and that what it
    committed stays."""
    if stopped_at:
        return said(gettext_noop("The process running it stopped (killed or crashed) at %(time)s; the chunks it "
                                 "committed stay; the next run goes on from there."), time=_local_time(stopped_at))
    if started_at:
        return said(gettext_noop("The process running it stopped (killed or crashed) some time after %(time)s; the "
                                 "chunks it committed stay; the next run goes on from there."),
                    time=_local_time(started_at))
    return said(gettext_noop("The process running it stopped (killed or crashed) at some point; the chunks it "
                             "committed stay; the next run goes on from there."))


def _local_time(value):
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M:%S}"


def jobs_close_stopped(*, mapping=None, but=None, stopped_at=None):
    """Close as failed the *running* jobs whose holder is gone (of ``mapping``, or of every mapping); return how many.

    ``but``: the token of the caller, which holds ``mapping`` (every other holder of its jobs is then gone).
    ``stopped_at``: when the holder was last seen (default: its mapping's heartbeat, else unknown).
    """
    running = SyncJob.objects.filter(status=SyncJob.Status.RUNNING, finished_at=None).exclude(holder="")
    if mapping is not None:
        running = running.filter(table_mapping=mapping)
    if but:
        running = running.exclude(holder=but)
    jobs = list(running.values_list("pk", "holder", "table_mapping_id", "started_at"))
    if not jobs:
        return 0
    beats = dict(IntegrationTableMapping.objects.filter(pk__in={m for _, _, m, _ in jobs}).values_list(
        "locked_by", "locked_at"))
    alive = set() if mapping is not None and but else holders_alive({h: beats.get(h) for _, h, _, _ in jobs})
    closed = 0
    for holder in {h for _, h, _, _ in jobs} - alive:
        mine = [(pk, started) for pk, h, _, started in jobs if h == holder]
        started = min((s for _, s in mine if s), default=None)
        closed += SyncJob.objects.filter(
            pk__in=[pk for pk, _ in mine], status=SyncJob.Status.RUNNING, finished_at=None
        ).fail(stopped_said(stopped_at or beats.get(holder), started))
    return closed
