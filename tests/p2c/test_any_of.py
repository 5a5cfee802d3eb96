"""p2c.utils.any_of: the rows ``__in`` finds, with one parameter (an array on PostgreSQL, JSON text on SQLite) whatever
the number of values."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integration.models import Coupling
from p2c.utils import any_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def couplings():
    crm_ids = [uuid.uuid4() for _ in range(5)]
    Coupling.objects.bulk_create(Coupling(erp_model="erp.Customer", crm_model="crm.Account", erp_id=i, crm_id=crm_id)
                                 for i, crm_id in enumerate(crm_ids))
    return crm_ids


@pytest.mark.parametrize("pick", [
    lambda ids: [ids[0], ids[3], uuid.uuid4(), None],  # unknown and None values find nothing
    lambda ids: [str(ids[1])],  # text is converted as the field converts it
    lambda ids: [],
    lambda ids: ids * 300,  # more values than a chunk, repeated
])
def test_any_of_finds_what_in_finds(couplings, pick):
    values = pick(couplings)
    expected = set(Coupling.objects.filter(crm_id__in=values).values_list("erp_id", flat=True))
    got = set(Coupling.objects.filter(any_of("crm_id", values), erp_model="erp.Customer")
              .values_list("erp_id", flat=True))
    assert got == expected
    assert set(Coupling.objects.exclude(any_of("crm_id", values)).values_list("erp_id", flat=True)) == set(
        Coupling.objects.exclude(crm_id__in=values).values_list("erp_id", flat=True))
    assert set(Coupling.objects.filter(any_of("erp_id", [1, 2, 99]))
               .values_list("crm_id", flat=True)) == {couplings[1], couplings[2]}


@pytest.mark.postgres
def test_on_postgresql_the_values_are_one_array_parameter(couplings):
    with CaptureQueriesContext(connection) as queries:
        found = list(Coupling.objects.filter(any_of("crm_id", couplings * 200)).values_list("erp_id", flat=True))
    assert sorted(found) == [0, 1, 2, 3, 4]
    sql = queries.captured_queries[-1]["sql"]
    assert "= ANY(" in sql and " IN (" not in sql


@pytest.mark.sqlite_only
def test_on_sqlite_the_values_are_one_json_parameter(couplings):
    with CaptureQueriesContext(connection) as queries:
        found = list(Coupling.objects.filter(any_of("crm_id", couplings * 200)).values_list("erp_id", flat=True))
        by_number = list(Coupling.objects.filter(any_of("erp_id", [3, "4", 99])).values_list("erp_id", flat=True))
    assert sorted(found) == [0, 1, 2, 3, 4]
    assert sorted(by_number) == [3, 4]  # text converted as the field converts it
    assert all("json_each(" in query["sql"] and " IN (SELECT" in query["sql"] for query in queries.captured_queries)
