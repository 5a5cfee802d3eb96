"""Text that can be stored: the one check every door applies to what it is given
(docs/decisions.md#bounded-and-total-doors).

A Python ``str`` may hold a NUL (JSON's ``"\\u0000"``, ``%00`` in a query string or a form) or a lone UTF-16
surrogate (JSON's ``"\\ud800"``, a file's bytes that are not UTF-8 read with ``surrogateescape``). Neither can be
stored: PostgreSQL refuses a NUL in text, no database driver encodes a surrogate, and neither can be written out as
UTF-8 on the pages that would show it. Each door (the API's parsers and query strings, the Dataverse Web API, the
configuration files of the admin, the API and the commands, the commands' arguments) asks `text_fault` and refuses
the text with its own answer, naming the field or the key.
"""

import re

NUL = "nul"
SURROGATE = "surrogate"


def text_fault(text):
    """``NUL`` when ``text`` holds a NUL character, ``SURROGATE`` when it holds a lone surrogate (U+D800 to
    U+DFFF), else None (text that can be stored)."""
    if "\x00" in text:
        return NUL
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return SURROGATE
    return None


def first_surrogate(text):
    """The first lone surrogate of ``text`` as its escape (``\\ud800``), for a message that names it."""
    for char in text:
        if "\ud800" <= char <= "\udfff":
            return f"\\u{ord(char):04x}"
    return None


def shown(text):
    """``text`` printable whatever it holds: a NUL or a lone surrogate as its escape."""
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")


def unstorable_text_path(data, path="body"):
    """Where in ``data`` (parsed JSON: dicts, lists, text, numbers) a text value or a key cannot be stored, as a
    path from ``path`` (``body.fields[2].name``; ``body.name (a key)`` for a key), or None. Walked without
    recursion, so any depth the parser accepted is walked."""
    stack = [(data, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            if text_fault(value):
                return where
        elif isinstance(value, dict):
            items = []
            for key, item in value.items():
                if isinstance(key, str) and text_fault(key):
                    return f"{where} (a key)"
                items.append((item, f"{where}.{key}"))
            stack.extend(reversed(items))
        elif isinstance(value, list):
            stack.extend(reversed([(item, f"{where}[{index}]") for index, item in enumerate(value)]))
    return None


# Addresses Django's EmailValidator accepts, in a narrower form that one regular expression tells in a microsecond
# (plain dot-atom user, ASCII host labels, a letters-only top-level domain, at most 320 characters in all); a test
# holds `plain_email` to that.
PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
    r"\.[A-Za-z]{2,63}"
)


def plain_email(value):
    """Whether ``value`` is an email address of the plain form `PLAIN_EMAIL` (then Django's validator accepts it)."""
    return len(value) <= 320 and PLAIN_EMAIL.fullmatch(value) is not None
