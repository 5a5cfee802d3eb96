"""The indexes a synchronised row pays for on PostgreSQL: each one a query uses, none twice."""

import pytest
from django.db import connection

from erp.models import BankAccount, Contact, Customer, Vendor
from integration.models import Coupling

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def index_definitions(model):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [model._meta.db_table])
        return dict(cursor.fetchall())


@pytest.mark.parametrize("model", [Customer, Vendor, Contact, BankAccount])
def test_address_fields_have_one_index_each_and_no_pattern_copy(model):
    definitions = index_definitions(model)
    pattern_copies = sorted(name for name, definition in definitions.items() if "varchar_pattern_ops" in definition)
    # db_index on a CharField adds a varchar_pattern_ops copy; only the unique number and a contact's type keep one.
    assert all(name.startswith((f"{model._meta.db_table}_no_", "erp_contact_type_")) for name in pattern_copies)
    for field in ("name", "search_name", "email"):
        assert sum(f"USING btree ({field})" in definition for definition in definitions.values()) == 1, field
        # and at most one of its lower case, where a default mapping matches on it (test_match_indexes.py)
        assert sum(f"(lower(({field})::text))" in definition for definition in definitions.values()) <= 1, field


def test_only_blocked_customers_and_skipped_couplings_are_indexed_by_that_flag():
    assert "WHERE (NOT ((blocked)::text = ''::text))" in index_definitions(Customer)["erp_customer_blocked"]
    assert "WHERE skipped" in index_definitions(Coupling)["integration_coupling_skipped"]


def test_a_sales_records_couplings_are_found_by_an_index_whatever_the_erp_table():
    definitions = index_definitions(Coupling).values()
    assert [d for d in definitions if "(crm_model, crm_id" in d] == [
        d for d in definitions if "UNIQUE" in d and "(crm_model, crm_id, erp_model)" in d
    ]
    assert any("(crm_model, crm_id" in d for d in definitions)


LINKS = [(Customer, "erp_customer_", ["currency", "primary_contact", "salesperson", "payment_terms", "shipment_method",
                                      "shipping_agent", "customer_price_group"]),
         (Vendor, "erp_vendor_", ["currency"]),
         (Coupling, "integration_coupling_", ["last_erp_job", "last_crm_job"])]


@pytest.mark.parametrize("model, prefix, fields", LINKS, ids=lambda value: getattr(value, "__name__", None))
def test_a_row_without_a_link_is_left_out_of_that_links_index_which_still_finds_the_rows_that_have_it(
        model, prefix, fields):
    definitions = index_definitions(model)
    for field in fields:
        column = model._meta.get_field(field).column
        [definition] = [d for d in definitions.values() if f"({column})" in d]
        assert definition.endswith(f"WHERE ({column} IS NOT NULL)"), definition
        # A lookup by the link (a deletion's PROTECT or SET_NULL check, a filter) can use it
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN SELECT 1 FROM {model._meta.db_table} WHERE {column} IN (1, 2)")
            plan = " ".join(row[0] for row in cursor.fetchall())
        assert "Index" in plan and prefix in plan, plan
