"""What the partition tests and the partitions benchmark share: the accounts they run over, the coordinator of a run
in a thread of its own, and the wipe between runs."""

import threading
import uuid

from django.db import connections

from crm.models import Account
from erp.models import Customer
from integration.full_sync.partitions import mapping_synchronize_partitioned
from integration.models import Coupling, FailedInsert, IntegrationTableMapping, SyncJob

FROM = "from_integration"
PAIR = {"erp_model": "erp.Customer", "crm_model": "crm.Account"}


def accounts_create(owner, n, *, start=0, failing_every=9):
    """``n`` accounts with fixed keys (so both runs see the same key ranges); every ``failing_every``-th has a phone
    number longer than the ERP takes: its row fails with a message."""
    Account.objects.bulk_create([
        Account(id=uuid.UUID(int=start + i + 1), name=f"Account {start + i}", account_number=f"A{start + i:05d}",
                emailaddress1=f"a{start + i}@example.com", customer_type_code="customer", owner=owner,
                telephone1="+46 8 555 " + ("1" * 40 if failing_every and i % failing_every == 4 else f"{i:04d}"))
        for i in range(n)
    ])


class Coordinator(threading.Thread):
    """The coordinator of a partitioned run in a thread of its own (its own connection): it enqueues the workers'
    tasks, holds the mapping's lock and takes over partitions whose worker died; it runs none itself."""

    def __init__(self, mapping, workers, full=True, direction=FROM):
        super().__init__(daemon=True)
        self.mapping, self.workers, self.full, self.direction = mapping, workers, full, direction
        self.jobs, self.error = None, None

    def run(self):
        try:
            self.jobs = mapping_synchronize_partitioned(mapping=self.mapping, direction=self.direction, full=self.full,
                                                        workers=self.workers, participate=False)
        except Exception as exc:  # reported by the test
            self.error = exc
        finally:
            connections.close_all()


def wipe(mapping):
    Coupling.objects.filter(**PAIR).delete()
    Customer.objects.all().delete()
    SyncJob.objects.all().delete()
    FailedInsert.objects.all().delete()
    IntegrationTableMapping.objects.filter(pk=mapping.pk).update(crm_watermark=None, erp_watermark=None)
    mapping.refresh_from_db()
