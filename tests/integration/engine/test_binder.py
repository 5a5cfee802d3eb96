"""integration.binder: which record is coupled to which, in both directions, one query per chunk."""

import uuid

import pytest

from integration import binder
from integration.models import Coupling

pytestmark = pytest.mark.django_db


@pytest.fixture
def pairs():
    crm = [uuid.uuid4() for _ in range(3)]
    for erp_id, crm_id in zip((10, 11, 12), crm, strict=True):
        Coupling.objects.create(erp_model="erp.Customer", crm_model="crm.Account", erp_id=erp_id, crm_id=crm_id)
    Coupling.objects.create(erp_model="erp.Item", crm_model="crm.Product", erp_id=10, crm_id=crm[0])
    Coupling.objects.create(erp_model="erp.Resource", crm_model="crm.Product", erp_id=7, crm_id=crm[0])
    return crm


def test_counterparts_both_ways_in_one_query(pairs, django_assert_num_queries):
    with django_assert_num_queries(1):
        found = binder.counterparts("erp.Customer", [10, 12, 99], to="crm.Account")
    assert found == {10: pairs[0], 12: pairs[2]}
    with django_assert_num_queries(1):
        assert binder.counterparts("crm.Account", pairs[:2], to="erp.Customer") == {pairs[0]: 10, pairs[1]: 11}


def test_counterparts_chunked(pairs, django_assert_num_queries, monkeypatch):
    monkeypatch.setattr(binder, "CHUNK", 2)
    with django_assert_num_queries(2):
        assert len(binder.counterparts("crm.Account", pairs, to="erp.Customer")) == 3


def test_nothing_asked_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert binder.counterparts("erp.Customer", [], to="crm.Account") == {}
        assert binder.counterpart("erp.Customer", None, to="crm.Account") is None


def test_one_counterpart_and_subqueries(pairs):
    assert binder.counterpart("crm.Account", pairs[1], to="erp.Customer") == 11
    assert binder.counterpart("crm.Account", uuid.uuid4(), to="erp.Customer") is None
    assert sorted(binder.coupled_ids("erp.Customer", to="crm.Account").values_list("erp_id", flat=True)) == [10, 11, 12]
    assert list(binder.counterpart_query("crm.Account", [pairs[2]], to="erp.Customer")) == [{"erp_id": 12}]
    assert sorted(binder.counterpart_list("crm.Account", pairs, to="erp.Customer")) == [10, 11, 12]


def test_counterparts_among_several_tables(pairs):
    found = binder.counterparts_in("crm.Product", [pairs[0]], among=("erp.Item", "erp.Resource"))
    assert sorted(found) == [("erp.Item", 10, pairs[0]), ("erp.Resource", 7, pairs[0])]
