"""Test-wide set-up: Celery eager unless a real broker is configured, the service markers, and the fixtures tests of
several folders share (admin and API users and clients, the integration's default mappings and number series).

Tests that need PostgreSQL, Redis or Chromium carry the ``postgres``, ``redis`` or ``browser`` marker. They are
skipped, with the reason, when the service is not configured. With ``P2C_REQUIRE_SERVICES=1`` (what ``.ci/run``
sets for its PostgreSQL pass, Sales in a database of its own) any skipped test fails the run instead, so CI cannot
go green without them; SQLite variants (``sqlite_file``, ``sqlite_only``) are not collected on PostgreSQL. Tests that
start a process on the test databases carry ``child_process``: on SQLite they run in ``make test``'s second pass, on a
file. A run on PostgreSQL fails when a session other than its own is still connected to the test databases at the end.
"""

import os

import pytest
from django.contrib.auth.models import Permission
from django.utils import translation
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.services import browser_executable, postgres_configured, redis_broker_configured

# Database-backed property tests have no per-example deadline (a busy CI machine is not a failure), and CI
# replays the same examples every run.
hypothesis_settings.register_profile("p2c", deadline=None, derandomize=bool(os.environ.get("CI")))
hypothesis_settings.load_profile("p2c")



def pytest_configure(config):
    _child_process_tests_set_the_databases_up()


def _child_process_tests_set_the_databases_up():
    """pytest-django sets up the test databases its database tests use (the django_db marker, the db fixtures). A
    test marked child_process without the django_db marker holds no transaction in this process (on SQLite it would
    hold the file's write lock until the test ends, and the server's writes would wait for it), yet its server needs
    the test databases: every one is set up for it too (else it would run on the databases of the settings)."""
    from pytest_django import fixtures

    databases_for_test = fixtures._get_databases_for_test

    def with_child_processes(test):
        if test.get_closest_marker("child_process") and not test.get_closest_marker("django_db"):
            from django.db import connections

            return list(connections), False
        return databases_for_test(test)

    fixtures._get_databases_for_test = with_child_processes


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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A test skipped because its child process cannot reach the in-memory database fails unless it is marked
    child_process (or sqlite_file): unmarked, `make test`'s second pass, on a file, would leave it out too, and it
    would never run on SQLite."""
    from tests.concurrency import IN_MEMORY

    report = yield
    if (report.skipped and IN_MEMORY in str(report.longrepr) and not item.get_closest_marker("child_process")
            and not item.get_closest_marker("sqlite_file")):
        report.outcome = "failed"
        report.longrepr = (f"{item.nodeid} starts a process on the test database but is not marked child_process: "
                           "make test's second pass (SQLite in a file) would leave it out, and it would never run on "
                           "SQLite.")
    return report


def pytest_runtest_logreport(report):
    """Count the skipped tests as their reports come (from pytest-xdist's workers too), so that the session's exit
    status, decided before the terminal summary is written, can fail for them."""
    if report.skipped and os.environ.get("P2C_REQUIRE_SERVICES") == "1":
        _service_skips.append(report)


_service_skips = []


def pytest_sessionfinish(session, exitstatus):
    if _service_skips and session.exitstatus == 0:  # with every service there, no test may skip
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _service_skips:
        terminalreporter.write_line(
            f"P2C_REQUIRE_SERVICES=1 but {len(_service_skips)} test(s) were skipped:", red=True
        )
        for report in _service_skips:
            terminalreporter.write_line(f"  {report.nodeid}: {report.longrepr[-1]}", red=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Every PostgreSQL session opened during a test (by a thread of this process or a child process, which inherits
    the environment) names the test as its application name: the check below says which test left one behind."""
    os.environ["PGAPPNAME"] = _application_name(item.nodeid)
    try:
        return (yield)
    finally:
        os.environ["PGAPPNAME"] = "p2c tests"


def _application_name(nodeid):
    name = nodeid.removeprefix("tests/")
    return name if len(name) <= 63 else "..." + name[-60:]  # PostgreSQL keeps 63 bytes of it


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test databases, checked before they are dropped: no other session may still be connected to
    them (a thread's connection never closed, a child process or a worker still running). PostgreSQL would refuse
    to drop them, and pytest-django would only warn; here the run fails, naming the test that opened each."""
    yield
    with django_db_blocker.unblock():
        left = _other_sessions()
    if left:
        pytest.fail("sessions still connected to the test databases when the run ends (a thread's or a child "
                    "process's connection not closed), ended now so the databases can be dropped:\n" +
                    "\n".join(f"  {row}" for row in left), pytrace=False)


def _other_sessions(wait=5.0):
    """The sessions on this run's PostgreSQL test databases other than this thread's own, as (database, the test
    that opened it, state, last query), after waiting ``wait`` seconds for those ending anyway; terminated."""
    import time

    from django.db import connections

    postgres = [connections[alias] for alias in connections if connections[alias].vendor == "postgresql"]
    if not postgres:
        return []
    own, names = set(), set()
    for connection in postgres:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid(), current_database()")
            pid, name = cursor.fetchone()
        own.add(pid)
        names.add(name)
    query = ("SELECT pid, datname, application_name, state, left(query, 200) FROM pg_stat_activity "
             "WHERE datname = ANY(%s) AND NOT pid = ANY(%s) ORDER BY datname, pid")
    deadline = time.monotonic() + wait
    with postgres[0].cursor() as cursor:
        while True:
            cursor.execute(query, [sorted(names), sorted(own)])
            rows = cursor.fetchall()
            if not rows or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        for pid, *_ in rows:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    return [(database, application, state, last) for _, database, application, state, last in rows]


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


# Users and clients of the admin and the API ----------------------------------------------------------------------
@pytest.fixture
def admin_user(django_user_model):
    """A superuser without a usable password: nothing to hash, so the hundreds of tests here stay fast."""
    return django_user_model.objects.create_superuser("admin", "admin@example.com", password=None)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("api-admin", "admin@example.com", None)


@pytest.fixture
def api(superuser):
    """An API client authenticated as a superuser with a DRF token."""
    client = APIClient()
    token = Token.objects.create(user=superuser)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def user_with_perms(django_user_model):
    """``user_with_perms("crm.view_account", ...)``: a plain user holding exactly those permissions."""
    counter = iter(range(1, 10_000))

    def build(*perms):
        user = django_user_model.objects.create_user(f"user{next(counter)}", password=None)
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        return user

    return build


# The integration set up: number series on the ERP side, an integration user, the default mappings ----------------
@pytest.fixture
def number_series(db):
    from erp.models import (
        BusinessRelation,
        GeneralLedgerSetup,
        MarketingSetup,
        NoSeries,
        PurchasesPayablesSetup,
        SalesReceivablesSetup,
    )

    series = {
        code: NoSeries.objects.create(code=code, starting_no=start, increment_by=10)
        for code, start in (("CUST", "C00010"), ("VEND", "V00010"), ("BANK", "B010"), ("CONT", "CT000010"))
    }
    sales = SalesReceivablesSetup.get_solo()
    sales.customer_nos = series["CUST"]
    sales.save()
    purchases = PurchasesPayablesSetup.get_solo()
    purchases.vendor_nos = series["VEND"]
    purchases.save()
    ledger = GeneralLedgerSetup.get_solo()
    ledger.bank_account_nos = series["BANK"]
    ledger.save()
    marketing = MarketingSetup.get_solo()
    marketing.contact_nos = series["CONT"]
    marketing.bus_rel_code_for_customers = BusinessRelation.objects.create(code="CUST", description="Customer")
    marketing.bus_rel_code_for_vendors = BusinessRelation.objects.create(code="VEND", description="Vendor")
    marketing.bus_rel_code_for_bank_accounts = BusinessRelation.objects.create(code="BANK", description="Bank")
    marketing.save()
    return series


@pytest.fixture
def integration_user(db):
    from crm.models import SystemUser
    from integration.models import ConnectionSetup

    user = SystemUser.objects.create(fullname="Business Central Integration", access_mode="integration")
    setup = ConnectionSetup.get_solo()
    setup.is_enabled = True
    setup.integration_user = user
    setup.save()
    return user


@pytest.fixture
def mappings(db, integration_user, number_series):
    from integration.models import IntegrationTableMapping

    _default_mappings_made()
    return {m.name: m for m in IntegrationTableMapping.objects.all()}


_made_by_the_reset = {}  # the declared mappings' keys → the rows integration_setup_reset wrote, per model


def _default_mappings_made():
    """What `integration_setup_reset` writes on an empty set-up: made by it in the first test of this process that
    asks (some 1,100 queries, the field mappings' checks), then written again from its rows, keys included, in one
    insert a table (a test's transaction rolls them back; on PostgreSQL the sequences are set past them). With
    mappings already there, or other declared mappings, the reset itself runs."""
    from copy import deepcopy

    from django.core.management.color import no_style
    from django.db import connections
    from django.utils import timezone

    from integration.background import realtime
    from integration.defaults import default_definitions, integration_setup_reset
    from integration.models import IntegrationFieldMapping, IntegrationTableMapping, ValueMap
    from p2c.databases import database_for

    models = (ValueMap, IntegrationTableMapping, IntegrationTableMapping.dependencies.through, IntegrationFieldMapping)
    key = tuple(definition.key for definition in default_definitions())
    empty = not any(model.objects.exists() for model in models)
    if key not in _made_by_the_reset or not empty:
        integration_setup_reset()
        if empty:
            _made_by_the_reset[key] = {model: list(model.objects.order_by("pk")) for model in models}
        return
    now = timezone.now()
    for model, rows in _made_by_the_reset[key].items():
        stamped = [f.attname for f in model._meta.concrete_fields if getattr(f, "auto_now", False) or
                   getattr(f, "auto_now_add", False)]
        copies = []
        for row in rows:
            copy = model(**{f.attname: deepcopy(getattr(row, f.attname)) for f in model._meta.concrete_fields})
            for name in stamped:
                setattr(copy, name, now)
            copies.append(copy)
        model.objects.bulk_create(copies)
        connection = connections[database_for(model)]
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [model]):
                cursor.execute(sql)
    realtime.config_clear()  # as the reset's saves do


@pytest.fixture
def salesperson_pair(mappings):
    """An ERP salesperson coupled to a Sales user, as the SALESPEOPLE mapping would leave them."""
    from crm.models import SystemUser
    from erp.models import SalespersonPurchaser
    from integration.models import Coupling

    user = SystemUser.objects.create(fullname="Anna Andersson", internal_email="anna@example.com")
    salesperson = SalespersonPurchaser.objects.create(code="AA", name="Anna Andersson", email="anna@example.com")
    Coupling.objects.create(erp_model="erp.SalespersonPurchaser", crm_model="crm.SystemUser",
                            erp_id=salesperson.pk, crm_id=user.pk)
    return salesperson, user


@pytest.fixture
def celery_workers(settings):
    """``celery_workers(count)``: start real worker processes on the test database and the configured Redis broker
    (eager mode off); they are killed at teardown."""
    import signal

    from p2c.celery import app
    from tests.concurrency import child_database_env
    from tests.workers import worker_start, worker_stop

    app.conf.task_always_eager = False
    app.control.purge()
    started = []

    def start(count):
        # The environment when the workers start: the chunk size the test has set by then.
        env = {**os.environ, **child_database_env(), "CELERY_TASK_ALWAYS_EAGER": "false",
               "P2C_SYNC_CHUNK_SIZE": str(settings.P2C_SYNC_CHUNK_SIZE)}
        for _ in range(count):
            started.append(worker_start(env, f"p{len(started)}"))
        return started[-count:]

    try:
        yield start
    finally:
        for worker in started:
            worker_stop(worker, signal.SIGKILL)
        app.control.purge()
        app.conf.task_always_eager = True
