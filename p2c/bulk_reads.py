"""Reading many rows as value tuples: what ``list(queryset.values_list(...))`` gives, converted column by column.

Django converts the rows it reads one value at a time (``SQLCompiler.apply_converters``: a list made of each row, a
call per converter and value, a tuple again); on SQLite, where UUIDs, date-times and booleans all come back as text
or integers, that is most of a read: 1.5 s of 2.1 s for 100,000 Sales accounts. `rows_read` applies the same
converters to a whole column at once, and SQLite's own for UUIDs, date-times and booleans as one loop each
(`_sqlite_column_converters`), which give the values Django's would.
"""

import uuid
from datetime import datetime
from functools import cache
from itertools import chain

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections, models
from django.db.models.query import ValuesListIterable
from django.db.models.sql.constants import MULTI

from p2c.utils import uuid_of_int


def rows_read(queryset):
    """``list(queryset)`` for a ``values_list`` queryset of plain columns (tuples, not flat, no annotation or extra
    select), converted column by column; any other queryset is read as Django reads it."""
    query = queryset.query
    if (queryset._iterable_class is not ValuesListIterable or query.extra_select or query.annotation_select
            or not query.values_select):
        return list(queryset)
    connection = connections[queryset.db]
    compiler = query.get_compiler(using=queryset.db)
    rows = list(chain.from_iterable(compiler.execute_sql(MULTI)))
    if not rows:
        return []
    converters = compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]])
    if not converters:
        return [tuple(row) for row in rows]
    columns = list(zip(*rows, strict=True))
    for position, (functions, expression) in converters.items():
        values = columns[position]
        for function in functions:
            values = _column_converted(function, values, expression, connection)
        columns[position] = values
    return list(zip(*columns, strict=True))


def _column_converted(function, values, expression, connection):
    # SQLite's backend is imported (for its converters) only where a connection uses it
    convert = connection.vendor == "sqlite" and _sqlite_column_converters().get(getattr(function, "__func__", None))
    if convert:
        converted = convert(values, connection)
        if converted is not None:
            return converted
    return [function(value, expression, connection) for value in values]


def _sqlite_uuids(values, connection):
    """SQLite's ``convert_uuidfield_value``: ``uuid.UUID(value)``, once per distinct value (a foreign key's column
    holds a few keys many times; UUIDs are immutable, so rows may share one)."""
    distinct = dict.fromkeys(values)
    if len(distinct) == len(values):
        return [None if value is None else uuid_of_hex(value) for value in values]
    made = {value: uuid_of_hex(value) for value in distinct if value is not None}
    return [made.get(value) for value in values]


def uuid_of_hex(value):
    """``uuid.UUID(value)``; for the 32 hexadecimal digits Django writes a UUID as in SQLite, made from their number
    without the constructor's handling of other forms (half of its time; a key is read for every row)."""
    if type(value) is str and len(value) == 32 and value.isalnum():
        try:
            return uuid_of_int(int(value, 16))
        except ValueError:  # not hexadecimal: the constructor's error
            pass
    return uuid.UUID(value)


def _sqlite_datetimes(values, connection):
    """SQLite's ``convert_datetimefield_value``: the text parsed (``parse_datetime``, which tries
    ``datetime.fromisoformat`` first) and, with USE_TZ, a naive value made aware in the connection's time zone
    (``make_aware``: ``replace(tzinfo=…)``). None, for Django's own converter, when a value is not ISO text."""
    parse, zone = datetime.fromisoformat, connection.timezone if settings.USE_TZ else None
    converted = []
    append = converted.append
    try:
        for value in values:
            if value is None:
                append(None)
                continue
            if type(value) is not datetime:
                value = parse(value)
            append(value if zone is None or value.tzinfo is not None else value.replace(tzinfo=zone))
    except (TypeError, ValueError):
        return None
    return converted


def _sqlite_booleans(values, connection):
    """SQLite's ``convert_booleanfield_value``: 1 and 0 as True and False, anything else as it is."""
    as_boolean = {0: False, 1: True}.get
    return [None if value is None else as_boolean(value, value) for value in values]


@cache
def _sqlite_column_converters():
    """SQLite's converters (its backend's operations) → the same conversion of a whole column."""
    from django.db.backends.sqlite3.operations import DatabaseOperations  # loaded with the backend, not before

    return {
        DatabaseOperations.convert_uuidfield_value: _sqlite_uuids,
        DatabaseOperations.convert_datetimefield_value: _sqlite_datetimes,
        DatabaseOperations.convert_booleanfield_value: _sqlite_booleans,
    }


# Fields whose values come back from text as they went in (``to_python`` of their text): what `pairs_read` carries
# (integers include the automatic keys).
_TEXT_SAFE = (models.CharField, models.TextField, models.IntegerField, models.UUIDField)


def pairs_read(querysets):
    """``[list(queryset) for queryset in querysets]`` for two-column ``values_list`` querysets (key → value lookups:
    a payment terms code and its id, a coupling's two ids), in one statement per database rather than a round trip
    each: their SELECTs named in a ``WITH`` and joined by ``UNION ALL``, every column as text, made again by its
    field's ``to_python``. A chunk of a synchronisation looks up five such tables: four round trips fewer a chunk,
    each a network's round trip where the database is on another machine. A queryset the union cannot carry (a
    slice, another shape, a column of another type) is read on its own; one that can match nothing (an empty
    ``__in``) gives ``[]`` without a query. The rows come in no particular order."""
    results = [None] * len(querysets)
    parts = {}  # database → [(position, compiled SQL, its parameters, the two fields)]
    for position, queryset in enumerate(querysets):
        part = _union_part(queryset)
        if part is None:
            results[position] = list(queryset)
        elif part == ():
            results[position] = []
        else:
            parts.setdefault(queryset.db, []).append((position, *part))
    for db, members in parts.items():
        if len(members) == 1:  # one query either way: Django's own
            results[members[0][0]] = list(querysets[members[0][0]])
            continue
        for position, rows in _union_read(connections[db], members).items():
            results[position] = rows
    return results


def _union_part(queryset):
    """(SQL, parameters, fields) of a two-column values_list queryset for `_union_read`; () when it matches nothing;
    None when the union cannot carry it."""
    query = queryset.query
    if (queryset._iterable_class is not ValuesListIterable or query.extra_select or query.annotation_select
            or len(query.values_select) != 2 or query.is_sliced or query.combinator or query.distinct):
        return None
    query = queryset.order_by().query  # an order means nothing in a union's member (and SQLite refuses one there)
    compiler = query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return ()
    fields = [select[0].output_field for select in compiler.select[:2]]
    if len(compiler.select) != 2 or not all(_text_safe(_target(f)) for f in fields):
        return None
    return sql, params, fields


def _target(field):
    return field.target_field if field.is_relation else field


def _text_safe(field):
    """Whether ``field``'s values come back from their text by ``to_python`` alone: one of `_TEXT_SAFE`'s kinds
    without a ``from_db_value`` of its own (Django would convert what such a field reads; the union would not)."""
    return isinstance(field, _TEXT_SAFE) and not hasattr(field, "from_db_value")


def _union_read(connection, members):
    """position → rows of ``members`` ((position, SQL, parameters, fields)), read in one statement."""
    qn = connection.ops.quote_name
    names = [qn(f"p2c_part{n}") for n in range(len(members))]
    with_ = ", ".join(f"{name}(c0, c1) AS ({sql})" for name, (_, sql, _, _) in zip(names, members, strict=True))
    union = " UNION ALL ".join(f"SELECT {n}, CAST(c0 AS TEXT), CAST(c1 AS TEXT) FROM {name}"
                               for n, name in enumerate(names))
    params = [param for _, _, member_params, _ in members for param in member_params]
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {with_} {union}", params)
        rows = cursor.fetchall()
    read = {position: [] for position, *_ in members}
    made = [(position, _target(fields[0]).to_python, _target(fields[1]).to_python)
            for position, _, _, fields in members]
    for n, first, second in rows:
        position, make_first, make_second = made[n]
        read[position].append((make_first(first), make_second(second)))
    return read
