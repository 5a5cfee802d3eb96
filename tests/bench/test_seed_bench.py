"""Benchmark: how long ``seed_demo`` takes at scale (prints the figure; never a timed assertion).

    make bench PYTEST_ARGS="-k seed"                        # scale 100,000 on the test database
    P2C_SEED_BENCH_SCALE=20000 make bench PYTEST_ARGS="-k seed"

For the figure on a SQLite file, as `make run` uses it, give the test database a file:
``P2C_TEST_SQLITE_NAME=/tmp/seed_bench.sqlite3``.
"""

import os
import resource
import time

import pytest
from django.db import connection

from p2c.demo import demo_seed


@pytest.mark.django_db(transaction=True)
def test_seed_demo_at_scale():
    scale = int(os.environ.get("P2C_SEED_BENCH_SCALE", "100000"))
    started, cpu = time.perf_counter(), time.process_time()
    result = demo_seed(scale=scale, seed=2024)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    total = sum(result.counts.values())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nseed_demo --scale {scale:,} on {connection.vendor} ({connection.settings_dict['NAME']}): "
        f"{total:,} records in {wall:.1f} s wall, {cpu:.1f} s CPU ({total / wall:,.0f} records/s), "
        f"peak RSS {peak_mb:,.0f} MB, load average {os.getloadavg()[0]:.1f}"
    )
    for label, count in sorted(result.counts.items(), key=lambda item: -item[1])[:8]:
        print(f"  {label:<28} {count:>9,}")
    assert result.created
