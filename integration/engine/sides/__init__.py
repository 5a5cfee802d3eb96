"""The sides of a mapping, as the engine reaches them (see `base.Side`): `DjangoSide` for a model of this project
(Sales or the ERP, in one database or two), `MemorySide` for tests. A side reached over HTTP implements the same
`Side` and runs the contract-test kit (tests/contract/)."""

from .base import CannotAnswer, Changes, Deletions, Health, MatchQuery, Side, Written
from .django import DjangoSide
from .memory import MemorySide

__all__ = ["CannotAnswer", "Changes", "Deletions", "DjangoSide", "Health", "MatchQuery", "MemorySide", "Side",
           "Written"]
