"""Scheduled synchronisation of modified records, one recurring job per mapping (docs/features.md I8; BC's job queue
entries).

Each mapping gets one django-celery-beat `PeriodicTask`, named after it (`schedule_name`), that runs the
``integration.synchronize_mapping`` task with the mapping's id: a run of the records modified since the mapping's
watermark, in every direction it has. `schedules_create` is idempotent: run it again (the set-up wizard does) and
each mapping keeps one task, with its interval updated. A run finding the mapping busy (a full synchronisation, a
"synchronise now") is skipped; the next one picks the changes up. A message that waited longer than one interval
expires instead of piling up behind a stopped worker.

One more recurring task, `log_cleanup_schedule_create`, deletes the synchronisation log older than the connection
setup's retention once a day (integration.background.sync_log).

The worker runs beat too (``celery -A p2c worker --beat``, what ``make run`` starts), reading these rows through
``django_celery_beat.schedulers:DatabaseScheduler``.
"""

import json

from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from .. import task_names
from ..models import IntegrationTableMapping

NAME_PREFIX = "Synchronize "
DEFAULT_EVERY_MINUTES = 30  # BC: every 30 minutes


def schedule_name(mapping):
    """The PeriodicTask name of ``mapping``'s recurring synchronisation ("Synchronize CUSTOMER")."""
    return f"{NAME_PREFIX}{mapping.name}"


def _default_mappings():
    return IntegrationTableMapping.objects.filter(is_enabled=True, parent=None)


def schedules_create(*, mappings=None, every_minutes=DEFAULT_EVERY_MINUTES):
    """Create or update the recurring synchronisation of each mapping (default: every enabled top-level mapping).

    Child mappings are synchronised with their parent and get none. Returns the PeriodicTask rows, one per mapping.
    """
    if every_minutes < 1:
        raise ValueError("A schedule runs at most every minute.")
    mappings = list(_default_mappings() if mappings is None else mappings)
    tasks = []
    with transaction.atomic():
        interval, _ = IntervalSchedule.objects.get_or_create(every=every_minutes, period=IntervalSchedule.MINUTES)
        for mapping in mappings:
            if mapping.parent_id is not None:
                continue
            task, _ = PeriodicTask.objects.update_or_create(
                name=schedule_name(mapping),
                defaults={
                    "task": task_names.SYNCHRONIZE_MAPPING,
                    "interval": interval,
                    "crontab": None,
                    "solar": None,
                    "clocked": None,
                    "kwargs": json.dumps({"mapping_id": mapping.pk}),
                    "enabled": mapping.is_enabled,
                    "expire_seconds": every_minutes * 60,
                    "description": f"{mapping.name}: synchronise the records modified since the last run.",
                },
            )
            tasks.append(task)
    return tasks


def schedules_delete(*, mappings=None):
    """Remove the recurring synchronisation of the given mappings (default: all of them). Returns how many."""
    if mappings is None:
        return PeriodicTask.objects.filter(task=task_names.SYNCHRONIZE_MAPPING, name__startswith=NAME_PREFIX).delete()[0]
    return PeriodicTask.objects.filter(name__in=[schedule_name(m) for m in mappings]).delete()[0]


def schedule_for(mapping):
    """The PeriodicTask of ``mapping``, or None."""
    return PeriodicTask.objects.filter(name=schedule_name(mapping)).first()


def schedules_enable(*, mappings, enabled=True):
    """Pause or resume the recurring synchronisation of ``mappings``. Returns how many tasks changed."""
    names = [schedule_name(m) for m in mappings]
    tasks = list(PeriodicTask.objects.filter(name__in=names).exclude(enabled=enabled))
    for task in tasks:  # save(), not update(): beat notices changes through PeriodicTasks.last_update
        task.enabled = enabled
        task.save()
    return len(tasks)


LOG_CLEANUP_NAME = "Delete synchronisation log entries"
PROJECT_RUNS_CLEANUP_NAME = "Delete data integration project history"


def log_cleanup_schedule_create():
    """Create (or keep) the daily clean-ups: the synchronisation log (the task reads the connection setup's
    retention when it runs, so changing the retention needs no new schedule) and the F&O project runs (their own
    age, P2C_PROJECT_HISTORY_DAYS). Returns the synchronisation log's PeriodicTask."""
    with transaction.atomic():
        interval, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.DAYS)
        tasks = [
            PeriodicTask.objects.update_or_create(
                name=name,
                defaults={"task": task, "interval": interval, "crontab": None, "solar": None, "clocked": None,
                          "kwargs": "{}", "enabled": True, "expire_seconds": 24 * 3600, "description": description},
            )[0]
            for name, task, description in (
                (LOG_CLEANUP_NAME, task_names.SYNC_LOG_CLEANUP, "Delete synchronisation jobs, their errors and full "
                 "synchronisation runs older than the connection setup's retention."),
                (PROJECT_RUNS_CLEANUP_NAME, task_names.CLEANUP_PROJECT_RUNS, "Delete data integration project runs "
                 "older than P2C_PROJECT_HISTORY_DAYS."),
            )
        ]
    return tasks[0]
