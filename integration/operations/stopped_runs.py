"""Runs whose process stopped (killed or crashed): closed, or queued again, by a periodic check (docs/features.md X4).

A run that dies with ``kill -9`` or with its worker cannot close its own job. Its mapping is free at once (the
lock dies with its holder: engine/locks.py) and the next run of that mapping closes its jobs; this check, run by
Celery beat every minute (``integration.close_stopped_runs``), does the same for every mapping without waiting for
a next run, closes the F&O project runs whose process is gone, and queues again the full synchronisation lines
whose worker is gone, so the review recovers on its own. With Sales in a database of its own, it also completes
the Sales writes the stopped runs intended (engine/intents.py), so couplings do not wait for the next run.
"""

from integration.fo.projects import project_runs_close_stopped

from ..engine.intents import intents_complete
from ..engine.locks import jobs_close_stopped
from ..full_sync.run import full_sync_lines_recover
from ..models import ConnectionSetup


def stopped_runs_close():
    """Close the jobs and project runs whose process is gone and queue their full synchronisation lines again.

    Returns the counts: ``{"jobs": closed jobs, "project_runs": closed runs, "full_sync_lines": lines queued,
    "intents_adopted": Sales writes adopted, "intents_forgotten": intents of writes that never reached Sales}``.
    """
    jobs = jobs_close_stopped()
    user_id = ConnectionSetup.objects.filter(pk=1).values_list("integration_user_id", flat=True).first()
    adopted, forgotten = intents_complete(integration_user_id=user_id)
    return {
        "jobs": jobs,
        "project_runs": project_runs_close_stopped(),
        "full_sync_lines": full_sync_lines_recover(),
        "intents_adopted": adopted,
        "intents_forgotten": forgotten,
    }
