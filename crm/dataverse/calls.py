"""A request to the Dataverse Web API as the service answers it: a `Call` in, an `Answer` out (a request of a
``$batch`` is one too)."""

import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import orjson

JSON_TYPE = "application/json; odata.metadata=minimal"


@dataclass
class Call:
    method: str
    path: str
    params: dict
    headers: dict  # lower-case names
    body: bytes
    base: str  # https://host/api/data/v9.2/
    user: object = None
    content_id: str | None = None


@dataclass
class Answer:
    status: int
    body: object = None  # a dict (JSON), bytes, or None
    headers: dict = field(default_factory=dict)
    content_type: str = JSON_TYPE

    def content(self):
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return orjson.dumps(self.body, option=orjson.OPT_UTC_Z | orjson.OPT_OMIT_MICROSECONDS, default=_json_default)


def _json_default(value):
    """What orjson does not write itself: decimals (as numbers, as Dataverse writes money and decimals)."""
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def error_answer(exc):
    return Answer(exc.status, exc.body(), headers=dict(exc.headers), content_type="application/json")


def prefer(call):
    """The ``Prefer`` header: {preference: value or True}; a quoted value may hold commas
    (``odata.include-annotations="a,b"``)."""
    preferences = {}
    for name, value in _PREFERENCE.findall(call.headers.get("prefer", "")):
        preferences[name.lower()] = value.strip().strip('"') or True
    return preferences


_PREFERENCE = re.compile(r'\s*([^=,\s]+)\s*(?:=\s*("[^"]*"|[^,]*))?\s*,?')


def new_boundary(prefix):
    return f"{prefix}_{uuid.uuid4()}"
