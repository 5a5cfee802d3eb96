"""Model fields p2c's own models share."""

from django.db import models


class JSONTextField(models.JSONField):
    """Django's JSONField, kept on PostgreSQL as ``json`` (the text as written, checked) rather than ``jsonb`` (parsed
    into a binary form on every write): for values written with every row and read back whole, never searched in
    SQL. A coupling's synchronised values were about a kilobyte a row then (less than half of it since,
    engine/conflicts.py): COPY of a first load's 100,000 couplings took 1.13 s as jsonb, 0.88 s as json (0.46 s
    without them). Elsewhere (SQLite: text either way) as Django's."""

    def db_type(self, connection):
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def from_db_value(self, value, expression, connection):
        if value is not None and not isinstance(value, str):  # psycopg decodes json (Django leaves jsonb as text)
            return value
        return super().from_db_value(value, expression, connection)
