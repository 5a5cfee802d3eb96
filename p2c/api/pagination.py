"""Pagination: page numbers for small tables, keyset cursors for the large ones.

A keyset cursor names the last row seen by its (ordering value, primary key), so the next page is one indexed
range scan (``WHERE (modified, pk) > (v, k) ORDER BY modified, pk LIMIT 101``) whatever page it is: paging
through 100,000 rows never gets slower, and rows written meanwhile are neither skipped nor repeated.
"""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.utils.translation import gettext, gettext_lazy
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.response import Response

from p2c.text import text_fault
from p2c.tokens import MAX_TOKEN_LENGTH, TOKEN_PATTERN, token_decode, token_encode

CURSOR_KEYS = {"v", "k", "b"}  # the ordering field's value, the primary key, backwards (0 or 1)


def _storable(text):
    """Whether a cursor's value is text that can be stored and looked up: no NUL, no lone surrogate (p2c.text)."""
    return isinstance(text, str) and not text_fault(text)


def positive_int_param(request, name, *, default, maximum=None):
    """The query parameter ``name`` as a whole number from 1 to ``maximum``; ``default`` when absent. Anything
    else is a 400 naming the parameter (the schema says integer: an empty or malformed value is not ignored)."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    value = int(raw) if raw.isascii() and raw.isdigit() else 0
    if value < 1 or (maximum is not None and value > maximum):
        upper = f" to {maximum:,}" if maximum is not None else " or more"
        raise ValidationError({name: [gettext("Give a whole number from 1%(upper)s.") % {"upper": upper}]})
    return value


def with_bounds(parameters, bounds):
    """The pagination's schema parameters with the bounds ``positive_int_param`` applies."""
    for parameter in parameters:
        if parameter["name"] in bounds:
            parameter["schema"] = {**parameter["schema"], **bounds[parameter["name"]]}
    return parameters


class PagePagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request):
        return positive_int_param(request, self.page_size_query_param, default=self.page_size,
                                  maximum=self.max_page_size)

    def get_page_number(self, request, paginator):
        return positive_int_param(request, self.page_query_param, default=1)

    def get_schema_operation_parameters(self, view):
        return with_bounds(super().get_schema_operation_parameters(view), {
            self.page_query_param: {"minimum": 1},
            self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size},
        })


class KeysetPagination(BasePagination):
    """Cursor pagination ordered by the record's modified timestamp then primary key (or by another non-null
    field the view allows in ``ordering_fields``, again with the primary key to break ties).
    """

    page_size = 100
    max_page_size = 1000
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    invalid_cursor_message = gettext_lazy("Invalid cursor.")

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size = self.get_page_size(request)
        model = queryset.model
        self.pk_name = model._meta.pk.name
        self.field_name, self.descending = self.get_ordering(request, queryset, view)
        self.field = model._meta.get_field(self.field_name)
        cursor = self.decode_cursor(request)
        backwards = bool(cursor and cursor["backwards"])

        # Going backwards reads the rows before the cursor in reverse order, then turns the page round.
        reverse = self.descending != backwards
        prefix = "-" if reverse else ""
        queryset = queryset.order_by(f"{prefix}{self.field_name}", f"{prefix}{self.pk_name}")
        if cursor:
            op = "lt" if reverse else "gt"
            value, pk = cursor["value"], cursor["pk"]
            # (f, pk) > (v, k), said so that the index on f serves it as one range scan: f >= v AND (f > v OR pk > k).
            queryset = queryset.filter(
                Q(**{f"{self.field_name}__{op}e": value})
                & (Q(**{f"{self.field_name}__{op}": value}) | Q(**{f"{self.pk_name}__{op}": pk}))
            )
        rows = list(queryset[: self.page_size + 1])
        has_more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if backwards:
            rows.reverse()
            self.has_next, self.has_previous = True, has_more
        else:
            self.has_next, self.has_previous = has_more, cursor is not None
        self.rows = rows
        self.cursor = cursor
        return rows

    def get_page_size(self, request):
        return positive_int_param(request, self.page_size_query_param, default=self.page_size,
                                  maximum=self.max_page_size)

    def get_ordering(self, request, queryset, view):
        """The first term of ``?ordering=`` when the view allows it and it is never null, else modified, pk."""
        model = queryset.model
        default = getattr(model, "MODIFIED_FIELD", None) or model._meta.pk.name
        param = request.query_params.get(OrderingFilter.ordering_param, "")
        terms = [t.strip() for t in param.split(",") if t.strip()]
        terms = OrderingFilter().remove_invalid_fields(queryset, terms, view, request)
        if terms and "__" not in terms[0]:
            try:
                field = model._meta.get_field(terms[0].lstrip("-"))
            except FieldDoesNotExist:
                field = None
            if field is not None and field.concrete and not field.null:
                return field.name, terms[0].startswith("-")
        return default, False

    # Cursors ---------------------------------------------------------------------------------------------
    def encode_cursor(self, row, *, backwards):
        payload = {
            "v": self.field.value_to_string(row),
            "k": row._meta.pk.value_to_string(row),
            "b": int(backwards),
        }
        return token_encode(payload)

    def decode_cursor(self, request):
        """The cursor of ``?cursor=``, checked whole before use: anything but exactly what this class encoded
        (p2c.tokens: its alphabet, its length, its keys, ``b`` 0 or 1), for a value the ordering field can hold as
        storable text (no NUL, no lone surrogate), is a 400 naming ``cursor``."""
        encoded = request.query_params.get(self.cursor_query_param)
        if not encoded:
            return None
        invalid = ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})
        payload = token_decode(encoded)
        if payload is None or set(payload) != CURSOR_KEYS or payload["b"] not in (0, 1) \
                or isinstance(payload["b"], bool) or not all(_storable(payload[name]) for name in ("v", "k")):
            raise invalid
        try:
            value = self.field.to_python(payload["v"])
            pk = self.field.model._meta.pk.to_python(payload["k"])
        except (ValueError, TypeError, OverflowError, DjangoValidationError) as exc:
            raise invalid from exc
        if value is None or pk is None:
            raise invalid
        return {"value": value, "pk": pk, "backwards": bool(payload["b"])}

    def link(self, cursor):
        url = self.request.build_absolute_uri()
        scheme, netloc, path, query, fragment = urlsplit(url)
        params = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != self.cursor_query_param]
        params.append((self.cursor_query_param, cursor))
        return urlunsplit((scheme, netloc, path, urlencode(params), fragment))

    def get_next_link(self):
        if not self.has_next:
            return None
        if self.rows:
            return self.link(self.encode_cursor(self.rows[-1], backwards=False))
        return None

    def get_previous_link(self):
        if not self.has_previous:
            return None
        if self.rows:
            return self.link(self.encode_cursor(self.rows[0], backwards=True))
        return None

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": gettext("The pagination cursor value (from a previous page's next or previous link)."),
                "schema": {"type": "string", "minLength": 1, "maxLength": MAX_TOKEN_LENGTH, "pattern": TOKEN_PATTERN},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": gettext("Number of results per page (default %(page_size)s, at most %(max_page_size)s).")
                % {"page_size": self.page_size, "max_page_size": self.max_page_size},
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]

