"""Messages stored as what they mean, told in the reader's language
(docs/decisions.md#messages-stored-as-what-they-mean).

A job's message is written once, by a worker in its own language, and read later by people in theirs: on an admin
page (the request's language), in the API (``Accept-Language``), by a command (``P2C_LANGUAGE``) or in an alert
e-mail (the recipient's). So the writer stores a `Said`: the English sentence (marked for the catalogues with
``gettext_noop`` where it is written) and its parameters; the reader renders it with `said_text`, translated then.
Stored as JSON (`Said.as_data`) beside the old text field, which stays the fallback for rows written before.

French typography is applied wherever French is shown (`french_typography`: a no-break space before : ; ! ?).
"""

import re
from dataclasses import dataclass

from django.utils import formats
from django.utils.translation import get_language, gettext, gettext_noop, ngettext

# ``word :`` / ``word:`` followed by a space or the end (not "12:30", "http://", "%(x)s:%(y)s").
NUMBER_PLACEHOLDER = re.compile(r"%\((\w+)\)d")
HIGH_PUNCTUATION = re.compile(r"(?<=\S)[ \u00a0\u202f]?([:;!?])(?=\s|$)")


def french_typography(text):
    """``Échec : …`` with a no-break space before the high punctuation, when French is the active language."""
    if not text or not (get_language() or "").startswith("fr"):
        return text
    return HIGH_PUNCTUATION.sub(lambda m: "\u00a0" + m.group(1), text)


@dataclass(frozen=True)
class Said:
    """A sentence and its parameters, rendered in the active language when read.

    ``text``: the English msgid (and ``plural``, chosen by the parameter ``count``); ``params``: (name, value)
    pairs, a value a string, a number (shown with the language's separators), a `Said` or a `Joined`. Hashable, so
    a job's skip reasons can be counted by it."""

    text: str
    params: tuple = ()
    plural: str = ""
    counter: str = "count"  # the parameter that chooses the plural

    @classmethod
    def of(cls, text, plural="", /, counter="count", **params):
        return cls(text, tuple(sorted(params.items())), plural, counter)

    def __str__(self):
        values = {}
        for name, value in self.params:
            if isinstance(value, int) and not isinstance(value, bool):
                value = formats.number_format(value)
            values[name] = str(value)
        if self.plural:
            text = ngettext(self.text, self.plural, dict(self.params).get(self.counter, 1))
        else:
            text = gettext(self.text)
        # Numbers are given formatted, as text: Django's own ``%(limit_value)d`` takes them so too.
        return NUMBER_PLACEHOLDER.sub(r"%(\1)s", text) % values if values else text

    def as_data(self):
        data = {"text": self.text, "params": {name: _param_data(value) for name, value in self.params}}
        if self.plural:
            data["plural"], data["counter"] = self.plural, self.counter
        return data


@dataclass(frozen=True)
class Joined:
    """Parts told one after the other (``3 inserted, 1 modified``): each a `Said` or a string."""

    parts: tuple
    separator: str = ", "

    def __str__(self):
        return self.separator.join(str(part) for part in self.parts)


@dataclass(frozen=True)
class Lowered:
    """A `Said` told in lower case (a table's name inside a sentence: "a Sales user")."""

    said: object

    def __str__(self):
        return str(self.said).lower()


@dataclass(frozen=True)
class Capitalised:
    """A `Said` told with its first letter in upper case (a table's name opening a sentence: "Customer No. …")."""

    said: object
    rest_lowered: bool = False  # as ``str.capitalize``: "Bank account" for "Bank Account"

    def __str__(self):
        text = str(self.said)
        return text.capitalize() if self.rest_lowered else text[:1].upper() + text[1:]


def _param_data(value):
    """A parameter as JSON: a `Said` or `Joined` as theirs, a number as it is, anything else (a lazy text, a
    Decimal) as its text."""
    if isinstance(value, (Said, Joined, Lowered, Capitalised)):
        return said_data(value)
    return value if isinstance(value, (int, float)) else str(value)


def said(text, /, **params):
    """A sentence to store: ``said(gettext_noop("… %(name)s …"), name=value)``."""
    return Said.of(text, **params)


def said_exception(exc):
    """An unexpected exception as what it means: a translated sentence whose parameters are the exception's class
    and its own words (data, as the exception said them); an exception carrying a `Said` (``exc.said``) says that."""
    if getattr(exc, "said", None):
        return exc.said
    # Translators: an unexpected error; %(type)s is the exception's class (e.g. OperationalError), %(error)s its own
    # words, as the program said them (not translated).
    return said(gettext_noop("Unexpected error (%(type)s): %(error)s"), type=type(exc).__name__, error=str(exc))


def counted(singular, plural, /, counter="count", **params):
    """A counted sentence to store, its plural chosen by the parameter ``counter`` when read (extracted by our
    makemessages)."""
    return Said.of(singular, plural, counter=counter, **params)


def said_name(name):
    """A model's or a field's ``verbose_name`` (a lazy translation) as a `Said`, so that it is told in the reader's
    language too; a plain text stays as it is."""
    msgid = getattr(name, "_args", None)
    return Said.of(msgid[0]) if msgid and isinstance(msgid[0], str) else str(name)


def said_choice(obj, name):
    """The label of the choice ``obj`` holds in its field ``name`` (``get_type_display()``) as a `said_name`."""
    value = getattr(obj, name)
    label = dict(obj._meta.get_field(name).flatchoices).get(value, value)
    return said_name(label) if label is not None else ""


def said_data(value):
    """JSON for a `Said`, a `Joined` or a string (kept as it was written)."""
    if isinstance(value, Said):
        return value.as_data()
    if isinstance(value, Joined):
        return {"join": value.separator, "parts": [said_data(part) for part in value.parts]}
    if isinstance(value, Lowered):
        return {"lower": said_data(value.said)}
    if isinstance(value, Capitalised):
        return {"capital": said_data(value.said), **({"rest_lowered": True} if value.rest_lowered else {})}
    return str(value)


def said_from_data(data):
    """The `Said`, `Joined` or string `said_data` stored."""
    if isinstance(data, str):
        return data
    if "join" in data:
        return Joined(tuple(said_from_data(part) for part in data["parts"]), data["join"])
    if "lower" in data:
        return Lowered(said_from_data(data["lower"]))
    if "capital" in data:
        return Capitalised(said_from_data(data["capital"]), bool(data.get("rest_lowered")))
    params = {name: said_from_data(value) if isinstance(value, dict) else value
              for name, value in (data.get("params") or {}).items()}
    return Said.of(data["text"], data.get("plural", ""), counter=data.get("counter", "count"), **params)


def said_stored(value):
    """(text, data) to store for ``value``, a `Said`, a `Joined` (a `Lowered`, a `Capitalised`) or a text: the text in the active language (the
    writer's, what a search matches and older code reads), the data what it means (None for a plain text)."""
    return french_typography(str(value)), (None if isinstance(value, str) else said_data(value))


def said_columns(value, limit=None):
    """``{"message": …, "message_data": …}`` of ``value`` (`said_stored`), for an ``update()``; the text cut at
    ``limit`` characters when given."""
    text, data = said_stored(value)
    return {"message": text[:limit] if limit else text, "message_data": data}


def said_text(data, fallback=""):
    """What stored ``data`` (`said_data`'s JSON) says in the active language, French typography applied;
    ``fallback`` (the text stored beside it) for a row written before messages were stored as what they mean."""
    if not data:
        return french_typography(fallback)
    try:
        return french_typography(str(said_from_data(data)))
    except (KeyError, TypeError, ValueError):  # stored in a shape the code no longer reads: the text then
        return french_typography(fallback)
