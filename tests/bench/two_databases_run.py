"""One measurement of tests/bench/test_two_databases_bench.py, in a process of its own (its databases come from
DATABASE_URL and SALES_DATABASE_URL, both new and empty): N Sales accounts → ERP customers, then the N customers →
new Sales accounts, each a full synchronisation of the CUSTOMER mapping. Prints one JSON line of seconds."""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "p2c.settings")
os.environ["DJANGO_DEBUG"] = "false"
os.environ.setdefault("DJANGO_SECRET_KEY", "bench")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from crm.models import Account  # noqa: E402
from erp.models import Customer  # noqa: E402
from integration.engine.sync import mapping_synchronize  # noqa: E402
from integration.models import Coupling  # noqa: E402
from tests.bench.customers_world import accounts_create, customer_mapping_alone  # noqa: E402

N = int(os.environ.get("P2C_BENCH_N", "100000"))

call_command("migrate_all", interactive=False, verbosity=0)
mapping = customer_mapping_alone()
accounts_create(N)
started = time.perf_counter()
[job] = mapping_synchronize(mapping=mapping, direction="from_integration")
to_erp = time.perf_counter() - started
assert (job.status, job.inserted) == ("success", N), (job.message, job.counts())


def settled_run():
    """A Sales → ERP run: (seconds, rows it read)."""
    mapping.refresh_from_db()
    started = time.perf_counter()
    [job] = mapping_synchronize(mapping=mapping, direction="from_integration")
    assert job.status == "success", (job.message, job.counts())
    return time.perf_counter() - started, job.inserted + job.modified + job.unchanged + job.skipped + job.coupled


# Settled runs cost what changed (docs/decisions.md): what a run costs once things are settled, 500 changed rows,
# then the second settled run after a bulk change of every row (the rows re-read inside the watermark's margin used
# to be read, run after run, with Sales in a database of its own).
settled_run()  # the first load's last second is read again once (late commits), then never
time.sleep(1.1)
keys = list(Account.objects.order_by("pk").values_list("pk", flat=True)[:: max(1, N // 500)][:500])
Account.objects.filter(pk__in=keys).update(name="Changed", modifiedon=timezone.now())
time.sleep(1.1)  # changed a moment before the run, as a scheduled run finds them
changed_500, changed_read = settled_run()
Account.objects.update(name="Renamed", modifiedon=timezone.now())
time.sleep(1.1)
settled_run()
settled_run()
settled_2, settled_read = settled_run()

# The same customers, uncoupled, to new Sales accounts.
Coupling.objects.all()._raw_delete(Coupling.objects.db)
Account.objects.all()._raw_delete(Account.objects.db)
mapping.refresh_from_db()
started = time.perf_counter()
[job] = mapping_synchronize(mapping=mapping, direction="to_integration", full=True)
to_sales = time.perf_counter() - started
assert (job.status, job.inserted) == ("success", N), (job.message, job.counts())
assert Account.objects.count() == Coupling.objects.count() == Customer.objects.count() == N
print(json.dumps({"to_erp": to_erp, "to_sales": to_sales, "changed_500": changed_500, "changed_read": changed_read,
                  "settled_2": settled_2, "settled_read": settled_read}))
