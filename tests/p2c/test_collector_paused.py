"""p2c.utils.collector_paused: the garbage collector off for a chunk of a synchronisation, then what the chunk
left in reference cycles collected, and the collector as the caller had it."""

import gc
import weakref

from p2c.utils import collector_paused


class Node:
    pass


def cycle():
    """An object in a reference cycle, only the collector frees; a weak reference to it."""
    node = Node()
    node.me = node
    return weakref.ref(node)


def test_the_collector_is_off_inside_and_what_the_block_left_in_cycles_is_freed_after():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        left = cycle()
        garbage = [cycle() for _ in range(10_000)]  # allocations that would set off collections
        assert left() is not None and all(ref() is not None for ref in garbage)
    assert gc.isenabled()
    assert left() is None and all(ref() is None for ref in garbage)


def test_a_collector_the_caller_turned_off_stays_off_and_collects_nothing():
    gc.disable()
    try:
        with collector_paused():
            kept = cycle()
        assert not gc.isenabled()
        assert kept() is not None
    finally:
        gc.enable()
        gc.collect()


def test_many_blocks_in_a_row_leave_no_growing_garbage_behind():
    gc.collect()
    refs = []
    for _ in range(300):  # a run of 300 chunks, each leaving a cycle behind
        with collector_paused():
            refs.append(cycle())
    assert [ref for ref in refs if ref() is not None] == []


def test_chunks_that_leave_a_few_cycles_set_off_no_full_collection():
    """A full collection walks everything the process holds: a run whose chunks leave a few objects behind does
    not set one off every hundred chunks (what it did when every tenth middle collection was a full one)."""
    gc.collect()
    full = gc.get_stats()[2]["collections"]
    refs = []
    for _ in range(300):
        with collector_paused():
            refs.append(cycle())
    assert gc.get_stats()[2]["collections"] == full
    assert [ref for ref in refs if ref() is not None] == []


def test_cycles_that_reached_the_oldest_generation_are_freed_once_as_many_again_moved_there():
    """Objects that lived through chunks reach the oldest generation; dropped there in cycles, they are freed by a
    full collection once the objects moved there since the last one are a quarter of what it held (CPython's rule)."""
    gc.collect()
    held = len(gc.get_objects(2))
    kept = []
    for _ in range(30):  # chunks whose cycles stay alive a while: moved up, generation after generation
        with collector_paused():
            kept.extend(Node() for _ in range(held // 20))
            for node in kept[-(held // 20):]:
                node.me = node
    refs = [weakref.ref(node) for node in kept[::1000]]
    kept.clear()
    assert any(ref() is not None for ref in refs)  # in cycles: only a full collection frees them now
    for _ in range(300):
        with collector_paused():
            pass
    assert [ref for ref in refs if ref() is not None] == []
