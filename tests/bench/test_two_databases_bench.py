"""Benchmark (docs/decisions.md#two-databases-intents-recorded-first): one database against Sales in a database of its
own, side by side in one run, on PostgreSQL.

Each shape runs in a process of its own on new, empty databases (tests/bench/two_databases_run.py): N Sales accounts
→ ERP customers, then the N customers → new Sales accounts, each a full synchronisation of the CUSTOMER mapping.
The shapes alternate for ``P2C_BENCH_ROUNDS`` rounds (default 2); the table gives each round and the medians.

    make bench PYTEST_ARGS="tests/bench/test_two_databases_bench.py"   (PostgreSQL at 127.0.0.1:5432, trust auth)

Then, Sales → ERP once the table is settled (docs/decisions.md#settled-runs-cost-what-changed): 500 changed rows, and
the second settled run after a bulk change of every row, with the rows each read.

``P2C_BENCH_N`` changes the size (default 100000). Prints figures; asserts only that every run succeeded.
"""

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVER = os.environ.get("P2C_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
ROUNDS = int(os.environ.get("P2C_BENCH_ROUNDS", "2"))


def _databases_new(*names):
    for name in names:
        for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
            subprocess.run(["psql", f"{SERVER}/postgres", "-q", "-c", sql], check=True, capture_output=True)


def _measure(shape):
    _databases_new("p2c_bench_erp", "p2c_bench_sales")
    env = {key: value for key, value in os.environ.items() if key not in ("SALES_DATABASE_URL", "DATABASE_URL")}
    env["DATABASE_URL"] = f"{SERVER}/p2c_bench_erp"
    if shape == "two databases":
        env["SALES_DATABASE_URL"] = f"{SERVER}/p2c_bench_sales"
    result = subprocess.run([sys.executable, str(REPO / "tests" / "bench" / "two_databases_run.py")], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=3600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_bench_one_database_against_two():
    if subprocess.run(["psql", f"{SERVER}/postgres", "-q", "-c", "SELECT 1"], capture_output=True).returncode:
        pytest.skip(f"needs PostgreSQL at {SERVER} (P2C_BENCH_POSTGRES)")
    n = int(os.environ.get("P2C_BENCH_N", "100000"))
    figures = {"one database": [], "two databases": []}
    for round_ in range(1, ROUNDS + 1):
        for shape in figures:
            seconds = _measure(shape)
            figures[shape].append(seconds)
            print(f"\nround {round_}, {shape}: Sales → ERP {seconds['to_erp']:.1f} s, "
                  f"ERP → Sales {seconds['to_sales']:.1f} s", flush=True)
    print(f"\n| PostgreSQL, N={n:,} | Sales accounts → ERP customers | ERP customers → Sales accounts |")
    print("|---|---|---|")
    medians = {}
    for shape, rounds in figures.items():
        medians[shape] = {key: statistics.median(r[key] for r in rounds) for key in ("to_erp", "to_sales")}
        cells = " | ".join(", ".join(f"{r[key]:.1f}" for r in rounds) + f" s (median {medians[shape][key]:.1f} s)"
                           for key in ("to_erp", "to_sales"))
        print(f"| {shape} | {cells} |")
    one, two = medians["one database"], medians["two databases"]
    print(f"| two / one | {two['to_erp'] / one['to_erp']:.2f}x | {two['to_sales'] / one['to_sales']:.2f}x |")
    # Settled runs cost what changed (docs/decisions.md): a settled table's runs, Sales → ERP
    print(f"\n| PostgreSQL, N={n:,}, Sales → ERP | 500 changed: seconds (rows read) | second settled run after a "
          "bulk change: seconds (rows read) |")
    print("|---|---|---|")
    for shape, rounds in figures.items():
        cells = [", ".join(f"{r[key]:.3f} ({r[rows]})" for r in rounds)
                 + f" s (median {statistics.median(r[key] for r in rounds):.3f} s)"
                 for key, rows in (("changed_500", "changed_read"), ("settled_2", "settled_read"))]
        print(f"| {shape} | {' | '.join(cells)} |")
    ratio = (statistics.median(r["changed_500"] for r in figures["two databases"])
             / statistics.median(r["changed_500"] for r in figures["one database"]))
    print(f"| two / one | {ratio:.2f}x | |")
