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
