"""Test-wide set-up: Celery eager unless a real broker is configured, and the service markers.

Tests that need PostgreSQL, Redis or Chromium carry the ``postgres``, ``redis`` or ``browser`` marker. They are
skipped, with the reason, when the service is not configured. With ``P2C_REQUIRE_SERVICES=1`` (what ``.ci/run``
sets for its PostgreSQL pass, Sales in a database of its own) any skipped test fails the run instead, so CI cannot
go green without them; SQLite variants (``sqlite_file``, ``sqlite_only``) are not collected on PostgreSQL.
"""

import os

import pytest
from django.utils import translation
from hypothesis import settings as hypothesis_settings

from tests.services import browser_executable, postgres_configured, redis_broker_configured

# Database-backed property tests have no per-example deadline (a busy CI machine is not a failure), and CI
# replays the same examples every run.
hypothesis_settings.register_profile("p2c", deadline=None, derandomize=bool(os.environ.get("CI")))
hypothesis_settings.load_profile("p2c")



def pytest_collection_modifyitems(config, items):
    _every_database(items)
    if postgres_configured():  # SQLite variants of what PostgreSQL tests another way: not run, rather than skipped
        variants = [item for item in items if item.get_closest_marker("sqlite_file") or
                    item.get_closest_marker("sqlite_only")]
        if variants:
            config.hook.pytest_deselected(items=variants)
            items[:] = [item for item in items if item not in variants]
    reasons = {
        "postgres": None if postgres_configured() else "needs PostgreSQL: set DATABASE_URL=postgres://...",
        "redis": None if redis_broker_configured() else "needs Redis: set CELERY_BROKER_URL=redis://...",
        "browser": None if browser_executable() else "needs Chromium: apt-get install chromium (or set P2C_CHROMIUM)",
    }
    for item in items:
        for marker, reason in reasons.items():
            if reason and item.get_closest_marker(marker):
                item.add_marker(pytest.mark.skip(reason=reason))


def _every_database(items):
    """With Sales in a database of its own (SALES_DATABASE_URL), every database test may use both databases:
    what a test does through the ORM goes where the router sends it, as in production."""
    from django.conf import settings

    if len(settings.DATABASES) < 2:
        return
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is None and "_django_db_helper" not in getattr(item, "fixturenames", ()):
            continue
        kwargs = dict(marker.kwargs) if marker else {}
        if marker and marker.args:
            kwargs.setdefault("transaction", marker.args[0])
        if kwargs.get("databases") is None:
            kwargs["databases"] = "__all__"
            item.add_marker(pytest.mark.django_db(**kwargs), append=False)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if os.environ.get("P2C_REQUIRE_SERVICES") != "1":
        return
    skipped = terminalreporter.stats.get("skipped", [])  # with every service there, no test may skip
    if skipped:
        terminalreporter.write_line(
            f"P2C_REQUIRE_SERVICES=1 but {len(skipped)} test(s) were skipped:", red=True
        )
        for report in skipped:
            terminalreporter.write_line(f"  {report.nodeid}: {report.longrepr[-1]}", red=True)
        config._p2c_service_skips = len(skipped)


def pytest_sessionfinish(session, exitstatus):
    if getattr(session.config, "_p2c_service_skips", 0) and session.exitstatus == 0:
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """LocaleMiddleware activates the language of each request and leaves it active in the thread: the next test
    starts again in the default language (LANGUAGE_CODE, English), as a new request or command would."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _celery_eager():
    """Run Celery tasks in-process unless a test starts a real worker itself."""
    from p2c.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield


@pytest.fixture
def chromium_path():
    path = browser_executable()
    if not path:
        pytest.skip("needs Chromium: apt-get install chromium (or set P2C_CHROMIUM)")
    return path


@pytest.fixture
def without_autovacuum():
    """No autovacuum on the tables whose planner statistics a test counts (PostgreSQL), only the ANALYZEs under
    test: a worker's, throttled by its cost delay, may sample a table as it was a moment before and store its
    estimate after a newer one (it did in CI, where earlier tests had written and truncated these tables)."""
    from django.db import connections

    from crm.models import Account, Contact
    from erp.models import Customer
    from integration.models import Coupling
    from p2c.databases import database_for

    def autovacuum(enabled):
        for model in (Account, Contact, Coupling, Customer):
            with connections[database_for(model)].cursor() as cursor:
                cursor.execute(f"ALTER TABLE {model._meta.db_table} SET (autovacuum_enabled = {enabled})")

    autovacuum("off")
    yield
    autovacuum("on")


@pytest.fixture
def django_capture_on_commit_callbacks():
    """pytest-django's fixture, capturing the on-commit callbacks of every database unless ``using`` names one:
    with Sales in a database of its own, a Sales write's callbacks wait for the Sales transaction."""
    from contextlib import ExitStack, contextmanager

    from django.conf import settings
    from django.test import TestCase

    @contextmanager
    def capture(*, using=None, execute=False):
        aliases = [using] if using else list(settings.DATABASES)
        callbacks = []
        with ExitStack() as stack:
            captured = [stack.enter_context(TestCase.captureOnCommitCallbacks(using=alias, execute=execute))
                        for alias in aliases]
            yield callbacks
        for each in captured:
            callbacks.extend(each)

    return capture
