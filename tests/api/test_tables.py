"""Each Sales and ERP table's own viewset and filterset (crm/api, erp/api: one declared class of each per table),
table by table: its list answers with its records, each filter and ordering it offers works, its filters follow the
type rule (``p2c.api.filters.lookups_for``), and the schema names its operations and components as clients know
them."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import models
from django.urls import reverse

from p2c.api.filters import ApiFilterSet, RecordFilterSet, field_lookups
from p2c.api.pagination import KeysetPagination
from p2c.api.viewsets import BulkUpsertMixin
from tests.api.builders import make
from tests.api.routes import endpoint_id, registered_endpoints

# The tables: every endpoint with a filterset of a table (not the setup singletons, not the deletion logs).
TABLES = [e for e in registered_endpoints() if issubclass(getattr(e[2], "filterset_class", None) or object, ApiFilterSet)]
RECORD_ACTIONS = {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}

pytestmark = pytest.mark.django_db


def test_every_table_is_here():
    assert len(TABLES) == 41


def _query_value(value):
    """A field's value as a query string gives it (None: a value the test does not filter by)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, Decimal, uuid.UUID, datetime.date)) and not isinstance(value, datetime.datetime):
        return str(value) if value != "" else None
    return None


def _keys(response, lookup_field):
    assert response.status_code == 200, response.content[:300]
    return [str(row[lookup_field]) for row in response.data["results"]]


@pytest.mark.parametrize("endpoint", TABLES, ids=endpoint_id)
def test_the_list_filters_and_orders_the_table(endpoint, api):
    app, prefix, viewset = endpoint
    model = viewset.queryset.model
    record = make(model)
    key = str(getattr(record, viewset.lookup_field))
    url = f"/api/{app}/{prefix}/"
    assert key in _keys(api.get(url), viewset.lookup_field)
    for field in viewset.ordering_fields:
        model._meta.get_field(field)  # a name that is no field would be ignored, silently
        for ordering in (field, f"-{field}"):
            assert key in _keys(api.get(url, {"ordering": ordering}), viewset.lookup_field), ordering
    filterset = viewset.filterset_class
    filtered = 0
    for name, flt in filterset.base_filters.items():
        if flt.lookup_expr != "exact" or flt.method or "__" in flt.field_name:
            continue
        field = model._meta.get_field(flt.field_name)
        value = _query_value(getattr(record, field.attname))
        if value is None or field.is_relation:
            continue
        assert key in _keys(api.get(url, {name: value}), viewset.lookup_field), (name, value)
        filtered += 1
    assert filtered or not any(f.lookup_expr == "exact" and not f.method for f in filterset.base_filters.values())
    response = api.get(url, {"search": key[:8]} if viewset.search_fields else {})
    assert response.status_code == 200


@pytest.mark.parametrize("endpoint", TABLES, ids=endpoint_id)
def test_the_filters_follow_the_type_rule(endpoint):
    """The filterset is of the viewset's table; synchronised records (a modified timestamp) get the modified window
    and the coupled filter; every field the type rule gives a filter has it, and every other filter is an exact one
    on a text field named by hand."""
    _app, _prefix, viewset = endpoint
    model = viewset.queryset.model
    filterset = viewset.filterset_class
    assert filterset._meta.model is model
    assert issubclass(filterset, RecordFilterSet) == bool(getattr(model, "MODIFIED_FIELD", None))
    fields = filterset._meta.fields
    for field in model._meta.concrete_fields:
        by_rule = field_lookups(field)
        if by_rule:
            assert fields.get(field.name) == by_rule, field.name
        elif field.name in fields:
            assert isinstance(field, models.CharField) and fields[field.name] == ["exact"], field.name


def _operations(schema, path):
    return {method: op for method, op in schema["paths"][path].items() if method != "parameters"}


@pytest.mark.parametrize("endpoint", TABLES, ids=endpoint_id)
def test_the_schema_names_the_table_s_operations_and_components(endpoint, schema):
    """Operation ids ``<app>_<route>_<action>``, components named after the serializer (``CrmAccount``,
    ``PaginatedCrmAccountList``) and URL names ``<app>-<route>-list|detail``: what generated clients are built on."""
    app, prefix, viewset = endpoint
    base = f"{app}_{prefix.replace('-', '_')}"
    component = viewset.serializer_class.__name__.removesuffix("Serializer")
    list_path = reverse(f"{app}-{prefix}-list")
    assert list_path == f"/api/{app}/{prefix}/"
    detail_path = f"{list_path}{{{viewset.lookup_field}}}/"
    assert reverse(f"{app}-{prefix}-detail", kwargs={viewset.lookup_field: "K"}) == f"{list_path}K/"

    listed = _operations(schema, list_path)
    writable = hasattr(viewset, "create")
    assert {m: op["operationId"] for m, op in listed.items()} == (
        {"get": f"{base}_list", "post": f"{base}_create"} if writable else {"get": f"{base}_list"})
    answer = listed["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": f"#/components/schemas/Paginated{component}List"}
    paging = {"cursor"} if issubclass(viewset.pagination_class, KeysetPagination) else {"page"}
    parameters = {p["name"] for p in listed["get"]["parameters"]}
    assert parameters == {*viewset.filterset_class.base_filters, "search", "ordering", "page_size", *paging}

    detail = _operations(schema, detail_path)
    actions = RECORD_ACTIONS if writable else {"get": "retrieve"}
    assert {m: op["operationId"] for m, op in detail.items()} == {m: f"{base}_{a}" for m, a in actions.items()}
    answer = detail["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": f"#/components/schemas/{component}"}
    assert component in schema["components"]["schemas"]

    if issubclass(viewset, BulkUpsertMixin):
        bulk = _operations(schema, f"{list_path}bulk/")
        assert {m: op["operationId"] for m, op in bulk.items()} == {"post": f"{base}_bulk_create"}
        # described by @bulk_schema: a list of the table's records in, the summary out
        body = bulk["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"type": "array", "items": {"$ref": f"#/components/schemas/{component}"}}
        answer = bulk["post"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer == {"$ref": "#/components/schemas/BulkSummary"}
        assert bulk["post"]["summary"].endswith(f" records by {viewset.bulk_key_field}")
