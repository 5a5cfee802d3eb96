"""Django's PostgreSQL backend, reading date-times with psycopg's C loader.

Django registers a loader of its own for ``timestamptz`` (to give each value its connection's time zone), a Python
subclass of psycopg's Python loader: every date-time read costs a regular expression in Python, about 3 µs, where
psycopg's C loader takes a tenth of that. With the connection in UTC, as Django sets it with ``USE_TZ`` and no
database ``TIME_ZONE``, the C loader already gives each value Django's time zone (``datetime.timezone.utc``), so this
backend registers it instead. Anywhere else (another time zone, psycopg without its C implementation), Django's own.
"""

import datetime

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base
from psycopg.adapt import AdaptersMap, Loader

try:
    from psycopg_binary._psycopg import TimestamptzLoader as _CTimestamptzLoader
except ImportError:  # psycopg's C implementation is psycopg_c, or none
    try:
        from psycopg_c._psycopg import TimestamptzLoader as _CTimestamptzLoader
    except ImportError:
        _CTimestamptzLoader = None


class UtcTimestamptzLoader(Loader):
    """psycopg's C ``timestamptz`` loader, with the ``timezone`` Django's cursors look for on the loader they find
    (`DatabaseWrapper.create_cursor` registers its own when the two differ)."""

    timezone = datetime.UTC

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        self.load = _CTimestamptzLoader(oid, context).load  # the C method, called per value with no Python between

    def load(self, data):  # the instance's (C) load above stands in front of this one
        raise NotImplementedError


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        if self.c_timestamps():
            context = AdaptersMap(params["context"])  # a copy: Django's template is shared (cached)
            context.register_loader("timestamptz", UtcTimestamptzLoader)
            params["context"] = context
        return params

    def c_timestamps(self):
        """Whether date-times are read by the C loader: available, and the connection's time zone is UTC."""
        return (_CTimestamptzLoader is not None and psycopg.pq.__impl__ in ("c", "binary") and settings.USE_TZ
                and self.timezone_name == "UTC" and self.timezone == datetime.UTC)
