"""argparse types for the commands' arguments: a bad value is a usage error naming the argument, never a
traceback, and is refused before the command changes anything."""

import argparse
import os

from django.utils.translation import gettext

from p2c.text import text_fault


def int_between(low, high):
    """An argparse ``type``: a whole number from ``low`` to ``high``."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range: give a number from {low:,} to {high:,}")
        return value

    return parse


def _shown(text):
    """``text`` quoted as an error message can print it whatever it holds (a byte that is not UTF-8 as ``\\xff``)."""
    if _is_text(text):
        return repr(text)
    escaped = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return f"'{escaped}'"


def _is_text(value):
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def text(value):
    """An argparse ``type`` for names, ids and other text: valid UTF-8 without NUL (a byte that is not UTF-8 reaches
    Python as a lone surrogate, which no database and no output stream takes)."""
    if text_fault(value):  # the check of every door (p2c.text)
        raise argparse.ArgumentTypeError(
            gettext("%(value)s is not valid text: it holds a NUL or bytes that are not UTF-8") % {"value": _shown(value)}
        )
    return value


def path(value):
    """An argparse ``type`` for a file name: any bytes the system takes (not necessarily UTF-8), but not empty and
    without NUL."""
    try:
        os.fsencode(value)  # the bytes it came from, for a name that is not UTF-8; none for any other surrogate
        encodable = True
    except UnicodeEncodeError:
        encodable = False
    if not value or "\x00" in value or not encodable:
        raise argparse.ArgumentTypeError(gettext("%(value)s is not a file name") % {"value": _shown(value)})
    return value


def path_shown(value):
    """A file name as a command prints it: a name whose bytes are not UTF-8 with those bytes escaped (``\\xff``),
    which standard output takes whatever its encoding."""
    return os.fsencode(value).decode("utf-8", "backslashreplace")


# The largest id a database key holds (a 64-bit signed integer): past it SQLite and PostgreSQL raise, not answer.
MAX_ID = 2**63 - 1


def record_id(value):
    """An argparse ``type`` for a numeric id: a whole number from 1 to `MAX_ID`."""
    return int_between(1, MAX_ID)(value)
