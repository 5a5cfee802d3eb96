"""One full synchronisation of the CUSTOMER mapping in a process of its own, for tests/bench/test_floor_bench.py:
its peak memory (max RSS) growth then owes nothing to what the benchmark's own process held before, so the figure
at N=100,000 compares with the one at N=1,000,000. The database (DATABASE_URL) is the benchmark's, already in the
state to synchronise from. Argument: the direction. Prints one JSON line."""

import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "p2c.settings")
os.environ["DJANGO_DEBUG"] = "false"
os.environ.setdefault("DJANGO_SECRET_KEY", "bench")

import django

django.setup()

from integration.engine.sync import mapping_synchronize  # noqa: E402
from integration.models import IntegrationTableMapping  # noqa: E402


def peak_reset():
    """Linux: the peak RSS back to the RSS now, so that start-up's imports, which peak above what they keep, hide
    nothing of the synchronisation's own peak."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass


def peak_kib():
    """The peak RSS: Linux's VmHWM, the process's own (ru_maxrss of a child starts at its parent's RSS at the fork,
    here pytest's), else ru_maxrss."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


mapping = IntegrationTableMapping.objects.get(name="CUSTOMER")
peak_reset()
rss_before = peak_kib()
started = time.perf_counter()
[job] = mapping_synchronize(mapping=mapping, direction=sys.argv[1], full=True)
seconds = time.perf_counter() - started
rss_peak = peak_kib()
print(json.dumps({"seconds": seconds, "rss_before_kib": rss_before, "rss_peak_kib": rss_peak,
                  "status": job.status, "message": job.message, "counts": job.counts()}))
