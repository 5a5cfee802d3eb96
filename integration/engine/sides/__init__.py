"""The sides of a mapping, as the engine reaches them (see `base.Side`): `DjangoSide` for a model of this project
(Sales or the ERP, in one database or two), `MemorySide` for tests. A side reached over HTTP implements the same
`Side` and runs the contract-test kit (tests/contract/)."""

from .base import CannotAnswer, Changes, Deletions, Health, MatchQuery, Side, Written
from .django import (
    WATERMARK_MARGIN,
    DjangoSide,
    SideUnavailable,
    database_failed,
    record_pages,
    side_failure,
    side_unavailable,
)
from .memory import MemorySide


def side_for(model, *, key, filter_spec=None):
    """The side that serves ``model``'s rows for the engine (today every model is in this process: `DjangoSide`;
    a model served by another system gets its side here)."""
    return DjangoSide(model, key=key, filter_spec=filter_spec)


__all__ = [
    "WATERMARK_MARGIN",
    "CannotAnswer",
    "Changes",
    "Deletions",
    "DjangoSide",
    "Health",
    "MatchQuery",
    "MemorySide",
    "Side",
    "SideUnavailable",
    "Written",
    "database_failed",
    "record_pages",
    "side_failure",
    "side_for",
    "side_unavailable",
]
