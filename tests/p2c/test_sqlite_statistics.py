"""SQLite's planner statistics (p2c.utils.planner_statistics_refresh): without them SQLite read a chunk's couplings
and a page of accounts through indexes that made every chunk read the whole table; with them, the plans stay
proportional to the chunk."""

import uuid

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from crm.models import Account
from integration.defaults import integration_setup_reset
from integration.engine.filters import filter_unindexed_on_sqlite
from integration.engine.plan import plan_build
from integration.engine.reading import iterate_chunks, source_querysets
from integration.models import Coupling, IntegrationTableMapping
from p2c.utils import any_of, planner_statistics_refresh

# SQLite's planner; PostgreSQL's has tests/p2c/test_planner_statistics.py
pytestmark = [pytest.mark.sqlite_only, pytest.mark.django_db]

N = 3000


def plan(queryset):
    return sql_plan(*queryset.query.sql_with_params())


def sql_plan(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " | ".join(row[-1] for row in cursor.fetchall())


def chunk_couplings(ids):
    """The query `ChunkRun._read_and_decide` reads a chunk's couplings with (Sales → ERP)."""
    return Coupling.objects.filter(any_of("crm_id", ids), erp_model="erp.Customer", crm_model="crm.Account")


def accounts_page(last):
    """The query of one page of `iterate_chunks` over the CUSTOMER mapping's accounts: the mapping's filter kept from
    the planner (with statistics from a sample, as when this was measured, it still took an account's state for
    selective: 50,000 accounts were read and sorted for each page), so that the page walks the key."""
    mapping_filter = filter_unindexed_on_sqlite(Account, Q(state_code="active", customer_type_code="customer"))
    return Account.objects.filter(mapping_filter, pk__gt=last).order_by("pk")[:100]


def test_a_chunk_reads_its_own_couplings_and_a_page_reads_its_own_rows_once_the_tables_are_analysed():
    Account.objects.bulk_create([Account(name=f"Account {i}", customer_type_code="customer") for i in range(N)])
    ids = [uuid.uuid4() for _ in range(N)]
    Coupling.objects.bulk_create([Coupling(erp_model="erp.Customer", crm_model="crm.Account", erp_id=i, crm_id=pk)
                                  for i, pk in enumerate(ids)])
    last = Account.objects.order_by("pk").values_list("pk", flat=True)[N // 2]

    assert planner_statistics_refresh(Account, Coupling) == [Account, Coupling]

    # (a chunk a tenth of the table, as 1,000 rows of 10,000 are; the planner weighs the table's size)
    assert "crm_id" in plan(chunk_couplings(ids[:100])), plan(chunk_couplings(ids[:100]))
    assert "TEMP B-TREE" not in plan(accounts_page(last)), plan(accounts_page(last))
    assert "sqlite_autoindex_crm_account_1 (id>?)" in plan(accounts_page(last)), plan(accounts_page(last))
    assert len(next(iterate_chunks(Account.objects.filter(state_code="active"), 1000))) == 1000


def test_statistics_are_refreshed_when_a_table_grew_past_the_rule_and_not_before():
    Account.objects.bulk_create([Account(name=f"Account {i}") for i in range(2000)])
    assert planner_statistics_refresh(Account) == [Account]  # never analysed
    assert planner_statistics_refresh(Account) == []

    Account.objects.bulk_create([Account(name=f"More {i}") for i in range(100)])
    assert planner_statistics_refresh(Account) == []  # 100 more of 2,000: not yet

    Account.objects.bulk_create([Account(name=f"Many {i}") for i in range(1000)])
    assert planner_statistics_refresh(Account) == [Account]  # 1,100 more: over STALE_ROWS and a tenth


def test_the_couplings_of_a_chunk_are_read_by_their_keys_in_a_table_of_many_pairs_rows():
    """Sampled, SQLite's statistics took a pair's couplings for as many as the sample (1,000), and past a few
    thousand read every coupling of the pair for each chunk; analysed whole, it probes the chunk's keys."""
    ids = [uuid.uuid4() for _ in range(30_000)]
    Coupling.objects.bulk_create([Coupling(erp_model="erp.Customer", crm_model="crm.Account", erp_id=i, crm_id=pk)
                                  for i, pk in enumerate(ids)], batch_size=5000)

    assert planner_statistics_refresh(Coupling) == [Coupling]

    chunk = plan(chunk_couplings(ids[:1000]))
    assert "crm_id=?" in chunk, chunk


def test_a_page_of_source_rows_leaves_out_skipped_couplings_row_by_row_not_by_reading_the_pairs_couplings():
    integration_setup_reset()
    mapping = IntegrationTableMapping.objects.get(name="CUSTOMER")
    Account.objects.bulk_create([Account(name=f"Account {i}", customer_type_code="customer") for i in range(3000)])
    Coupling.objects.bulk_create([Coupling(erp_model="erp.Customer", crm_model="crm.Account", erp_id=i,
                                           crm_id=pk, skipped=i % 100 == 0)
                                  for i, pk in enumerate(Account.objects.values_list("pk", flat=True))])
    planner_statistics_refresh(Account, Coupling)

    [queryset], _, _ = source_querysets(plan_build(mapping=mapping, direction="from_integration", full=True))
    page = plan(queryset.order_by("pk")[:1000])

    assert "crm_model=? AND crm_id=?" in page and "LIST SUBQUERY" not in page, page
    assert queryset.count() == 3000 - 30


def test_rows_deleted_and_made_again_are_not_growth_and_do_not_analyse_the_table_at_every_run():
    """Rows deleted leave their rowids behind: a table whose rows were deleted and made again is as large as it was,
    and is not analysed again (a run analysed its couplings in full each time); one that grew past the rule is."""
    Account.objects.bulk_create([Account(name=f"Account {i}") for i in range(2000)])
    assert planner_statistics_refresh(Account) == [Account]

    first = Account.objects.order_by("name").values_list("pk", flat=True)[:1000]
    Account.objects.filter(pk__in=list(first)).delete()
    Account.objects.bulk_create([Account(name=f"Again {i}") for i in range(1000)])
    assert planner_statistics_refresh(Account) == []  # 2,000 rows, as when analysed
    assert planner_statistics_refresh(Account) == []

    Account.objects.bulk_create([Account(name=f"More {i}") for i in range(1000)])
    assert planner_statistics_refresh(Account) == [Account]  # 1,000 more: over STALE_ROWS and a tenth


def test_the_keys_of_changed_rows_are_found_through_the_modified_on_index_not_by_walking_the_table():
    """An incremental run asks the keys of the rows changed since its watermark first: in the model's order (an
    account's name) with a limit, SQLite walked the name index over every account; it takes the modified-on one."""
    integration_setup_reset()
    mapping = IntegrationTableMapping.objects.get(name="CUSTOMER")
    Account.objects.bulk_create([Account(name=f"Account {i}", customer_type_code="customer") for i in range(N)])
    accounts = list(Account.objects.values_list("pk", "modifiedon"))
    Coupling.objects.bulk_create([Coupling(erp_model="erp.Customer", crm_model="crm.Account", erp_id=i, crm_id=pk,
                                           last_synced_crm_modified=modified)
                                  for i, (pk, modified) in enumerate(accounts)])
    planner_statistics_refresh(Account, Coupling)
    mapping.crm_watermark = max(modified for _, modified in accounts)
    mapping.save(update_fields=["crm_watermark"])

    with CaptureQueriesContext(connection) as queries:
        source_querysets(plan_build(mapping=mapping, direction="from_integration"))

    [changed_keys] = [q["sql"] for q in queries if q["sql"].startswith('SELECT "crm_account"."id" AS "pk"')
                      and '"modifiedon" >' in q["sql"]]
    steps = sql_plan(changed_keys)
    assert "SEARCH crm_account USING INDEX" in steps and "modifiedon" in steps, steps
