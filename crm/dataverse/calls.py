"""A request to the Dataverse Web API as the service answers it: a `Call` in, an `Answer` out (a request of a
``$batch`` is one too)."""

import uuid
from dataclasses import dataclass, field

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
        return orjson.dumps(self.body)


def error_answer(exc):
    return Answer(exc.status, exc.body(), headers=dict(exc.headers), content_type="application/json")


def prefer(call):
    """The ``Prefer`` header: {preference: value or True}."""
    preferences = {}
    for part in call.headers.get("prefer", "").split(","):
        name, _, value = part.strip().partition("=")
        if name:
            preferences[name.strip().lower()] = value.strip().strip('"') or True
    return preferences


def new_boundary(prefix):
    return f"{prefix}_{uuid.uuid4()}"
