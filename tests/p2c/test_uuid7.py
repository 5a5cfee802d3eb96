"""p2c.utils.uuid7: the keys of new records (an ERP record's SystemId, a Sales record's id), time-ordered as RFC 9562's
version 7 orders them, their random bits drawn from the system in batches: never the same key twice, from any number
of threads (a synchronisation decides in one thread and writes in another) or processes."""

import os
import pickle
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import pytest

from crm.models import Account
from erp.models import Customer
from p2c.records import instance_maker
from p2c.utils import uuid7

BATCH = 1024  # the bits of this many keys are drawn at a time
RANDOM_BITS = (1 << 62) - 1


def test_keys_are_version_7_uuids_never_repeated_random_in_their_last_62_bits():
    keys = [uuid7() for _ in range(5 * BATCH + 7)]  # across several batches
    assert len(set(keys)) == len(keys)
    assert {(key.version, key.variant) for key in keys} == {(7, uuid.RFC_4122)}
    assert len({key.int & RANDOM_BITS for key in keys}) == len(keys)  # random, not a counter
    # made without UUID's __init__: the same UUID as the one its text makes, in every way a UUID is compared or kept
    key = keys[0]
    made = uuid.UUID(str(key))
    assert (key, hash(key), key.hex, key.is_safe, pickle.loads(pickle.dumps(key))) == (
        made, hash(made), made.hex, made.is_safe, made)


def test_keys_begin_with_the_time_they_were_made_and_sort_in_the_order_they_were_made():
    groups = []
    for _ in range(4):
        before = time.time_ns() // 1_000_000
        keys = [uuid7() for _ in range(300)]
        after = time.time_ns() // 1_000_000
        assert all(before <= key.int >> 80 <= after for key in keys)
        groups.append(keys)
        time.sleep(0.002)
    # a key made a millisecond later sorts after (to the millisecond's 4,096th, 245 ns, within one process)
    assert all(max(earlier) < min(later) for earlier, later in pairwise(groups))


def test_threads_drawing_at_once_never_get_the_same_key():
    def draw(_):
        return [uuid7() for _ in range(3 * BATCH)]

    with ThreadPoolExecutor(4) as pool:
        keys = [key for batch in pool.map(draw, range(4)) for key in batch]
    assert len(set(keys)) == len(keys) == 12 * BATCH
    assert len({key.int & RANDOM_BITS for key in keys}) == len(keys)


def test_a_forked_process_never_hands_out_its_parents_random_bits():
    """A Celery worker forks its children after start-up, which may have drawn a batch already."""
    uuid7()  # the parent holds the rest of a batch
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its first keys, to the parent
        try:
            os.write(write, b"".join(uuid7().bytes for _ in range(8)))
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    child = {uuid.UUID(bytes=data[i:i + 16]).int & RANDOM_BITS for i in range(0, len(data), 16)}
    parent = {uuid7().int & RANDOM_BITS for _ in range(BATCH)}  # what the parent still had, and more
    assert len(child) == 8 and child.isdisjoint(parent)


@pytest.mark.parametrize("model, attname", [(Customer, "system_id"), (Account, "id")])
def test_new_records_get_time_ordered_keys_of_their_own_made_by_a_synchronisation_or_by_django(model, attname):
    make = instance_maker(model)
    keys = [getattr(make({"name": f"Record {n}"}), attname) for n in range(2 * BATCH)]
    keys.append(getattr(model(name="Made by Django"), attname))
    assert len(set(keys)) == len(keys) and all(type(key) is uuid.UUID and key.version == 7 for key in keys)
    assert keys[-1] > keys[0]
