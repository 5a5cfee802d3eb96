"""The planner's statistics during a large run (engine/sync.py), on PostgreSQL: a source just loaded in bulk is
analysed before it is read, and the coupling and destination tables as they grow, so that each chunk's reads keep
to their indexes (before, a 100,000-row first load read the source and the couplings whole for every chunk)."""

import pytest
from django.db import connections

from crm.models import Account
from erp.models import Customer
from integration.engine.sync import ANALYZE_AFTER, ANALYZE_GROWTH, mapping_synchronize
from integration.models import Coupling
from p2c.databases import database_for
from p2c.utils import STALE_ROWS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def estimated_rows(model):
    with connections[database_for(model)].cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [model._meta.db_table])
        return cursor.fetchone()[0]


def test_a_first_load_refreshes_the_statistics_of_its_source_before_reading_and_of_its_tables_as_they_grow(
        customer_mapping, salesperson_pair, settings, without_autovacuum):
    settings.P2C_SYNC_CHUNK_SIZE = 500
    _, owner = salesperson_pair
    Account.objects.bulk_create([Account(name=f"Account {i}", customer_type_code="customer", owner=owner)
                                 for i in range(3000)])
    seen = []

    def progress(*, job, done, total):
        seen.append((job.inserted, estimated_rows(Account), estimated_rows(Coupling), Coupling.objects.count()))

    [job] = mapping_synchronize(mapping=customer_mapping, direction="from_integration", progress=progress)

    assert (job.status, job.inserted) == ("success", 3000)
    assert seen[0][1] == 3000  # the accounts, known before the first chunk was read
    # From the 1,000th row on, the planner has statistics of the coupling table, never further behind it than the
    # refresh rule allows (the table doubled since, and STALE_ROWS, plus the chunk just written); a few ANALYZEs, not
    # one per chunk.
    late = [(estimated, couplings) for inserted, _, estimated, couplings in seen if inserted >= ANALYZE_AFTER]
    assert len(late) == 5
    assert all(estimated >= ANALYZE_AFTER for estimated, _ in late)
    assert all(0 <= couplings - estimated <= STALE_ROWS + ANALYZE_GROWTH * estimated + 500
               for estimated, couplings in late)
    assert 1 < len({estimated for estimated, _ in late}) < len(late)
    # The customers likewise, by the end. (The writer's own counts, reported a second or so late, may land after an
    # ANALYZE and count as written since: a table then analysed a chunk early is left a little further behind.)
    customers = estimated_rows(Customer)
    assert customers >= ANALYZE_AFTER
    assert 0 <= 3000 - customers <= STALE_ROWS + ANALYZE_GROWTH * customers
