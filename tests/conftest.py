"""Test-wide set-up: Celery eager unless a real broker is configured, and the service markers.

Tests that need PostgreSQL, Redis or Chromium carry the ``postgres``, ``redis`` or ``browser`` marker. They are
skipped, with the reason, when the service is not configured. With ``P2C_REQUIRE_SERVICES=1`` (what ``.ci/run``
sets) a skipped service test fails the run instead, so CI cannot go green without them.
"""

import os

import pytest
from hypothesis import settings as hypothesis_settings

from tests.services import browser_executable, postgres_configured, redis_broker_configured

# Database-backed property tests have no per-example deadline (a busy CI machine is not a failure), and CI
# replays the same examples every run.
hypothesis_settings.register_profile("p2c", deadline=None, derandomize=bool(os.environ.get("CI")))
hypothesis_settings.load_profile("p2c")

SERVICE_SKIP_PREFIX = "needs "


def pytest_collection_modifyitems(config, items):
    reasons = {
        "postgres": None if postgres_configured() else "needs PostgreSQL: set DATABASE_URL=postgres://...",
        "redis": None if redis_broker_configured() else "needs Redis: set CELERY_BROKER_URL=redis://...",
        "browser": None if browser_executable() else "needs Chromium: apt-get install chromium (or set P2C_CHROMIUM)",
    }
    for item in items:
        for marker, reason in reasons.items():
            if reason and item.get_closest_marker(marker):
                item.add_marker(pytest.mark.skip(reason=reason))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if os.environ.get("P2C_REQUIRE_SERVICES") != "1":
        return
    skipped = [
        report for report in terminalreporter.stats.get("skipped", [])
        if SERVICE_SKIP_PREFIX in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.write_line(
            f"P2C_REQUIRE_SERVICES=1 but {len(skipped)} service test(s) were skipped:", red=True
        )
        for report in skipped:
            terminalreporter.write_line(f"  {report.nodeid}: {report.longrepr[-1]}", red=True)
        config._p2c_service_skips = len(skipped)


def pytest_sessionfinish(session, exitstatus):
    if getattr(session.config, "_p2c_service_skips", 0) and session.exitstatus == 0:
        session.exitstatus = 1


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

