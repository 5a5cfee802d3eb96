"""Run small Django scripts in separate OS processes against the test database (for concurrency tests).

The children are plain ``python -c`` processes that call ``django.setup()`` with ``DATABASE_URL`` pointing at
the database the test runs on (``connection.settings_dict``), so they see what a ``transaction=True`` test
committed and compete for the same rows and locks as two real workers would.
"""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connections

REPO = Path(__file__).resolve().parent.parent

_SETUP = """
import os, sys, time
sys.path.insert(0, {repo!r})
os.environ["DJANGO_SETTINGS_MODULE"] = "p2c.settings"
import django
django.setup()
"""
_PRELUDE = _SETUP + """
# Start together: wait for the go file the parent creates once every child is up.
while not os.path.exists({go!r}):
    time.sleep(0.01)
"""

IN_MEMORY = ("the SQLite test database is in memory, where a child process cannot reach it: set "
             "P2C_TEST_SQLITE_NAME=/tmp/x.sqlite3, or run it on PostgreSQL (as CI does)")


def child_database_url(alias="default"):
    """A DATABASE_URL for the database ``alias`` this test runs on, or skip when children cannot reach it."""
    settings = connections[alias].settings_dict
    vendor = connections[alias].vendor
    if vendor == "postgresql":
        user = quote(settings.get("USER") or "")
        password = f":{quote(settings['PASSWORD'])}" if settings.get("PASSWORD") else ""
        host = settings.get("HOST") or "127.0.0.1"
        port = settings.get("PORT") or "5432"
        return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"
    if vendor == "sqlite":
        name = str(settings["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            # `make test`'s second pass runs the tests marked child_process (or sqlite_file) again, on a file; a test
            # skipped here without either marker fails the run (tests/conftest.py), since it would never run on SQLite.
            pytest.skip(IN_MEMORY)
        return f"sqlite:///{name}"
    pytest.skip(f"no child-process support for {vendor}")


def child_database_env():
    """``DATABASE_URL`` (and ``SALES_DATABASE_URL`` when Sales has a database of its own) of this test's databases,
    for a child process."""
    env = {"DATABASE_URL": child_database_url()}
    if "sales" in connections:
        env["SALES_DATABASE_URL"] = child_database_url("sales")
    return env


def run_in_processes(body, *, processes=2, tmp_path, timeout=300):
    """Run ``body`` (Python source, after django.setup()) in ``processes`` processes started together.

    Returns the stdout lines of each process. Fails the test with the child's stderr if one fails.
    """
    go = tmp_path / "go"
    script = _PRELUDE.format(repo=str(REPO), go=str(go)) + body
    env = {**os.environ, **child_database_env(), "PYTHONUNBUFFERED": "1"}
    children = [
        subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for _ in range(processes)
    ]
    go.touch()
    outputs = []
    for child in children:
        out, err = child.communicate(timeout=timeout)
        assert child.returncode == 0, f"child process failed:\n{err}"
        outputs.append(out.split())
    return outputs


def command_ready(args, env):
    """``manage.py`` ``args`` in a process that has set Django up and waits: the command itself, its system checks
    included, starts when the returned ``go`` is called, so a timing taken from then leaves Python's start-up out;
    ``finish()`` gives (exit code, stdout, stderr)."""
    script = _SETUP.format(repo=str(REPO)) + (
        "print('ready', flush=True)\n"
        "sys.stdin.readline()\n"
        "from django.core.management import execute_from_command_line\n"
        f"execute_from_command_line({['manage.py', *args]!r})\n")
    child = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, env=env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready", child.communicate()[1]

    def go():
        child.stdin.write("go\n")
        child.stdin.flush()

    def finish():
        out, err = child.communicate(timeout=300)
        return child.returncode, out, err

    return go, finish


def dead_holder_token():
    """The holder token (engine/locks.py) of a process on this host that has ended: a run killed a moment ago."""
    from integration.engine.locks import HOST

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{HOST}:{child.pid}:killed"
