"""Heartbeats of the Celery workers and of beat: who is alive, for the health page, /health/ and the alerts.

A worker writes its row every `HEARTBEAT_EVERY` seconds from its main process's timer (started when it is ready:
`worker_heartbeats_start`, connected in integration.tasks); beat writes its row from its scheduler's tick
(`BeatScheduler`, named by CELERY_BEAT_SCHEDULER), at most once per `HEARTBEAT_EVERY` seconds. One small UPDATE
each time; a process is taken for alive while its row is younger than `ALIVE_WITHIN`.
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
        if not Heartbeat.objects.filter(kind=kind, name=name).update(seen_at=now):
            try:
                with transaction.atomic():
                    Heartbeat.objects.create(kind=kind, name=name, seen_at=now)
            except IntegrityError:  # another process of the same name inserted it first
                Heartbeat.objects.filter(kind=kind, name=name).update(seen_at=now)
    except Exception:  # a heartbeat never takes a worker or beat down
        logger.exception("Could not record the heartbeat of %s %s", kind, name)


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
