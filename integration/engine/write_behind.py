"""Writing a chunk while the next one is read and decided (PostgreSQL).

A chunk of new rows (none of its source rows coupled, no match found) needs no lock while it is decided: there is
no destination row to hold. Its writes (destination rows, couplings, errors) and its commit then go to a thread of
their own, on a connection of their own, while the run reads and decides the next chunk; the database writes one
chunk while Python works on the next, where a run one chunk at a time leaves one of them idle (the commit alone,
with its deferred foreign-key checks, is a sixth of a first load's time).

What holds as before: each chunk is still one transaction, and chunks commit in their order (one written at a time,
the next decided one queued behind it, so that the thread goes on to it at once: handing each chunk over only
once the one before was written, and counted, left the thread idle a tenth of a first load's time); a chunk's counts
reach the job once it is committed; a write that fails fails the job as it did, and the chunk queued behind it is
not written. A killed process leaves whole chunks, as before. Chunks that read couplings or destination rows are
decided and written as before, in one transaction with their rows locked, once the chunks handed over are written.
With Sales in a database of its own (ERP → Sales), the thread writes a chunk as a run one chunk at a time does, in
the same three steps and order: its intents committed on the ERP side, then Sales' rows, then the confirmation
(intents.py); a killed process leaves what it left before, one chunk being written.
"""

import contextvars
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connections
from django.utils import translation


def write_behind_possible(plan):
    """Whether ``plan``'s run may write chunks behind: PostgreSQL wherever a chunk writes (the destination's
    database, and the couplings' when Sales has one of its own), not a dry run, and no transaction of the caller's
    around the run (another connection would not see what it holds)."""
    written = {plan.destination.database, plan.couplings_database}
    return (
        settings.P2C_SYNC_WRITE_BEHIND
        and not plan.dry_run
        and all(connections[alias].vendor == "postgresql" for alias in written)
        and not any(connections[alias].in_atomic_block for alias in written | {plan.source.database})
    )


class ChunkWriter:
    """One thread writing decided chunks in order, one at a time, with at most `QUEUED` handed over and not
    counted yet; ``written(result)`` runs in the caller's thread when a chunk is committed (`wait`, `submit`,
    `close`)."""

    QUEUED = 2  # the chunk being written and the one behind it

    def __init__(self):
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="p2c-chunk-writer")
        self._pending = deque()  # (future, written, chunk) in the order handed over
        self._failed = False  # a write raised: the chunks behind it are not written

    def submit(self, chunk, written):
        """Hand ``chunk`` (a decided `ChunkRun`) over, behind the chunk being written; the earliest chunk handed
        over is waited for first when `QUEUED` are."""
        while len(self._pending) >= self.QUEUED:
            self._written_next()
        # The caller's context (the language of messages, the acting Sales user) goes with it
        context, language = contextvars.copy_context(), translation.get_language()
        future = self._executor.submit(context.run, self._write, chunk, language)
        # The chunk is held here too, so that its thousands of objects are freed in the caller's thread, not in
        # the writer's, where that would hold up the next chunk's write
        self._pending.append((future, written, chunk))

    def wait(self):
        """Wait for the chunks handed over, each counted once committed; then raise what the first failure raised
        (a write, or ``written``): the chunks behind it that were not begun are left unwritten, the one being
        written is still counted."""
        error = None
        while self._pending:
            try:
                self._written_next()
            except BaseException as exc:
                error = error or exc
        if error is not None:
            raise error

    def close(self):
        """Wait for the chunks handed over (raising what failed), then close the thread's connections."""
        try:
            self.wait()
        finally:
            self._executor.submit(connections.close_all).result()
            self._executor.shutdown()

    def _written_next(self):
        future, written, _chunk = self._pending.popleft()
        try:
            result = future.result()
            if result is not _NOT_WRITTEN:
                written(result)
        except BaseException:
            self._failed = True  # nothing more is written: a chunk not begun yet is left
            raise

    def _write(self, chunk, language):
        if self._failed:  # a chunk before this one failed (its caller raises that): this one is left unwritten
            return _NOT_WRITTEN
        try:
            with translation.override(language):
                return chunk.write_decided()
        except BaseException:
            self._failed = True
            raise


_NOT_WRITTEN = object()
