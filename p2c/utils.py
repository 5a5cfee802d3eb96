"""Small helpers shared by every app."""

from itertools import islice


def chunked(iterable, size):
    """Yield lists of at most ``size`` items (itertools.batched arrives only in Python 3.12)."""
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk
