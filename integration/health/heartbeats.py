"""Heartbeats of the Celery workers and of beat: who is alive, for the health page, /health/ and the alerts.

A worker writes its row every `HEARTBEAT_EVERY` seconds from its main process's timer (started when it is ready:
`worker_heartbeats_start`, connected in integration.tasks); beat writes its row from its scheduler's tick
(`BeatScheduler`, named by CELERY_BEAT_SCHEDULER), at most once per `HEARTBEAT_EVERY` seconds. One small UPDATE
each time; a process is taken for alive while its row is younger than `ALIVE_WITHIN` (two heartbeats missed) and
it has not said it stopped: a worker shutting down (`worker_stopped`, on Celery's worker_shutdown) and beat
closing its scheduler mark their rows stopped.
"""

import logging
import socket
import time

from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone
from django_celery_beat.schedulers import DatabaseScheduler

from ..models import Heartbeat
from .alerts import alerts_send

logger = logging.getLogger("p2c.integration")

HEARTBEAT_EVERY = Heartbeat.EVERY
ALIVE_WITHIN = Heartbeat.ALIVE_WITHIN
ALERTS_EVERY = 60  # seconds: how often beat sends the alerts due (integration/health/alerts.py)


def heartbeat_record(*, kind, name, now=None):
    """Say that the process ``name`` of ``kind`` (Heartbeat.Kind) is alive now: one UPDATE, an INSERT the first
    time. Never raises: a heartbeat that cannot be written is logged and shows as a silent process."""
    now = now or timezone.now()
    try:
        if not Heartbeat.objects.filter(kind=kind, name=name).update(seen_at=now, stopped_at=None):
            try:
                with transaction.atomic():
                    Heartbeat.objects.create(kind=kind, name=name, seen_at=now)
            except IntegrityError:  # another process of the same name inserted it first
                Heartbeat.objects.filter(kind=kind, name=name).update(seen_at=now, stopped_at=None)
    except Exception:  # a heartbeat never takes a worker or beat down
        logger.exception("Could not record the heartbeat of %s %s", kind, name)


def heartbeat_stopped(*, kind, name):
    """Say that the process ``name`` of ``kind`` is shutting down: /health/ names it gone at once, rather than
    after two missed heartbeats. Never raises."""
    own_connection = not connection.in_atomic_block
    try:
        if own_connection:
            close_old_connections()
        Heartbeat.objects.filter(kind=kind, name=name).update(stopped_at=timezone.now())
        logger.info("%s %s stopped", kind, name)
    except Exception:  # a process going away is not held up by its heartbeat
        logger.exception("Could not record the stop of %s %s", kind, name)
    finally:
        if own_connection:
            connection.close()


def worker_stopped(consumer_or_hostname):
    heartbeat_stopped(kind=Heartbeat.Kind.WORKER, name=getattr(consumer_or_hostname, "hostname",
                                                                consumer_or_hostname))


def _worker_heartbeat(name):
    # The worker's main process forks the pool's children: it holds no connection between two heartbeats. (It is
    # never inside a transaction; a test's transaction is left alone.)
    own_connection = not connection.in_atomic_block
    if own_connection:
        close_old_connections()
    heartbeat_record(kind=Heartbeat.Kind.WORKER, name=name)
    if own_connection:
        connection.close()


def worker_heartbeats_start(consumer):
    """Write the worker's heartbeat now and every `HEARTBEAT_EVERY` seconds on the consumer's timer (what
    Celery's own event heartbeat uses), whatever tasks the worker is running."""
    name = consumer.hostname
    _worker_heartbeat(name)
    consumer.timer.call_repeatedly(HEARTBEAT_EVERY, _worker_heartbeat, (name,))


def alerts_send_logged():
    """`alerts_send`, any error logged: an alert that cannot be sent never takes beat down (the next minute tries
    again)."""
    try:
        alerts_send()
    except Exception:  # a mail server down, a database gone: logged, tried again next time
        logger.exception("Could not send the synchronisation alerts")


class BeatScheduler(DatabaseScheduler):
    """django-celery-beat's database scheduler, writing beat's heartbeat from its tick (beat ticks every few
    seconds; the heartbeat is written every `HEARTBEAT_EVERY` seconds) and sending the alerts due every
    `ALERTS_EVERY` seconds, in beat's own process: "no worker" is told even when no worker runs."""

    _heartbeat_at = 0.0
    _alerts_at = 0.0

    def tick(self, *args, **kwargs):
        if time.monotonic() - self._heartbeat_at >= HEARTBEAT_EVERY:
            self._heartbeat_at = time.monotonic()
            heartbeat_record(kind=Heartbeat.Kind.BEAT, name=socket.gethostname())
        if time.monotonic() - self._alerts_at >= ALERTS_EVERY:
            self._alerts_at = time.monotonic()
            alerts_send_logged()
        return super().tick(*args, **kwargs)

    _stopped = False

    def close(self):
        """Beat is stopping (SIGTERM, Ctrl-C, its worker gone under `make run`): say so, once."""
        try:
            super().close()
        finally:
            if not self._stopped:
                self._stopped = True
                heartbeat_stopped(kind=Heartbeat.Kind.BEAT, name=socket.gethostname())
