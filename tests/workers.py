"""Real Celery worker processes on the test database and the configured Redis broker, for the tests and benchmarks
that run a mapping over them (the fixture that starts them, ``celery_workers``, is in tests/conftest.py)."""

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.concurrency import REPO


def worker_start(env, name):
    """A real `celery worker` process of one pool process (own session: killing its group is a machine going down)."""
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "p2c", "worker", "--pool", "prefork",
                             "--concurrency", "1", "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
                             "-n", f"{name}@%h"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)


def worker_stop(worker, sig=signal.SIGTERM):
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)


def wait_until(condition, timeout, what, poll=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(poll)
    pytest.fail(f"{what}: not after {timeout} s")
