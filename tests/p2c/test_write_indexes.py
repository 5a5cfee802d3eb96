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
        assert sum(f"({field})" in definition for definition in definitions.values()) == 1, field


def test_only_blocked_customers_and_skipped_couplings_are_indexed_by_that_flag():
    assert "WHERE (NOT ((blocked)::text = ''::text))" in index_definitions(Customer)["erp_customer_blocked"]
    assert "WHERE skipped" in index_definitions(Coupling)["integration_coupling_skipped"]


def test_a_sales_records_couplings_are_found_by_an_index_whatever_the_erp_table():
    definitions = index_definitions(Coupling).values()
    assert [d for d in definitions if "(crm_model, crm_id" in d] == [
        d for d in definitions if "UNIQUE" in d and "(crm_model, crm_id, erp_model)" in d
    ]
    assert any("(crm_model, crm_id" in d for d in definitions)
