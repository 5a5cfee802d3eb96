"""Mapping filters (JSON objects of field lookups): what a mapping may name, checked against its model
(integration.catalogue.filters); kept importable here for the engine's modules that apply them."""

from integration.catalogue.filters import LOOKUPS, TEXT_LOOKUPS, filter_unindexed_on_sqlite, filter_validate

__all__ = ["LOOKUPS", "TEXT_LOOKUPS", "filter_unindexed_on_sqlite", "filter_validate"]
