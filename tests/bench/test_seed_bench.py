"""Benchmark: how long ``seed_demo`` takes at scale (prints the figures; never a timed assertion).

    make bench PYTEST_ARGS="-k seed"                               # scale 100,000 on the test database
    P2C_BENCH_N=20000 make bench PYTEST_ARGS="-k seed"             # another scale (P2C_SEED_BENCH_SCALE wins)
    P2C_TEST_SQLITE_NAME=/tmp/seed_bench.sqlite3 make bench PYTEST_ARGS="-k seed"   # a SQLite file, as make run
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/p2c_bench make bench PYTEST_ARGS="-k seed"

Without ``P2C_TEST_SQLITE_NAME`` the SQLite test database is in memory, a little faster than a file. The machine
may be shared: the CPU time and the load average are printed beside the wall time, since the wall time of a
single-threaded seed on a busy machine says more about the neighbours than about the seed.
"""

import os
import resource
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

SCALE = int(os.environ.get("P2C_SEED_BENCH_SCALE") or os.environ.get("P2C_BENCH_N") or "100000")


def _timed(*args):
    out = StringIO()
    load = os.getloadavg()[0]
    started, cpu = time.perf_counter(), time.process_time()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue(), time.perf_counter() - started, time.process_time() - cpu, load


@pytest.mark.django_db(transaction=True)
def test_seed_demo_at_scale():
    output, wall, cpu, load = _timed("--scale", str(SCALE), "--seed", "2024", "--verbosity", "2")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nseed_demo --scale {SCALE:,} on {connection.vendor} ({connection.settings_dict['NAME']}): "
        f"{wall:.1f} s wall, {cpu:.1f} s CPU, peak RSS {peak_mb:,.0f} MB, "
        f"load average {load:.1f} before and {os.getloadavg()[0]:.1f} after"
    )
    print(output.rstrip())
    assert "Demo data created" in output

    again, wall, cpu, _ = _timed("--scale", str(SCALE), "--seed", "2024")
    print(f"a second run: {again.strip()} ({wall:.2f} s wall, {cpu:.2f} s CPU)")
    assert "already present" in again
