"""Match-based coupling finds its candidates through an index (docs/decisions.md#write-paths): a chunk's ``LOWER(field)
IN (...)`` query reads the rows it looks for, not the whole destination table, so that coupling N records costs time in
proportion to N (tests/bench/test_match_bench.py measures it)."""

import pytest
from django.apps import apps
from django.db import connections
from django.db.models import F
from django.db.models.functions import Lower
from django.test.utils import CaptureQueriesContext

from crm.models import Account
from erp.models import Customer
from integration.catalogue.fields import TEXT, field_category
from integration.coupling.couplings import mapping_couple_by_match
from integration.defaults import default_definitions
from p2c.databases import database_for

ERP_READS = {"bidirectional": ("erp", "crm"), "to_integration": ("crm",), "from_integration": ("erp",)}


def _case_insensitive_match_fields():
    """(mapping, model, field name) of every text match field a default mapping looks up on its destination side."""
    found = []
    for definition in default_definitions():
        for default in definition.fields:
            if not default.match or default.constant:
                continue
            for destination in ERP_READS[definition.direction]:
                if destination not in ERP_READS[default.direction]:
                    continue
                model = apps.get_model(getattr(definition, destination))
                field = model._meta.get_field(default.erp if destination == "erp" else default.crm)
                if not field.is_relation and field_category(field) == TEXT:
                    found.append((definition.name, model, field.name))
    return found


@pytest.mark.parametrize("mapping, model, field", _case_insensitive_match_fields(),
                         ids=lambda value: value._meta.label if hasattr(value, "_meta") else value)
def test_every_text_match_field_of_a_default_mapping_has_an_index_of_its_lower_case(mapping, model, field):
    lowered = [index.name for index in model._meta.indexes if index.condition is None and len(index.expressions) == 1
               and isinstance(index.expressions[0], Lower)
               and index.expressions[0].get_source_expressions() == [F(field)]]
    assert lowered, f"{model._meta.label}.{field} ({mapping}): add models.Index(Lower({field!r}), name=...)"


@pytest.mark.django_db
@pytest.mark.parametrize("from_side, destination", [("crm", Customer), ("erp", Account)])
def test_the_match_query_of_a_chunk_reads_the_destination_through_its_lower_case_indexes(
        mappings, salesperson_pair, settings, from_side, destination):
    """Both sides of CUSTOMER. The accounts' query also filters on indexed columns (state, relationship type):
    SQLite, without statistics, would rather scan all active accounts by one of those for every chunk."""
    salesperson, user = salesperson_pair
    n = 2000  # far more rows than a chunk looks for: PostgreSQL reads a small table in one go, rightly
    Customer.objects.bulk_create(Customer(no=f"M{i:05d}", name=f"CUSTOMER {i}", email=f"C{i}@EXAMPLE.COM",
                                          salesperson=salesperson) for i in range(n))
    Account.objects.bulk_create(Account(name=f"customer {i}", emailaddress1=f"c{i}@example.com" if i % 2 else "",
                                        owner=user, customer_type_code="customer") for i in range(n))
    destination_db = connections[database_for(destination)]  # Sales may be in a database of its own
    for model in (Customer, Account):  # each table in its database (a whole-database ANALYZE also takes the
        database = connections[database_for(model)]  # shared catalogues, which the other database's then waits for)
        if database.vendor == "postgresql":
            with database.cursor() as cursor:
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    source = Customer if from_side == "erp" else Account
    only_ids = list(source.objects.order_by("pk").values_list("pk", flat=True)[:20])

    with CaptureQueriesContext(destination_db) as ctx:
        job = mapping_couple_by_match(mapping=mappings["CUSTOMER"], from_side=from_side, only_ids=only_ids,
                                      create_new=False)

    assert (job.coupled, job.failed) == (20, 0)
    table = destination._meta.db_table
    queries = [q["sql"] for q in ctx.captured_queries if "LOWER(" in q["sql"] and f'FROM "{table}"' in q["sql"]]
    assert len(queries) == 2  # by e-mail, then by name for those without one
    for sql in queries:
        plan = _plan(destination_db, sql)
        assert f"{table}_email_ci" in plan or f"{table}_name_ci" in plan, plan
        assert not any(line.startswith((f"SCAN {table}", f"Seq Scan on {table} ")) for line in plan.splitlines()), plan


def _plan(database, sql):
    with database.cursor() as cursor:
        if database.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            return "\n".join(row[-1] for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0].strip(" ->") for row in cursor.fetchall())
