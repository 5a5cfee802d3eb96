"""What runs without a user asking for it: on a schedule, on a commit, or to keep the log within its retention.

- schedules: one django-celery-beat task per mapping (docs/features.md I8) and the log's daily cleanup;
- realtime: near-real-time synchronisation, enqueued when a change to a coupled record commits;
- sync_log: the synchronisation log's retention (docs/features.md I7).

The periodic check of runs whose process stopped is an operation (integration/operations/stopped_runs.py): it
reaches the F&O projects, whose admin records the configuration's history, which names the schedules here.

It may import the models and integration.queue (the only enqueuer); never the operations or a door: the tasks
(integration/tasks.py), the set-up wizard, the configuration's import, the admin, the API and the commands call it.
"""
