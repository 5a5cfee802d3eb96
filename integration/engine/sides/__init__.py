"""The sides of a mapping, as the engine reaches them (see `base.Side`): `DjangoSide` for a model of this project
(Sales or the ERP, in one database or two), `MemorySide` for tests. A side reached over HTTP implements the same
`Side` and runs the contract-test kit (tests/contract/): `DataverseSide`, Sales over the Dataverse Web API, which
`side_for` gives for the Sales models when Sales is configured remote."""

import threading

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

_transports = {}  # SalesApiConfig → its Transport: one per process, so that its limits and token are shared
_transports_lock = threading.Lock()


def sales_transport(config):
    """The process's `Transport` to the Sales Web API of ``config``."""
    from .dataverse_http import Transport

    with _transports_lock:
        transport = _transports.get(config)
        if transport is None:
            transport = _transports[config] = Transport(config)
        return transport


def side_for(model, *, key, filter_spec=None):
    """The side that serves ``model``'s rows for the engine: a Sales model over the Dataverse Web API when Sales is
    configured remote (``SALES_API_URL``, dataverse_http.configured: `DataverseSide`), else a model of this process
    (`DjangoSide`)."""
    if model._meta.app_label == "crm":
        from .dataverse_http import configured

        config = configured()
        if config is not None:
            from .dataverse import DataverseSide

            return DataverseSide(model, sales_transport(config), key=key, filter_spec=filter_spec)
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
    "sales_transport",
    "side_failure",
    "side_for",
    "side_unavailable",
]
