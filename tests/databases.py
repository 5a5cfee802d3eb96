"""Test helpers for every database of the run (Sales may have its own: p2c.databases)."""

from contextlib import ExitStack, contextmanager

from django.conf import settings
from django.db import transaction


@contextmanager
def rolled_back():
    """A savepoint in every database, rolled back at the end: what the block wrote, on either side, is gone."""
    aliases = list(settings.DATABASES)
    with ExitStack() as stack:
        for alias in aliases:
            stack.enter_context(transaction.atomic(using=alias))
        yield
        for alias in aliases:
            transaction.set_rollback(True, using=alias)
