"""One timed step of tests/bench/test_floor_bench.py in a process of its own (floor_steps.step), as a worker or
``manage.py sync`` runs a synchronisation: the step then owes nothing to what the benchmark's process holds (at
1,000,000 rows, the world it made and read back), and its peak RSS growth compares from one size to another. The
databases (DATABASE_URL, SALES_DATABASE_URL) are the benchmark's, already in the state to write into. Arguments: the
step, the direction, the folder of the rows saved, N. Prints one JSON line."""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "p2c.settings")
os.environ["DJANGO_DEBUG"] = "false"
os.environ.setdefault("DJANGO_SECRET_KEY", "bench")

import django

django.setup()

from tests.bench.floor_steps import WAYS, step  # noqa: E402

name, direction, directory, n = sys.argv[1:]
print(json.dumps(step(name, WAYS[direction], directory, int(n))))
