"""Reads: ``$select``, ``$filter`` (odata-query, into Django ``Q``), ``$orderby``, ``$top``, ``$count``,
``$expand`` of single-valued lookups, pages of ``Prefer: odata.maxpagesize`` rows and change tracking.

Pages follow the primary key (keyset: time-ordered UUIDs, so the 100,000th row costs what the first did) unless
``$orderby`` asks for another order (then an offset). A delta token is the time of the read that gave it: the delta
read returns the rows modified after it (keyset on modified-on and key), then the deletion log's entries after it.
"""

import datetime
import re
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import F, Q, UUIDField, Value
from django.db.models import lookups as dj_lookups
from django.utils import timezone
from django.utils.translation import gettext
from odata_query import ast as odata_ast
from odata_query import exceptions as odata_exceptions
from odata_query.django.django_q import AstToDjangoQVisitor
from odata_query.grammar import ODataLexer, ODataParser
from odata_query.visitor import iter_dataclass_fields

from crm.models import DeletedRecord
from p2c.databases import database_for
from p2c.text import shown, text_fault
from p2c.tokens import token_decode, token_encode, whole_number
from p2c.utils import any_of

from . import errors
from .entities import BY_SET
from .guids import guid_order, guid_order_expression

MAX_PAGE_SIZE = 5000
LOOKUP_TABLE = "Microsoft.Dynamics.CRM.lookuplogicalname"  # the annotation naming a lookup value's table


def setting(name, default):
    return getattr(settings, name, default)


# ---------------------------------------------------------------------------------------------- values and rows
def etag_of(modifiedon):
    return f'W/"{int(modifiedon.timestamp() * 1_000_000)}"'


class RowShape:
    """Which columns a read returns and how a database row becomes a Dataverse row.

    Values stay as the database driver gives them where the JSON encoder writes them as Dataverse does (text,
    numbers, GUIDs, dates and times: `calls.Answer`); only choices become their integers and decimals numbers."""

    def __init__(self, entity, select=None, annotate_lookups=False):
        self.entity = entity
        self.lookup_tables = []  # (annotation name, [(row index, target table)]), when annotate_lookups
        names = select or [entity.primary_id, *entity.columns, *entity.lookup_values]
        self.columns = []  # (logical name, index into the row or a tuple of them, converter or None)
        self.attnames = ["pk", "modifiedon"]
        for name in dict.fromkeys([entity.primary_id, *names]):
            if name == entity.primary_id:
                self.columns.append((name, 0, None))
            elif name in entity.columns:
                column = entity.columns[name]
                index = self._attname(column.field)
                convert = column.to_dataverse if column.choices else float if column.kind == "Decimal" else None
                if convert is float:
                    convert = _number
                self.columns.append((name, index, convert))
            elif name in entity.lookup_values:
                lookup = entity.lookup_values[name]
                indexes = tuple(self._attname(attname) for attname in lookup.attnames())
                self.columns.append((name, indexes[0] if len(indexes) == 1 else indexes, None))
                if annotate_lookups:
                    tables = [BY_SET[entity_set].logical_name for entity_set in lookup.targets]
                    self.lookup_tables.append((f"{name}@{LOOKUP_TABLE}", list(zip(indexes, tables, strict=True))))
            else:
                raise errors.unknown_property(name, entity)

    def _attname(self, attname):
        if attname == "modifiedon":
            return 1
        self.attnames.append(attname)
        return len(self.attnames) - 1

    def row(self, values):
        row = {"@odata.etag": etag_of(values[1])}
        for name, index, convert in self.columns:
            if index.__class__ is tuple:  # a lookup to several tables: its first key that is set
                value = next((values[i] for i in index if values[i] is not None), None)
            else:
                value = values[index]
            row[name] = value if convert is None else convert(value)
        for annotation, tables in self.lookup_tables:  # which table a lookup's value is a key of
            table = next((table for index, table in tables if values[index] is not None), None)
            if table is not None:
                row[annotation] = table
        return row

    def rows(self, queryset):
        return [self.row(values) for values in queryset.values_list(*self.attnames)]


def _number(value):
    return None if value is None else float(value)


# ----------------------------------------------------------------------------------------------------- $filter
class _FilterVisitor(AstToDjangoQVisitor):
    """odata-query's Django visitor, with Dataverse's logical names and integer choices."""

    def __init__(self, entity):
        super().__init__(entity.model)
        self.entity = entity

    def visit_Identifier(self, node):
        name = self.entity.orm_name(node.name)
        if name is None:
            raise errors.unknown_property(node.name, self.entity)
        return F(name)

    def visit_Attribute(self, node):
        raise errors.bad_request(gettext("Navigation in $filter is not supported: %(name)s.")
                                 % {"name": f"{node.owner}/{node.attr}"})

    def visit_Compare(self, node):
        column = isinstance(node.left, odata_ast.Identifier) and self.entity.columns.get(node.left.name)
        if column and column.choices and not isinstance(node.right, odata_ast.Null):
            node = odata_ast.Compare(node.comparator, node.left, self._choice(column, node.right))
        if (isinstance(node.comparator, ORDERING) and isinstance(node.left, odata_ast.Identifier)
                and isinstance(node.right, odata_ast.GUID) and _is_guid(self.entity, node.left.name)):
            # Greater or less as Dataverse (SQL Server) orders GUIDs, not as this database does (guids.py)
            return self.visit(node.comparator)(guid_order_expression(self.visit(node.left)),
                                               Value(guid_order(node.right.val).hex()))
        return super().visit_Compare(node)

    def _choice(self, column, node):
        if isinstance(node, odata_ast.List):
            return odata_ast.List([self._choice(column, item) for item in node.val])
        if not isinstance(node, odata_ast.Integer):
            raise errors.bad_request(gettext("The column %(name)s holds integers.") % {"name": column.name})
        try:
            return odata_ast.String(column.from_dataverse(int(node.val)))
        except ValueError:
            raise errors.bad_request(gettext("%(value)s is not a value of the column %(name)s.")
                                     % {"value": node.val, "name": column.name}) from None


ORDERING = (odata_ast.Lt, odata_ast.LtE, odata_ast.Gt, odata_ast.GtE)


def _is_guid(entity, name):
    """Whether the column ``name`` (a logical name) holds GUIDs: the primary id or a lookup's value."""
    orm = entity.orm_name(name)
    if orm is None:
        return False
    field = entity.model._meta.pk if orm == "pk" else entity.model._meta.get_field(orm)
    return isinstance(getattr(field, "target_field", field), UUIDField)


def _depth(node):
    """The nesting depth of an odata-query tree, walked without recursion."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        for _name, value in iter_dataclass_fields(current):
            children = value if isinstance(value, list) else [value]
            stack.extend((child, depth + 1) for child in children if isinstance(child, odata_ast._Node))
    return deepest


def _parentheses_depth(text):
    """How deep the parentheses of ``text`` nest, outside its quoted strings (they leave no node in the tree)."""
    deepest = depth = 0
    quoted = False
    for character in text:
        if character == "'":
            quoted = not quoted
        elif not quoted and character == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif not quoted and character == ")":
            depth -= 1
    return deepest


def parse_filter_tree(text):
    """The odata-query tree of ``$filter`` text, refused when longer or deeper than the settings allow."""
    max_length = setting("DATAVERSE_FILTER_MAX_LENGTH", 8000)
    if len(text) > max_length:
        raise errors.bad_request(gettext("$filter is longer than %(max)s characters.") % {"max": max_length})
    try:
        tree = ODataParser().parse(ODataLexer().tokenize(text))
    except (odata_exceptions.ODataException, RecursionError, ValueError, TypeError) as exc:
        raise errors.bad_request(gettext("The $filter %(text)s is not valid OData: %(error)s")
                                 % {"text": text, "error": exc}) from None
    max_depth = setting("DATAVERSE_FILTER_MAX_DEPTH", 40)
    if tree is None or _depth(tree) > max_depth or _parentheses_depth(text) > max_depth:
        raise errors.bad_request(gettext("$filter is empty or nested deeper than %(max)s levels.")
                                 % {"max": max_depth})
    return tree


# ``<name> in (<GUID>,…)`` or ``<name> eq <GUID>``: a client's read by key, the commonest filter there is
_KEYS_FILTER = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s+(?:in\s+\(\s*([0-9A-Fa-f-]{36}(?:\s*,\s*[0-9A-Fa-f-]{36})*)"
                          r"\s*\)|eq\s+([0-9A-Fa-f-]{36}))\s*")


def _keys_q(entity, text):
    """The condition of a read by the primary key (`_KEYS_FILTER`) as one array of keys (`p2c.utils.any_of`), without
    the parser and an expression per key (most of the cost of a read of a hundred rows by key); None for any other
    filter, or a GUID that is not one (the parser then says why)."""
    match = _KEYS_FILTER.fullmatch(text)
    if match is None or match.group(1) != entity.primary_id:
        return None
    try:
        keys = [uuid.UUID(key) for key in re.split(r"\s*,\s*", match.group(2) or match.group(3))]
    except ValueError:
        return None
    return any_of("pk", keys)


def filter_q(entity, text):
    max_length = setting("DATAVERSE_FILTER_MAX_LENGTH", 8000)
    keys = _keys_q(entity, text) if len(text) <= max_length else None
    if keys is not None:
        return keys
    tree = parse_filter_tree(text)
    try:
        q = _FilterVisitor(entity).visit(tree)
    except errors.DataverseError:
        raise
    except (odata_exceptions.ODataException, RecursionError, ValueError, TypeError, AttributeError) as exc:
        raise errors.bad_request(gettext("The $filter %(text)s is not valid OData: %(error)s")
                                 % {"text": text, "error": exc}) from None
    if not isinstance(q, Q | dj_lookups.Lookup):
        raise errors.bad_request(gettext("The $filter %(text)s is not a condition.") % {"text": text})
    return q


# ---------------------------------------------------------------------------------------- the other options
def parse_select(entity, text):
    if not text:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    for name in names:
        if name != entity.primary_id and name not in entity.columns and name not in entity.lookup_values:
            raise errors.unknown_property(name, entity)
    return names


def parse_orderby(entity, text):
    order = []
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        name, _, direction = part.partition(" ")
        direction = direction.strip().lower() or "asc"
        orm = entity.orm_name(name)
        if orm is None:
            raise errors.unknown_property(name, entity)
        if direction not in ("asc", "desc"):
            raise errors.bad_request(gettext("$orderby takes asc or desc, not %(direction)s.")
                                     % {"direction": direction})
        # GUIDs in Dataverse's order, as its comparisons take them (guids.py)
        expression = guid_order_expression(F(orm)) if _is_guid(entity, name) else F(orm)
        order.append(expression.desc(nulls_last=True) if direction == "desc" else expression.asc(nulls_first=True))
    return order


def parse_top(text):
    """``$top``: a whole number from 0 to MAX_OFFSET (past any table; more digits than Python reads would be a 500)."""
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()):
        raise errors.bad_request(gettext("$top takes a whole number, not %(text)s.") % {"text": text[:100]})
    if len(text) > len(str(MAX_OFFSET)) or int(text) > MAX_OFFSET:
        raise errors.bad_request(gettext("$top takes a whole number up to %(maximum)s.") % {"maximum": MAX_OFFSET})
    return int(text)


_EXPAND = re.compile(r"\s*([A-Za-z0-9_]+)\s*(?:\(\s*\$select\s*=\s*([A-Za-z0-9_, ]*)\))?\s*(?:,|$)")


def parse_expand(entity, text):
    """``$expand=primarycontactid($select=fullname),ownerid``: [(Lookup, target Entity, its RowShape)]."""
    if not text:
        return []
    expands, position = [], 0
    while position < len(text):
        match = _EXPAND.match(text, position)
        if not match or match.end() == position:
            raise errors.bad_request(gettext("$expand %(text)s is not supported.") % {"text": text})
        position = match.end()
        lookup = entity.lookups.get(match.group(1))
        if lookup is None:
            raise errors.unknown_property(match.group(1), entity)
        if len(lookup.targets) != 1:
            raise errors.bad_request(gettext("$expand of %(name)s, a lookup to several tables, is not supported.")
                                     % {"name": lookup.name})
        target = BY_SET[next(iter(lookup.targets))]
        expands.append((lookup, target, RowShape(target, parse_select(target, match.group(2)))))
    return expands


def _with_expanded(select, expands):
    """``$select`` with the ``_x_value`` of each expanded lookup (its rows are found by it)."""
    if select is None:
        return None
    return [*select, *(lookup.value_name for lookup, _target, _shape in expands)]


def expand_rows(entity, rows, expands):
    for lookup, target, shape in expands:
        value_name = lookup.value_name
        ids = {row[value_name] for row in rows if row.get(value_name)}
        related = {r[target.primary_id]: r for r in shape.rows(target.model.objects.filter(pk__in=ids))}
        for row in rows:
            row[lookup.name] = related.get(row.get(value_name))


# --------------------------------------------------------------------------------------------------- tokens
# A skip token is checked whole before any part of it is used (docs/decisions.md#bounded-and-total-doors): exactly what
# `encode_token` wrote (p2c.tokens), holding exactly the keys of one kind of page, each of its type and in its range.
# Anything else, whatever it holds (a lone surrogate, a NUL, another alphabet, a text too long, a key of another table),
# is a 400 in Dataverse's shape, never a 500 and never a page read from the wrong place.
MAX_MICROS = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z: the last moment a datetime holds
MAX_OFFSET = 2**53  # past any table; an offset the databases' 64-bit integers hold with the page added
KEY_PAGE_TOKEN, OFFSET_PAGE_TOKEN = {"k", "r", "t"}, {"o", "r", "t"}  # a read without $orderby / with one
DELTA_TOKENS = ({"u", "m", "k"}, {"u", "phase"}, {"u", "phase", "d"})  # changed rows / deleted ones


def encode_token(data):
    return token_encode(data)


def _token_value_ok(name, value, entity):
    if name in ("t", "u", "m"):
        return whole_number(value, maximum=MAX_MICROS)
    if name == "o":
        return whole_number(value, minimum=1, maximum=MAX_OFFSET)
    if name == "r":
        return value is None or whole_number(value, minimum=1, maximum=MAX_OFFSET)
    if name == "d":
        return whole_number(value, minimum=1)
    if name == "phase":
        return value == "deleted"
    if name == "k":
        if not isinstance(value, str) or text_fault(value):
            return False
        try:
            entity.model._meta.pk.to_python(value)
        except (ValidationError, TypeError, ValueError):
            return False
        return True
    return False


def decode_token(text, what, *, entity, kinds):
    """The data of the skip token ``text`` when this service gave it for a page of ``entity`` of one of ``kinds``
    (sets of the keys such a token holds); else a 400 naming ``what``."""
    data = token_decode(text)
    if data is None or set(data) not in kinds or not all(
            _token_value_ok(name, value, entity) for name, value in data.items()):
        raise errors.bad_request(gettext("The %(what)s is not one this service gave.") % {"what": what})
    return data


def _micros(moment):
    return int(moment.timestamp() * 1_000_000)


def _moment(micros):
    return datetime.datetime.fromtimestamp(micros / 1_000_000, tz=datetime.UTC)


LATE_COMMIT_MARGIN = datetime.timedelta(minutes=10)


def settled_now(model):
    """The time a delta token may stand for: now, or on PostgreSQL the start of the oldest transaction still running
    in the database (at most ten minutes back). A row is stamped after its transaction began, so a change not yet
    committed always lies after the token and comes in the next delta read; one committed meanwhile may come twice,
    never not at all. (On SQLite, whose readers do not see who is writing, a change stamped just before the token
    and committed just after it is missed: a reader that must be exact there reads in full now and then.)"""
    now = timezone.now()
    connection = connections[database_for(model)]
    if connection.vendor != "postgresql":
        return now
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(xact_start) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
        )
        oldest = cursor.fetchone()[0]
    if oldest is None:
        return now
    return max(min(now, oldest), now - LATE_COMMIT_MARGIN)


def delta_token_since(text):
    """The time a delta token stands for; Dataverse's ExpiredVersionStamp past the retention."""
    # Checked whole: the digits of a time this service can have given (never a sign, a space, "_" or other
    # scripts' digits, which int() would take), at most as long as the last moment a datetime holds.
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_MICROS)) and int(text) <= MAX_MICROS):
        raise errors.bad_request(gettext("The delta token %(token)s is not one this service gave.")
                                 % {"token": shown(text[:40])})
    since = _moment(int(text))
    retention = datetime.timedelta(days=setting("DATAVERSE_CHANGE_TRACKING_RETENTION_DAYS", 7))
    if since < timezone.now() - retention or since < DeletedRecord.kept_since():
        raise errors.DataverseError(
            400, errors.EXPIRED_VERSION_STAMP,
            gettext("Version stamp associated with the client has expired. Please perform a full sync."),
        )
    return since


# ----------------------------------------------------------------------------------------------- collections
class Page:
    def __init__(self, rows, next_token=None, delta_token=None, count=None):
        self.rows = rows
        self.next_token = next_token
        self.delta_token = delta_token
        self.count = count


def read_collection(entity, params, page_size, track_changes, annotate_lookups=False):
    """One page of an entity set's rows for the query options ``params`` (a dict of the query string)."""
    unknown = [name for name in params if name.startswith("$") and name not in KNOWN_OPTIONS]
    if unknown:
        raise errors.bad_request(gettext("The query option %(name)s is not supported.") % {"name": unknown[0]})
    if track_changes:  # as Dataverse: a delta link answers for the whole table
        for option in ("$filter", "$orderby", "$top", "$expand"):
            if option in params:
                raise errors.bad_request(gettext("%(option)s is not supported with change tracking.")
                                         % {"option": option})
    if "$deltatoken" in params:
        shape = RowShape(entity, parse_select(entity, params.get("$select")), annotate_lookups)
        return _read_delta(entity, params, shape, page_size)
    expands = parse_expand(entity, params.get("$expand"))
    shape = RowShape(entity, _with_expanded(parse_select(entity, params.get("$select")), expands), annotate_lookups)
    order = parse_orderby(entity, params.get("$orderby"))
    # a token of an ordered read is taken with its $orderby only, a token of a read by key without one
    skip = decode_token(params["$skiptoken"], gettext("paging token"), entity=entity,
                        kinds=[OFFSET_PAGE_TOKEN if order else KEY_PAGE_TOKEN]) if params.get("$skiptoken") else {}
    queryset = entity.model.objects.using(database_for(entity.model)).all()
    if params.get("$filter"):
        queryset = queryset.filter(filter_q(entity, params["$filter"]))
    top = parse_top(params.get("$top"))
    count = queryset.count() if params.get("$count") == "true" else None
    remaining = skip.get("r", top)
    size = page_size if remaining is None else min(page_size, remaining)
    if order:
        offset = skip.get("o", 0)
        values = list(queryset.order_by(*order, "pk").values_list(*shape.attnames)[offset:offset + size + 1])
        following = {"o": offset + size}
    else:
        if "k" in skip:
            queryset = queryset.filter(pk__gt=skip["k"])
        values = list(queryset.order_by("pk").values_list(*shape.attnames)[:size + 1])
        following = {"k": str(values[size - 1][0])} if len(values) > size else {}
    more = len(values) > size and (remaining is None or remaining > size)
    rows = [shape.row(v) for v in values[:size]]
    expand_rows(entity, rows, expands)
    # the time a delta token stands for, asked only when a token is given (a read by key gives none)
    started = skip.get("t") or (_micros(settled_now(entity.model)) if more or track_changes else None)
    page = Page(rows, count=count)
    if more:
        page.next_token = encode_token({**following, "r": None if remaining is None else remaining - size,
                                        "t": started})
    elif track_changes:
        page.delta_token = str(started)
    return page


KNOWN_OPTIONS = {"$select", "$filter", "$orderby", "$top", "$count", "$expand", "$skiptoken", "$deltatoken"}


def _read_delta(entity, params, shape, page_size):
    """The rows changed and deleted since the delta token, in pages; the last page gives the next delta token."""
    since = delta_token_since(params["$deltatoken"])
    skip = decode_token(params["$skiptoken"], gettext("paging token"), entity=entity,
                        kinds=DELTA_TOKENS) if params.get("$skiptoken") else {}
    until = _moment(skip["u"]) if "u" in skip else settled_now(entity.model)
    rows = []
    if skip.get("phase", "changed") == "changed":
        queryset = entity.model.objects.using(database_for(entity.model)).filter(
            modifiedon__gt=since, modifiedon__lte=until)
        if "m" in skip:
            after = _moment(skip["m"])
            queryset = queryset.filter(Q(modifiedon__gt=after) | Q(modifiedon=after, pk__gt=skip["k"]))
        values = list(queryset.order_by("modifiedon", "pk").values_list(*shape.attnames)[:page_size + 1])
        rows = [shape.row(v) for v in values[:page_size]]
        if len(values) > page_size:
            last = values[page_size - 1]
            return Page(rows, next_token=encode_token({"u": _micros(until), "m": _micros(last[1]),
                                                       "k": str(last[0])}))
        skip = {}
    room = page_size - len(rows)
    deleted = DeletedRecord.objects.using(database_for(DeletedRecord)).filter(
        model=entity.model._meta.label, deleted_on__gt=since, deleted_on__lte=until)
    if "d" in skip:
        deleted = deleted.filter(pk__gt=skip["d"])
    entries = list(deleted.order_by("pk").values_list("pk", "record_id")[:room + 1])
    for _pk, record_id in entries[:room]:
        rows.append({"@odata.context": f"{{base}}$metadata#{entity.entity_set}/$deletedEntity",
                     "id": str(record_id), "reason": "deleted"})
    if len(entries) > room:
        following = {"u": _micros(until), "phase": "deleted"}
        last = entries[room - 1][0] if room else skip.get("d")
        if last is not None:
            following["d"] = last
        return Page(rows, next_token=encode_token(following))
    return Page(rows, delta_token=str(_micros(until)))


# --------------------------------------------------------------------------------------------------- one row
def read_row(entity, instance_filter, params, annotate_lookups=False):
    expands = parse_expand(entity, params.get("$expand"))
    shape = RowShape(entity, _with_expanded(parse_select(entity, params.get("$select")), expands), annotate_lookups)
    values = entity.model.objects.using(database_for(entity.model)).filter(instance_filter) \
        .values_list(*shape.attnames).first()
    if values is None:
        return None
    row = shape.row(values)
    expand_rows(entity, [row], expands)
    return row
