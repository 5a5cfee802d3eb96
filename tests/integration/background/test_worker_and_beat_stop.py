"""Worker and beat honest within 30 s (docs/decisions.md#messages-stored-as-what-they-mean): the worker and beat started
as `make run` starts them (bin/worker-and-beat); a SIGTERM of the worker is told at once (its heartbeat row marked
stopped), a SIGKILL once two heartbeats are missed; either way /health/ answers 503 naming the worker within 60 s, and
beat goes with it."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from integration.models import Heartbeat
from tests.concurrency import REPO, child_database_env

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def children(pid):
    """The worker's and beat's process ids among ``pid``'s children (Linux /proc)."""
    found = {}
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        kind = "worker" if b"worker" in command else "beat" if b"beat" in command else None
        if kind:
            found[kind] = int(child)
    return found


def running(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout} s")
        time.sleep(0.5)
    return result


def health(client):
    response = client.get("/health/")
    return response.status_code, response.json()["checks"]


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGKILL], ids=["TERM", "KILL"])
def test_a_worker_stopped_or_killed_is_named_by_health_within_60_s_and_beat_goes_with_it(client, sent):
    if not Path("/proc/self/task").exists():
        pytest.skip("needs Linux's /proc to find the worker's process")
    env = {**os.environ, **child_database_env(), "BIN": str(Path(sys.executable).parent), "PYTHONUNBUFFERED": "1"}
    script = subprocess.Popen([str(REPO / "bin" / "worker-and-beat"), "--concurrency=1"], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until(lambda: health(client)[1].get("worker", {}).get("alive") and health(client)[1]["beat"]["ok"],
                   120, "the worker and beat did not say they were alive")
        processes = children(script.pid)
        [name] = Heartbeat.objects.filter(kind=Heartbeat.Kind.WORKER).values_list("name", flat=True)

        os.kill(processes["worker"], sent)
        sent_at = time.monotonic()
        _status, checks = wait_until(  # (beat, stopped with the worker, makes it 503 first: the worker is awaited)
            lambda: (answer := health(client))[0] == 503 and not answer[1]["worker"]["ok"] and answer, 60,
            "/health/ did not answer 503 naming the worker")
        told = time.monotonic() - sent_at
        gone = {process["name"]: process["state"] for process in checks["worker"]["gone"]}
        assert gone == {name: "stopped" if sent == signal.SIGTERM else "silent"}, checks["worker"]
        assert name in checks["worker"]["error"]
        wait_until(lambda: not running(processes["beat"]), 15, "beat outlived the worker")
        assert script.wait(timeout=30) != 0 or sent == signal.SIGTERM
        print(f"\n{signal.Signals(sent).name}: /health/ named {name} {gone[name]} after {told:.1f} s")
        assert told < (5 if sent == signal.SIGTERM else 60)
    finally:
        if script.poll() is None:
            os.killpg(script.pid, signal.SIGKILL)
            script.wait()
