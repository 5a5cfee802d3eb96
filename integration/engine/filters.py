"""Mapping filters (JSON objects of field lookups): they are a side's business, checked against its model, and live
with the sides (`sides.filters`); kept importable here for the code and the admin that validate them."""

from .sides.filters import LOOKUPS, TEXT_LOOKUPS, filter_unindexed_on_sqlite, filter_validate

__all__ = ["LOOKUPS", "TEXT_LOOKUPS", "filter_unindexed_on_sqlite", "filter_validate"]
