"""Writing a chunk while the next one is read and decided (PostgreSQL).

A chunk of new rows (none of its source rows coupled, no match found) needs no lock while it is decided: there is
no destination row to hold. Its writes (destination rows, couplings, errors) and its commit then go to a thread of
their own, on a connection of their own, while the run reads and decides the next chunk; the database writes one
chunk while Python works on the next, where a run one chunk at a time leaves one of them idle (the commit alone,
with its deferred foreign-key checks, is a sixth of a first load's time).

What holds as before: each chunk is still one transaction, and chunks commit in their order (one in flight: the
next is handed over only when the one before is written); a chunk's counts reach the job once it is committed; a
write that fails fails the job as it did. A killed process leaves whole chunks, as before. Chunks that read
couplings or destination rows are decided and written as before, in one transaction with their rows locked, once
the chunk in flight is written. With Sales in a database of its own (ERP → Sales), the thread writes a chunk as a
run one chunk at a time does, in the same three steps and order: its intents committed on the ERP side, then Sales'
rows, then the confirmation (intents.py); a killed process leaves what it left before, one chunk in flight.
"""

import contextvars
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connections
from django.utils import translation


def write_behind_possible(plan):
    """Whether ``plan``'s run (one that writes: a dry run has nothing to write) may write chunks behind: PostgreSQL
    wherever a chunk writes (the destination's database, and the couplings' when Sales has one of its own), and no
    transaction of the caller's around the run (another connection would not see what it holds)."""
    couplings = connections[plan.couplings_database]
    return (
        settings.P2C_SYNC_WRITE_BEHIND
        and plan.destination.reach.writes_behind()
        and couplings.vendor == "postgresql" and not couplings.in_atomic_block
        and plan.source.reach.reads_outside_transaction()
    )


class ChunkWriter:
    """One thread writing decided chunks in order, one at a time; ``written(result)`` runs in the caller's thread
    when a chunk is committed (`wait`, `submit`, `close`)."""

    def __init__(self):
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="p2c-chunk-writer")
        self._pending = None

    def submit(self, chunk, written):
        """Hand ``chunk`` (a decided `ChunkRun`) over, once the chunk before it is written."""
        self.wait()
        # The caller's context (the language of messages, the acting Sales user) goes with it
        context, language = contextvars.copy_context(), translation.get_language()
        self._pending = (self._executor.submit(context.run, _write, chunk, language), written)

    def wait(self):
        """Wait for the chunk in flight; raises what its write raised."""
        if self._pending is not None:
            future, written = self._pending
            self._pending = None
            written(future.result())

    def close(self):
        """Wait for the chunk in flight (raising what its write raised), then close the thread's connections."""
        try:
            self.wait()
        finally:
            self._executor.submit(connections.close_all).result()
            self._executor.shutdown()


def _write(chunk, language):
    with translation.override(language):
        return chunk.write_decided()
