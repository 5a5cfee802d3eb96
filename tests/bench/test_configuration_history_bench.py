"""Benchmark: importing a configuration whose one value map holds N entries, with its history recorded (issue 67).

Recording the history of an import was quadratic in its value-map entries (each entry's record looked up by
searching its list again: 4,000 entries took 2.6 s, 32,000 took 155 s); it is linear now. Each size imports the
value map into an empty one (N entries added: N rows of history and N of each key), through
`configuration_import` as every door calls it, with the history recorder the doors pass. Sizes:
``P2C_BENCH_HISTORY_SIZES`` (default ``4000,16000,32000``). Run with
``.venv/bin/pytest tests/bench/test_configuration_history_bench.py -s -o addopts="" -p no:cacheprovider``.
Prints seconds and µs per entry for the whole import and for the history alone, and the per-entry ratio to the
first size; asserts only what was written, never time.
"""

import os
import time

import pytest

from integration.configuration import configuration_import
from integration.configuration.format import FORMAT, VERSION
from integration.configuration.history import history_recorder
from integration.models import ConfigurationChange, ValueMap, ValueMapEntry

SIZES = [int(n) for n in os.environ.get("P2C_BENCH_HISTORY_SIZES", "4000,16000,32000").split(",")]


def _configuration(n):
    entries = [{"erp_value": f"E{i:06d}", "crm_value": f"crm value {i}"} for i in range(n)]
    return {"format": FORMAT, "version": VERSION, "partial": True,
            "value_maps": [{"name": "BENCH", "description": "", "entries": entries}]}


@pytest.mark.django_db(transaction=True)
def test_history_of_an_import_is_linear_in_its_entries():
    import integration.configuration.history as history

    timed = {"history": 0.0}
    record = history.configuration_changes_record

    def record_timed(**kwargs):
        start = time.perf_counter()
        try:
            return record(**kwargs)
        finally:
            timed["history"] += time.perf_counter() - start

    history.configuration_changes_record = record_timed
    rows = []
    try:
        for n in SIZES:
            ValueMap.objects.all().delete()
            ConfigurationChange.objects.all().delete()
            timed["history"] = 0.0
            start = time.perf_counter()
            outcome = configuration_import(data=_configuration(n),
                                           on_applied=history_recorder(door=ConfigurationChange.Door.IMPORT))
            took = time.perf_counter() - start
            assert ValueMapEntry.objects.filter(value_map__name="BENCH").count() == n
            # the value map added, then each entry added with its two keys
            assert ConfigurationChange.objects.filter(path__startswith="value_maps[BENCH].entries[",
                                                      action="added").count() == n
            assert outcome.changes[0].path == "value_maps[BENCH]"  # one change: the history expands it
            rows.append((n, took, timed["history"]))
    finally:
        history.configuration_changes_record = record
    first_n, first_took, first_history = rows[0]
    print(f"\n{'entries':>8} {'import s':>9} {'µs/entry':>9} {'ratio':>6} {'history s':>10} {'µs/entry':>9} {'ratio':>6}")
    for n, took, hist in rows:
        print(f"{n:>8,} {took:>9.2f} {took / n * 1e6:>9.1f} {(took / n) / (first_took / first_n):>6.2f} "
              f"{hist:>10.2f} {hist / n * 1e6:>9.1f} {(hist / n) / (first_history / first_n):>6.2f}")
