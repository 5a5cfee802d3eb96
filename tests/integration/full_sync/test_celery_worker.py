"""A full synchronisation of the demo data, end to end, on a real Celery worker against Redis (docs/features.md I6, X4).

Runs when ``CELERY_BROKER_URL=redis://...`` is set (``.ci/run`` sets it, with PostgreSQL): the tasks travel through
the broker to a worker of four threads started in this process (celery's own testing worker), which reads and
writes the test database; the test only starts the run and polls its status, as the review page does.
"""

import time

import pytest

from crm.models import SystemUser
from integration.defaults import integration_setup_reset
from integration.demo import demo_seed
from integration.full_sync.review import full_sync_status
from integration.full_sync.run import full_sync_start
from integration.models import ConnectionSetup, Coupling, FullSyncRun, SyncJob
from p2c.outcomes import OperationRefused

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

TIMEOUT_SECONDS = 180


@pytest.fixture
def real_worker(transactional_db):
    """Celery's embedded test worker on the configured broker, with eager mode off for this test only."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.db import connection

    import integration.tasks  # noqa: F401  (registers the tasks, as the worker's autodiscovery does)
    from p2c.celery import app

    def close_thread_connection(**kwargs):
        # The worker's threads each open their own connection; closed after each task, none is left holding
        # the test database when pytest-django drops it.
        connection.close()

    task_postrun.connect(close_thread_connection, weak=False)
    app.conf.task_always_eager = False
    try:
        app.control.purge()  # messages an interrupted earlier run may have left on this broker database
        with start_worker(app, pool="threads", concurrency=4, perform_ping_check=False, loglevel="WARNING",
                          shutdown_timeout=60) as worker:
            yield worker
    finally:
        task_postrun.disconnect(close_thread_connection)
        app.conf.task_always_eager = True
        from django.db import connections

        connections.close_all()


def wait_for(run, timeout=TIMEOUT_SECONDS):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = full_sync_status(run=FullSyncRun.objects.get(pk=run.pk))
        if status["finished"]:
            return status
        time.sleep(0.5)
    pytest.fail(f"The full synchronisation did not finish in {timeout} s: {full_sync_status()['progress']}")


def most_lines_at_once(run):
    """The largest number of the run's lines that were running at the same moment (a figure, not an assertion)."""
    spans = [(line.started_at, line.finished_at) for line in run.lines.exclude(started_at=None)]
    return max((sum(1 for s, f in spans if s <= start < f) for start, _ in spans), default=0)


def test_full_synchronisation_of_the_demo_data_on_a_real_worker(real_worker):
    demo_seed(scale=20)
    integration_setup_reset()
    setup = ConnectionSetup.get_solo()
    setup.is_enabled = True
    setup.integration_user = SystemUser.objects.filter(access_mode="integration").first()
    setup.save()

    started = time.monotonic()
    run = full_sync_start().jobs[0]
    status = wait_for(run)
    elapsed = time.monotonic() - started

    assert status["run"]["status"] == "finished", status["run"]["message"]
    runnable = [line for line in status["lines"] if line["recommendation"] in ("full_synchronization", "couple_records")]
    assert runnable and all(line["state"] == "finished" for line in runnable)
    # Every line was synchronised (none stopped at "choose the match fields"), and no job failed as a whole. A line's
    # message may only tell why its jobs skipped records (an ERP code matching no Sales option, in the demo data).
    def skipped(line):
        return any((line.get(key) or {}).get("counts", {}).get("skipped") for key in ("to_job", "from_job"))

    assert [line["name"] for line in runnable if line["message"] and not skipped(line)] == []
    assert not SyncJob.objects.filter(status="failed").exists()
    for name in ("OPPORTUNITY", "SALESPRC-PRODPRICE", "POSTEDSALESINV-INV"):
        line = next(line for line in status["lines"] if line["name"] == name)
        assert line["to_job"] and line["to_job"]["status"] in ("success", "error"), name
    assert Coupling.objects.filter(erp_model="erp.Customer", crm_model="crm.Account").count() > 0
    assert Coupling.objects.filter(erp_model="erp.SalespersonPurchaser").count() > 0
    # Every job the run made was run by the worker, and none is left queued or running.
    assert not SyncJob.objects.filter(status__in=["queued", "running"]).exists()
    customer = next(line for line in status["lines"] if line["name"] == "CUSTOMER")
    assert customer["to_job"]["status"] in ("success", "error") and customer["from_job"]["status"] in ("success", "error")
    print(f"\nfull synchronisation of the demo data (scale 20) on a 4-thread worker: {elapsed:.1f} s, "
          f"{Coupling.objects.count()} couplings, up to {most_lines_at_once(run)} lines running at once")

    # Restarting a finished run is refused (nothing to restart); starting again after it finished is a new run.
    with pytest.raises(OperationRefused, match="nothing to restart"):
        full_sync_start(restart=True)
    again = full_sync_start().jobs[0]
    assert again.pk != run.pk
    assert wait_for(again)["run"]["status"] == "finished"
