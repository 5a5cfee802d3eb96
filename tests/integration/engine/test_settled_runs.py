"""A row and its coupling stand or fall together, and a settled run costs what changed
(docs/decisions.md#settled-runs-cost-what-changed).

On whatever databases the run has: SQLite or PostgreSQL, one database or Sales in its own (where the couplings cannot
be joined with the Sales rows, and the rows re-read inside the watermark's margin used to be read in full, run after
run).
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.models import Account
from erp.models import Customer
from integration.engine import writing
from integration.engine.sync import WATERMARK_MARGIN, mapping_synchronize
from integration.models import Coupling, FailedInsert, SyncJobError

pytestmark = pytest.mark.django_db

FROM = "from_integration"
PAIR = {"erp_model": "erp.Customer", "crm_model": "crm.Account"}
ROWS = 1500


def run(mapping, **kwargs):
    mapping.refresh_from_db()
    [job] = mapping_synchronize(mapping=mapping, direction=FROM, **kwargs)
    return job


def read(job):
    """How many source rows the run read (each is counted once, by what became of it)."""
    return job.inserted + job.modified + job.unchanged + job.skipped + job.failed + job.coupled


def accounts(owner, n):
    Account.objects.bulk_create([Account(name=f"Account {i}", account_number=f"S{i:05d}", emailaddress1=f"s{i}@x.se",
                                         customer_type_code="customer", owner=owner) for i in range(n)])


def test_settled_runs_after_a_bulk_change_read_nothing_again_but_a_late_commit_is_read(customer_mapping,
                                                                                        salesperson_pair):
    _, owner = salesperson_pair
    accounts(owner, ROWS)
    Account.objects.update(modifiedon=timezone.now() - timedelta(minutes=1))  # made a minute ago
    assert run(customer_mapping, full=True).inserted == ROWS
    # Every account renamed at once, a few seconds before the next run
    changed_at = timezone.now() - timedelta(seconds=5)
    Account.objects.update(name="Renamed", modifiedon=changed_at)
    assert run(customer_mapping).modified == ROWS
    for _ in range(2):
        settled = run(customer_mapping)
        assert read(settled) == 0, settled.counts()
    assert set(Customer.objects.values_list("name", flat=True)) == {"Renamed"}

    # A row whose transaction began before that run and committed after it: its modified-on lies within the margin
    # of the run's start, older than the watermark's run read; the next run reads it.
    late = Account.objects.order_by("pk").first()
    Account.objects.filter(pk=late.pk).update(name="Late", modifiedon=settled.started_at - WATERMARK_MARGIN / 2)
    again = run(customer_mapping)
    assert (again.modified, read(again)) == (1, 1), again.counts()
    assert Customer.objects.get(pk=Coupling.objects.get(**PAIR, crm_id=late.pk).erp_id).name == "Late"


def test_a_matched_row_whose_counterpart_got_coupled_meanwhile_writes_nothing_and_is_a_job_error(
        customer_mapping, salesperson_pair, monkeypatch):
    salesperson, owner = salesperson_pair
    by_hand = Customer.objects.create(name="Made by hand", email="shared@x.se", phone_no="+46 8 1",
                                      salesperson=salesperson)
    matching = Account.objects.create(name="Matching", emailaddress1="shared@x.se", telephone1="+46 8 2",
                                      customer_type_code="customer", owner=owner)
    other = Account.objects.create(name="Other", emailaddress1="other@x.se", customer_type_code="customer",
                                   owner=owner)
    claim = writing.ChunkWrites._claim_matched

    def coupled_meanwhile(chunk):
        # A person couples the matched customer to another account between the run's match and its write
        Coupling.objects.get_or_create(**PAIR, erp_id=by_hand.pk, crm_id=other.pk)
        return claim(chunk)

    monkeypatch.setattr(writing.ChunkWrites, "_claim_matched", coupled_meanwhile)
    job = run(customer_mapping, only_ids=[matching.pk])
    by_hand.refresh_from_db()
    assert (by_hand.name, by_hand.phone_no) == ("Made by hand", "+46 8 1"), "written for an account not coupled to it"
    assert not Coupling.objects.filter(**PAIR, crm_id=matching.pk).exists()
    assert (job.status, job.failed, job.coupled, job.modified) == ("error", 1, 0, 0), job.counts()
    [error] = SyncJobError.objects.filter(job=job)
    assert error.source_id == str(matching.pk) and "coupled to another record meanwhile" in error.message
    assert FailedInsert.objects.filter(source_id=str(matching.pk)).exists(), "retried by the next run"

    # The next run decides it again: its match is taken, so it gets a customer of its own
    monkeypatch.setattr(writing.ChunkWrites, "_claim_matched", claim)
    again = run(customer_mapping)
    assert (again.inserted, again.failed) == (1, 0), again.counts()
    new = Customer.objects.get(pk=Coupling.objects.get(**PAIR, crm_id=matching.pk).erp_id)
    assert new.pk != by_hand.pk and new.name == "Matching"
