"""The order of GUIDs in Dataverse: SQL Server's order of ``uniqueidentifier``, which ``gt``, ``ge``, ``lt`` and ``le``
in ``$filter`` follow.

It is not the order of the GUID as written, which Python's `uuid.UUID` and PostgreSQL follow. SQL Server compares the
16 bytes .NET's ``Guid.ToByteArray`` gives (`uuid.UUID.bytes_le`: the first three groups little-endian), bytes 10 to
15 first, then 8-9, 6-7, 4-5 and 0-3: the last group of the written GUID decides first, and the first group last, read
from its end. So ``00000000-0000-0000-0000-000000000001`` is greater than ``ffffffff-0000-0000-0000-000000000000``.

A client that splits keys into ranges for Dataverse's comparisons sorts them with `guid_order`; p2c's own Web API
compares in the same order (`guid_order_expression`), as the Dataverse it stands for does.
"""

import uuid

from django.db.models import CharField, Func, Value
from django.db.models.functions import Cast, Replace, Substr

# The bytes of the GUID as written (`uuid.UUID.bytes`), most significant first in SQL Server's order.
SQL_SERVER_BYTES = (10, 11, 12, 13, 14, 15, 8, 9, 7, 6, 5, 4, 3, 2, 1, 0)


def guid_order(value):
    """A sort key of a GUID (a `uuid.UUID` or its text) in SQL Server's order: keys compare as their GUIDs do there."""
    written = (value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))).bytes
    return bytes(written[i] for i in SQL_SERVER_BYTES)


def guid_order_expression(expression):
    """A database expression of a UUID column giving ``guid_order(value).hex()``: its hexadecimal digits (32 on
    SQLite, which stores them so; PostgreSQL's text of a uuid has hyphens, taken out) rearranged byte by byte."""
    digits = Replace(Cast(expression, CharField()), Value("-"), Value(""))
    return _Joined(*(Substr(digits, 2 * i + 1, 2) for i in SQL_SERVER_BYTES))


class _Joined(Func):
    """Texts joined with ``||`` (PostgreSQL and SQLite): NULL when the GUID is, which compares as nothing does
    (Django's Concat would make it '', less than every GUID)."""

    template = "(%(expressions)s)"
    arg_joiner = " || "
    output_field = CharField()
