"""``make test`` and ``.ci/run``: the SQLite two-process tests run on a SQLite file, and CI's first pass is SQLite.

``make test`` runs against a stand-in virtualenv whose ``python`` only records how it was called, so these tests
check the Makefile's commands without running the suite.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

FAKE_PYTHON = """#!/bin/sh
echo "${P2C_TEST_SQLITE_NAME:-memory}|$*" >> "$FAKE_LOG"
case "$*" in *sqlite_file*) exit "${SECOND_PASS_STATUS:-0}";; esac
exit 0
"""


@pytest.fixture
def make_test(tmp_path):
    if shutil.which("make") is None:
        pytest.skip("needs make")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    (venv / ".installed").touch()
    (venv / ".installed-dev").touch()  # newer than the requirements: nothing to install
    log = tmp_path / "calls.log"

    def run(*, second_pass_status=0, make_args=(), **env):
        log.write_text("")
        environ = {k: v for k, v in os.environ.items()
                   if k not in ("DATABASE_URL", "SALES_DATABASE_URL", "P2C_TEST_SQLITE_NAME", "MAKEFLAGS", "MFLAGS")}
        environ.update(FAKE_LOG=str(log), SECOND_PASS_STATUS=str(second_pass_status), **env)
        result = subprocess.run(["make", "-s", "-C", str(REPO), "test", f"VENV={venv}", "PYTEST_ARGS=tests/crm",
                                 *make_args],
                                env=environ, capture_output=True, text=True, timeout=60)
        calls = [line.split("|", 1) for line in log.read_text().splitlines()]
        return result.returncode, calls

    return run


def test_make_test_runs_the_sqlite_file_tests_in_a_second_pass_on_a_file_under_var(make_test):
    status, calls = make_test()
    assert status == 0
    assert len(calls) == 2, calls
    (first_db, first_args), (second_db, second_args) = calls
    assert first_db == "memory" and first_args == "-m pytest -n auto --dist worksteal tests/crm"  # the suite: in memory, one worker a core
    # in as many workers, a test module on one of them, each worker on a file of its own (pytest-django's _gw0...)
    assert second_args.startswith("-m pytest -n auto --dist loadfile tests/crm -m sqlite_file or child_process")
    assert Path(second_db).parent == REPO / "var" and second_db.endswith(".sqlite3")
    assert not Path(second_db).exists()  # removed afterwards


def test_the_second_pass_fails_make_test_when_its_tests_fail_but_not_when_none_are_selected(make_test):
    assert make_test(second_pass_status=1)[0] != 0
    assert make_test(second_pass_status=5)[0] == 0  # PYTEST_ARGS selected none of them


@pytest.mark.parametrize("url", ["sqlite:///db.sqlite3", "sqlite://:memory:"])
def test_the_second_pass_runs_on_any_sqlite_database(make_test, url):
    status, calls = make_test(DATABASE_URL=url)
    assert status == 0 and len(calls) == 2


def test_no_second_pass_on_postgresql(make_test):
    """There the first pass runs the two-process tests itself."""
    status, calls = make_test(DATABASE_URL="postgres://postgres@127.0.0.1:5432/p2c_test")
    assert status == 0
    assert [args for _db, args in calls] == ["-m pytest -n auto --dist worksteal tests/crm"]


def test_test_workers_sets_how_many_processes_run_the_suite(make_test):
    status, calls = make_test(make_args=["TEST_WORKERS=0"])
    assert status == 0
    assert calls[0][1] == "-m pytest -n 0 --dist worksteal tests/crm"  # 0: the suite in pytest's own process
    assert calls[1][1].startswith("-m pytest -n 0 ")  # and the second pass


@pytest.mark.parametrize(("url", "worker", "expected"), [
    ("redis://127.0.0.1:6379/15", "gw0", "redis://127.0.0.1:6379/15"),
    ("redis://127.0.0.1:6379/15", "gw1", "redis://127.0.0.1:6379/14"),
    ("redis://127.0.0.1:6379", "gw1", "redis://127.0.0.1:6379/15"),
    ("redis://:secret@127.0.0.1:6379/0", "gw2", "redis://:secret@127.0.0.1:6379/14"),
])
def test_each_worker_has_a_redis_database_of_its_own(url, worker, expected):
    """Two workers on one broker database would take each other's tasks to the wrong test database."""
    from tests.worker_services import worker_number, worker_redis_url

    number = worker_number({"PYTEST_XDIST_WORKER": worker})
    assert worker_redis_url(url, number) == expected


@pytest.mark.parametrize(("module", "name"), [
    ("tests.crm.test_numbering", "test_two_processes_create_2000_distinct_contact_numbers_on_a_sqlite_file"),
    ("tests.erp.test_numbering", "test_two_processes_allocate_2000_distinct_numbers_on_a_sqlite_file"),
])
def test_the_sqlite_two_process_tests_carry_the_marker(module, name):
    import importlib

    test = getattr(importlib.import_module(module), name)
    assert "sqlite_file" in {mark.name for mark in test.pytestmark}


def test_ci_first_pass_ignores_an_inherited_database_or_broker():
    script = (REPO / ".ci" / "run").read_text().splitlines()
    first = script.index('echo "== make test: SQLite, Celery eager"')
    command = next(line for line in script[first + 1:] if line.strip() and not line.startswith("#"))
    assert command.startswith("env ") and command.endswith(" make test")
    for name in ("DATABASE_URL", "SALES_DATABASE_URL", "CELERY_BROKER_URL"):
        assert f"-u {name}" in command.split(" make test")[0]


def test_a_skipped_test_fails_the_run_when_every_service_is_required(tmp_path):
    """CI's PostgreSQL pass sets P2C_REQUIRE_SERVICES=1: a test skipped there for want of a service fails the run
    (the summary said so, yet pytest exited 0 until the skips were counted as their reports came)."""
    import sys

    environ = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "SALES_DATABASE_URL", "CELERY_BROKER_URL", "PYTEST_XDIST_WORKER",
                            "PYTEST_ADDOPTS")}
    needs_postgres = "tests/integration/engine/test_write_behind.py"  # skipped on SQLite
    for required, expected in (("1", 1), ("", 0)):
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0",
                                 needs_postgres], cwd=REPO, env={**environ, "P2C_REQUIRE_SERVICES": required},
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == expected, result.stdout[-2000:]
    assert "P2C_REQUIRE_SERVICES=1 but 5 test(s) were skipped" not in result.stdout
