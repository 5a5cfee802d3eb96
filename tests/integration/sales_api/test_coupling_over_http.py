"""Match-based coupling from a Sales reached over the Web API (docs/engine.md, "The loop and its work"): the accounts
are read through the Sales side, over HTTP, as a synchronisation reads them, and coupled to the ERP customers they
match; an account without a unique match is told in the job, as in one database.

The Sales server shares this test run's databases (server.py): the test creates and checks the accounts directly, the
run only through `DataverseSide`.
"""

import pytest
from django.db.models import Sum

from crm.models import Account, DataverseRequestCount
from erp.models import Customer
from integration.coupling.couplings import mapping_couple_by_match
from integration.models import Coupling, SyncJob

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def account_reads():
    """The requests for accounts the Sales server counted (its service protection's slots, every login)."""
    return DataverseRequestCount.objects.filter(slot__gte=0).aggregate(n=Sum("count"))["n"] or 0


def test_accounts_in_sales_over_http_are_coupled_by_match_to_the_erp_customers(
        customer_mapping, salesperson_pair, remote, settings):
    settings.P2C_SYNC_CHUNK_SIZE = 2  # three chunks
    salesperson, user = salesperson_pair
    active = {"customer_type_code": "customer", "state_code": "active", "owner": user}
    accounts = [Account.objects.create(name=f"Account {i}", emailaddress1=f"a{i}@example.com", **active)
                for i in range(5)]
    customers = [Customer.objects.create(no=f"C{i:03d}", name=f"ACCOUNT {i}", email=f"A{i}@EXAMPLE.COM",
                                         salesperson=salesperson) for i in range(4)]  # none for the fifth
    requests_before = account_reads()

    job = mapping_couple_by_match(mapping=customer_mapping, from_side="crm", create_new=False, sync_after=False)

    assert (job.type, job.status, job.coupled, job.failed) == (SyncJob.Type.COUPLING, SyncJob.Status.ERROR, 4, 1), \
        job.message
    assert dict(Coupling.objects.filter(erp_model="erp.Customer", crm_model="crm.Account")
                .values_list("crm_id", "erp_id")) == {a.pk: c.pk for a, c in zip(accounts[:4], customers, strict=True)}
    assert "no unique uncoupled matching entity" in job.errors.get().message
    assert account_reads() > requests_before  # read over HTTP

    # Run again: the coupled accounts are left alone, the fifth still has no match
    again = mapping_couple_by_match(mapping=customer_mapping, from_side="crm", create_new=False, sync_after=False)
    assert (again.coupled, again.failed) == (0, 1), again.message
