"""Request body parsers: JSON whose text can be stored.

JSON may escape a lone UTF-16 surrogate (``"\\ud800"``) or a NUL (``"\\u0000"``); Python decodes both into a
``str``, but neither can be encoded as UTF-8 text or stored in PostgreSQL, so a value holding one would fail
later, in the database or on every page that shows it. They are refused here, for every endpoint, as a 400
naming where the text is.
"""

from django.utils.translation import gettext
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


def unstorable_text_path(data, path="body"):
    """Where in ``data`` (parsed JSON) a string or key cannot be stored as UTF-8 text, or None."""
    if isinstance(data, str):
        return path if not _storable(data) else None
    if isinstance(data, dict):
        for key, value in data.items():
            if not _storable(key):
                return f"{path} (a key)"
            found = unstorable_text_path(value, f"{path}.{key}")
            if found:
                return found
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found = unstorable_text_path(value, f"{path}[{index}]")
            if found:
                return found
    return None


def _storable(text):
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
            where = unstorable_text_path(data)
        except RecursionError:  # Python's JSON decoder recurses once per level: a 400, not a 500
            raise ParseError(_("JSON parse error - the body nests lists or objects too deeply (hundreds of levels "
                               "deep).")) from None
        if where:
            raise ParseError(
                gettext(
                    "JSON parse error - the text at %(where)s holds a lone surrogate (\\ud800-\\udfff) or a NUL character "
                    "(\\u0000), which cannot be stored."
                )
                % {"where": where}
            )
        return data
