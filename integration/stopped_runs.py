"""Runs whose process stopped (killed or crashed): closed, or queued again, by a periodic check (SPEC X4).

A run that dies with ``kill -9`` or with its worker cannot close its own job. Its mapping is free at once (the
lock dies with its holder: engine/locks.py) and the next run of that mapping closes its jobs; this check, run by
Celery beat every minute (``integration.close_stopped_runs``), does the same for every mapping without waiting for
a next run, closes the F&O project runs whose process is gone, and queues again the full synchronisation lines
whose worker is gone, so the review recovers on its own.
"""

from integration.fo.projects import project_runs_close_stopped

from .engine.locks import jobs_close_stopped
from .full_sync_run import full_sync_lines_recover


def stopped_runs_close():
    """Close the jobs and project runs whose process is gone and queue their full synchronisation lines again.

    Returns the counts: ``{"jobs": closed jobs, "project_runs": closed runs, "full_sync_lines": lines queued}``.
    """
    return {
        "jobs": jobs_close_stopped(),
        "project_runs": project_runs_close_stopped(),
        "full_sync_lines": full_sync_lines_recover(),
    }
