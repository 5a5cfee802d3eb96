"""A coupling's synchronised values (p2c.fields.JSONTextField: ``json`` on PostgreSQL, text on SQLite) come back as
they were written, whichever way they are read and written: one coupling, a bulk insert, a bulk update."""

import uuid

import pytest
from django.utils import timezone

from integration.models import Coupling, CouplingIntent
from p2c.bulk_writes import insert_values_prepare, update_rows

pytestmark = pytest.mark.django_db

VALUES = {"erp": {"name": "Müller & Söhne \"GmbH\"", "credit_limit": "1500.50", "currency_id": None, "blocked": False,
                  "lines": [1, 2, {"nested": "\t tab"}]},
          "crm": {"name": "Müller & Söhne \"GmbH\"", "transaction_currency_id": str(uuid.UUID(int=7))}}


def coupling(erp_id, synced_values=None):
    return Coupling(erp_model="erp.Customer", crm_model="crm.Account", erp_id=erp_id, crm_id=uuid.uuid4(),
                    synced_values=synced_values)


def test_the_values_come_back_as_written():
    one = coupling(1, VALUES)
    one.save()
    insert_values_prepare(Coupling.objects.all(),
                          ["erp_model", "crm_model", "erp_id", "crm_id", "last_erp_result", "last_crm_result",
                           "skipped", "created_at", "synced_values"],
                          [["erp.Customer"], ["crm.Account"], [2], [uuid.uuid4()], [""], [""], [False],
                           [timezone.now()], [VALUES]])()
    two = Coupling.objects.get(erp_id=2)
    two.synced_values = {"erp": {}, "crm": {"name": "x"}}
    update_rows(Coupling.objects.all(), [two], ["synced_values"])

    assert Coupling.objects.get(pk=one.pk).synced_values == VALUES
    assert dict(Coupling.objects.values_list("erp_id", "synced_values")) == {
        1: VALUES, 2: {"erp": {}, "crm": {"name": "x"}}}
    assert Coupling.objects.filter(synced_values__isnull=True).count() == 0


def test_rows_written_as_columns_give_back_their_new_keys_in_the_order_of_the_rows():
    CouplingIntent.objects.create(erp_model="erp.Customer", crm_model="crm.Account", erp_id=1, crm_id=uuid.uuid4(),
                                  kind="insert")
    erp_ids = [30, 10, 20]

    keys = insert_values_prepare(CouplingIntent.objects.all(), ["erp_model", "crm_model", "erp_id", "crm_id", "kind"],
                                 [["erp.Customer"] * 3, ["crm.Account"] * 3, erp_ids,
                                  [uuid.uuid4() for _ in erp_ids], ["insert"] * 3], keys=True)()

    assert dict(CouplingIntent.objects.filter(pk__in=keys).values_list("pk", "erp_id")) == dict(zip(keys, erp_ids, strict=True))
    assert len(set(keys)) == 3 and CouplingIntent.objects.count() == 4
    assert insert_values_prepare(CouplingIntent.objects.all(), ["erp_id"], [[]], keys=True)() == []
