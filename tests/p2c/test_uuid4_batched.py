"""p2c.utils.uuid4_batched: the random keys of new records (an ERP record's SystemId, a Sales record's id) drawn from
the system in batches, as uuid4 draws them one by one: version 4, RFC 4122 variant, never the same key twice, from
any number of threads (a synchronisation decides in one thread and writes in another)."""

import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from crm.models import Account
from erp.models import Customer
from p2c.records import instance_maker
from p2c.utils import uuid4_batched


def test_keys_are_random_version_4_uuids_never_repeated():
    keys = [uuid4_batched() for _ in range(5 * uuid4_batched.BATCH + 7)]  # across several batches
    assert len(set(keys)) == len(keys)
    assert {(key.version, key.variant) for key in keys} == {(4, uuid.RFC_4122)}
    assert len({key.int >> 64 for key in keys}) == len(keys)  # random in both halves, not a counter
    assert len({key.int & (2**64 - 1) for key in keys}) == len(keys)


def test_threads_drawing_at_once_never_get_the_same_key():
    def draw(_):
        return [uuid4_batched() for _ in range(3 * uuid4_batched.BATCH)]

    with ThreadPoolExecutor(4) as pool:
        keys = [key for batch in pool.map(draw, range(4)) for key in batch]
    assert len(set(keys)) == len(keys) == 12 * uuid4_batched.BATCH


def test_a_forked_process_never_hands_out_its_parents_keys():
    """A Celery worker forks its children after start-up, which may have drawn a batch already."""
    uuid4_batched()  # the parent holds the rest of a batch
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its first keys, to the parent
        try:
            os.write(write, b"".join(uuid4_batched().bytes for _ in range(8)))
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    child = {uuid.UUID(bytes=data[i:i + 16]) for i in range(0, len(data), 16)}
    parent = {uuid4_batched() for _ in range(uuid4_batched.BATCH)}  # what the parent still had, and more
    assert len(child) == 8 and child.isdisjoint(parent)


@pytest.mark.parametrize("model, attname", [(Customer, "system_id"), (Account, "id")])
def test_new_records_made_for_a_synchronisation_get_keys_of_their_own(model, attname):
    make = instance_maker(model)
    keys = [getattr(make({"name": f"Record {n}"}), attname) for n in range(2 * uuid4_batched.BATCH)]
    assert len(set(keys)) == len(keys) and all(type(key) is uuid.UUID and key.version == 4 for key in keys)
