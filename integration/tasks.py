"""Celery tasks: thin doors onto the integration's functions. Tasks take ids, are acknowledged late and are
idempotent (a redelivered task finds its work done or claimed and does nothing). Nothing else imports Celery."""

from celery import shared_task


# -- Finance and Operations data integration projects (SPEC P1, P6) ----------------------------------------------
@shared_task(acks_late=True, name="integration.run_project")
def run_project(run_id):
    """Execute the queued project run ``run_id`` (see integration.fo_projects.project_run_execute)."""
    from integration.fo_projects import project_run_execute

    run = project_run_execute(run_id=run_id)
    return {"run": run.pk, "status": run.status}


@shared_task(acks_late=True, name="integration.cleanup_project_runs")
def cleanup_project_runs(days=None):
    """Delete project execution history older than ``days`` (default: the P2C_PROJECT_HISTORY_DAYS setting)."""
    from datetime import timedelta

    from integration.fo_projects import project_runs_cleanup

    return project_runs_cleanup(older_than=None if days is None else timedelta(days=days))
