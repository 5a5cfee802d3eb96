"""Benchmark: importing a configuration whose one value map holds N entries, with its history recorded
(docs/decisions.md#bounded-and-total-doors).

Recording the history of an import was quadratic in its value-map entries (each entry's record looked up by
searching its list again: 4,000 entries took 2.6 s, 32,000 took 155 s); it is linear now (each list indexed once,
the rows written 2,000 at a time). Each size imports the value map into an empty one (N entries added: N rows of
history and N of each key), through `configuration_import` as every door calls it, with the history recorder the
doors pass. Sizes: ``P2C_BENCH_HISTORY_SIZES`` (default ``4000,16000,32000``). A second test imports
``P2C_BENCH_HISTORY_API_SIZE`` entries (default 12,000; 18.8 s before) through ``POST
/api/integration/configuration/import/``. Run with
``.venv/bin/pytest tests/bench/test_configuration_history_bench.py -s -o addopts="" -p no:cacheprovider``.

Prints seconds and µs per entry, wall clock and CPU time of the process (the steadier figure on a shared machine),
for the whole import and for the history alone, with the per-entry ratio to the first size; asserts only what was
written, never time.
"""

import gc
import json
import os
import time

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from integration.configuration import configuration_import
from integration.configuration.format import FORMAT, VERSION
from integration.configuration.history import history_recorder
from integration.models import ConfigurationChange, ValueMap, ValueMapEntry

SIZES = [int(n) for n in os.environ.get("P2C_BENCH_HISTORY_SIZES", "4000,16000,32000").split(",")]
API_SIZE = int(os.environ.get("P2C_BENCH_HISTORY_API_SIZE", "12000"))


def _configuration(n):
    entries = [{"erp_value": f"E{i:06d}", "crm_value": f"crm value {i}"} for i in range(n)]
    return {"format": FORMAT, "version": VERSION, "partial": True,
            "value_maps": [{"name": "BENCH", "description": "", "entries": entries}]}


def _clocks():
    return time.perf_counter(), time.process_time()


def _since(started):
    wall, cpu = _clocks()
    return wall - started[0], cpu - started[1]


@pytest.mark.django_db(transaction=True)
def test_history_of_an_import_is_linear_in_its_entries():
    import integration.configuration.history as history

    timed = {"history": (0.0, 0.0)}
    record = history.configuration_changes_record

    def record_timed(**kwargs):
        started = _clocks()
        try:
            return record(**kwargs)
        finally:
            timed["history"] = _since(started)

    history.configuration_changes_record = record_timed
    rows = []
    try:
        for n in SIZES:
            ValueMap.objects.all().delete()
            ConfigurationChange.objects.all().delete()
            data = _configuration(n)
            gc.collect()
            started = _clocks()
            outcome = configuration_import(data=data,
                                           on_applied=history_recorder(door=ConfigurationChange.Door.IMPORT))
            took = _since(started)
            assert ValueMapEntry.objects.filter(value_map__name="BENCH").count() == n
            # the value map added, then each entry added with its two keys
            assert ConfigurationChange.objects.filter(path__startswith="value_maps[BENCH].entries[",
                                                      action="added").count() == n
            assert outcome.changes[0].path == "value_maps[BENCH]"  # one change: the history expands it
            rows.append((n, took, timed["history"]))
    finally:
        history.configuration_changes_record = record
    first_n, first_took, first_history = rows[0]
    print(f"\n{'':>8} {'import (wall)':^22} {'import (CPU)':^22} {'history (wall)':^22} {'history (CPU)':^22}")
    print(f"{'entries':>8}" + f" {'s':>6} {'µs/entry':>9} {'ratio':>5}" * 4)
    for n, took, hist in rows:
        cells = []
        for value, first in ((took[0], first_took[0]), (took[1], first_took[1]),
                             (hist[0], first_history[0]), (hist[1], first_history[1])):
            cells.append(f" {value:>6.2f} {value / n * 1e6:>9.1f} {(value / n) / (first / first_n):>5.2f}")
        print(f"{n:>8,}" + "".join(cells))


@pytest.mark.django_db(transaction=True)
def test_an_import_through_the_api(django_user_model):
    client = APIClient()
    user = django_user_model.objects.create_superuser("bench-admin", "bench@example.com", None)
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    body = json.dumps({"configuration": _configuration(API_SIZE), "dry_run": False})
    gc.collect()
    started = _clocks()
    answer = client.generic("POST", "/api/integration/configuration/import/", body, content_type="application/json")
    took = _since(started)
    assert answer.status_code == 200, answer.content[:500]
    assert ValueMapEntry.objects.filter(value_map__name="BENCH").count() == API_SIZE
    print(f"\nPOST configuration/import/ of {API_SIZE:,} value-map entries ({len(body) / 1024:,.0f} KB): "
          f"{took[0]:.2f} s wall, {took[1]:.2f} s CPU ({took[0] / API_SIZE * 1e6:.0f} µs per entry)")
