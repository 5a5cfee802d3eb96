"""A run's reader hands each chunk over (integration.engine.reading.iterate_chunks): it keeps no reference to the
rows while the run works on them, so a chunk the run is done with is freed then, by its reference count, and the
collection after each chunk (p2c.utils.collector_paused) does not walk a thousand rows still alive."""

import gc
import weakref

import pytest

from erp.models import Currency
from integration.engine.reading import iterate_chunks


@pytest.mark.django_db
def test_a_chunk_the_run_is_done_with_is_freed_before_the_next_one_is_read():
    Currency.objects.bulk_create([Currency(code=f"C{n:02}") for n in range(5)])
    chunks = iterate_chunks(Currency.objects.all(), 2)
    rows = next(chunks)
    first = weakref.ref(rows[0])
    codes = [row.code for row in rows]
    gc.disable()  # freed by its reference count, not found by a collection
    try:
        del rows
        assert first() is None
    finally:
        gc.enable()
    codes += [row.code for rows in chunks for row in rows]
    assert codes == ["C00", "C01", "C02", "C03", "C04"]  # every row once, in key order
