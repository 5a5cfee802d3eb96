"""Request body parsers whose text can be stored, for every endpoint of the API.

JSON may escape a lone UTF-16 surrogate (``"\\ud800"``) or a NUL (``"\\u0000"``); Python decodes both into a
``str``, but neither can be stored (p2c.text), so a value holding one would fail later, in the database or on every
page that shows it. A form or multipart body may hold a NUL (``%00``). Each parser refuses such text as a 400 naming
where it is, before any view or serializer sees it: the one check of every body (query strings:
p2c.api.middleware.ApiQueryTextMiddleware).
"""

from django.utils.translation import gettext
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from p2c.text import shown, text_fault, unstorable_text_path

__all__ = ["FormParser", "JSONParser", "MultiPartParser", "unstorable_text_path"]


def unstorable_text_error(where):
    return ParseError(
        gettext(
            "JSON parse error - the text at %(where)s holds a lone surrogate (\\ud800-\\udfff) or a NUL character "
            "(\\u0000), which cannot be stored."
        )
        % {"where": where}
    )


def form_text_check(data, files=None):
    """Refuse (ParseError naming the field) a form field, or an uploaded file's name, that cannot be stored."""
    for name, values in data.lists():
        if text_fault(name) or any(isinstance(value, str) and text_fault(value) for value in values):
            raise ParseError(
                gettext("The form field %(name)s holds a NUL character (\\u0000) or a lone surrogate "
                        "(\\ud800-\\udfff), which cannot be stored.") % {"name": shown(name)}
            )
    for name, uploads in (files.lists() if files is not None else ()):
        if any(text_fault(upload.name or "") for upload in uploads):
            raise ParseError(
                gettext("The name of the file in the form field %(name)s holds a NUL character (\\u0000) or a lone "
                        "surrogate (\\ud800-\\udfff), which cannot be stored.") % {"name": shown(name)}
            )


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:  # Python's JSON decoder recurses once per level: a 400, not a 500
            raise ParseError(_("JSON parse error - the body nests lists or objects too deeply (hundreds of levels "
                               "deep).")) from None
        where = unstorable_text_path(data)
        if where:
            raise unstorable_text_error(where)
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        form_text_check(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        form_text_check(parsed.data, parsed.files)
        return parsed
