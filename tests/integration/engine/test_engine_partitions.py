"""The engine's hook for partitions of one mapping (docs/decisions.md#partitions): ``key_range`` limits every queryset a
run reads, leaves the watermark and the child mappings to the coordinator, and tells the largest modified-on it read."""

import pytest

from crm.models import Account
from erp.models import Customer
from integration.engine.sync import mapping_synchronize
from integration.models import Coupling, IntegrationTableMapping, SyncJob

pytestmark = pytest.mark.django_db

TO = "to_integration"


def customers(n, salesperson):
    return [Customer.objects.create(name=f"Customer {i}", salesperson=salesperson) for i in range(n)]


def partition(mapping, key_range, **kwargs):
    mapping.refresh_from_db()
    [job] = mapping_synchronize(mapping=mapping, direction=TO, key_range=key_range, **kwargs)
    return job


def coupled_erp_ids():
    return set(Coupling.objects.filter(erp_model="erp.Customer", crm_model="crm.Account").values_list("erp_id",
                                                                                                      flat=True))


def test_partitions_together_do_what_one_run_does_and_leave_the_watermark_to_the_coordinator(
    customer_mapping, salesperson_pair, settings
):
    salesperson, _ = salesperson_pair
    settings.P2C_SYNC_CHUNK_SIZE = 2
    made = customers(7, salesperson)
    ids = sorted(c.pk for c in made)
    middle = ids[3]

    low = partition(customer_mapping, (None, middle))
    assert (low.status, low.inserted, low.failed) == (SyncJob.Status.SUCCESS, 3, 0)
    assert coupled_erp_ids() == set(ids[:3])
    assert low.max_seen == max(c.modified_at for c in made[:3])
    customer_mapping.refresh_from_db()
    assert customer_mapping.erp_watermark is None  # the coordinator moves it once every partition is done

    high = partition(customer_mapping, (middle, None))
    assert (high.inserted, high.failed) == (4, 0)
    assert coupled_erp_ids() == set(ids) and Account.objects.count() == 7
    assert high.max_seen == max(c.modified_at for c in made[3:])
    assert partition(customer_mapping, (ids[-1] + 1, None)).max_seen is None  # an empty range read nothing

    # The coordinator's watermark: the changed rows of one range only are read, retries included.
    IntegrationTableMapping.objects.filter(pk=customer_mapping.pk).update(erp_watermark=high.max_seen)
    for customer in made:
        customer.phone_no = "+46 8 000 0000"
        customer.save()
    Coupling.objects.filter(erp_id__in=[ids[0], ids[5]], erp_model="erp.Customer").update(
        last_crm_result="failure")
    job = partition(customer_mapping, (ids[1], ids[5]))
    assert (job.modified, job.unchanged, job.failed) == (4, 0, 0), job.counts()
    assert job.max_seen == max(Customer.objects.filter(pk__in=ids[1:5]).values_list("modified_at", flat=True))
    customer_mapping.refresh_from_db()
    assert customer_mapping.erp_watermark == high.max_seen  # a partition leaves it to its coordinator


def test_a_partition_does_not_run_the_child_mappings(customer_mapping, salesperson_pair, monkeypatch):
    from integration.engine import sync

    salesperson, _ = salesperson_pair
    customers(2, salesperson)
    runs = []
    real = sync.DirectionRun.run

    def counted(self):
        runs.append(self.plan.mapping.name)
        return real(self)

    monkeypatch.setattr(sync.DirectionRun, "run", counted)
    IntegrationTableMapping.objects.filter(name="CONTACT").update(parent=customer_mapping, is_enabled=True)
    assert customer_mapping.children.filter(is_enabled=True).exists()
    partition(customer_mapping, (None, None))
    assert runs == ["CUSTOMER"]
