"""Opaque tokens (the API's page cursors, the Dataverse Web API's skip tokens): encoded here, and checked whole
before any part of one is used (docs/decisions.md#bounded-and-total-doors).

A token is its data as compact JSON in URL-safe base64 without padding. `token_decode` gives the data back only for
a text that `token_encode` could have written: at most `MAX_TOKEN_LENGTH` characters of the base64 alphabet, which
decode to a JSON object and encode back to exactly the same text. Anything else (another alphabet, padding, spaces,
JSON that is not an object, bytes that are not UTF-8, a text too long) is None, for the door to answer with its own
400. Its caller then checks each value's type and range (and that text holds no NUL or lone surrogate) before
using it.
"""

import base64
import binascii
import json
import re

MAX_TOKEN_LENGTH = 2048  # a token of ours is under 300 characters; a cursor on a long text value under 1,500
TOKEN_PATTERN = r"^[A-Za-z0-9_-]+$"  # base64url without padding; the schema states it with MAX_TOKEN_LENGTH
_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")


def token_encode(data):
    """``data`` (a dict of JSON values) as a token."""
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def token_decode(text, *, max_length=MAX_TOKEN_LENGTH):
    """The dict ``text`` encodes when it is exactly what `token_encode` gives for it, else None."""
    if not isinstance(text, str) or not 0 < len(text) <= max_length or not _ALPHABET.fullmatch(text):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(data, dict) or token_encode(data) != text:
        return None
    return data


def whole_number(value, *, minimum=0, maximum=2**63 - 1):
    """Whether ``value`` (from a token) is an integer (not a boolean) from ``minimum`` to ``maximum``."""
    return type(value) is int and minimum <= value <= maximum
