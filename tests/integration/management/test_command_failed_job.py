"""A command that ran a job which failed says so (docs/decisions.md#messages-stored-as-what-they-mean): exit 1, "failed"
in the command's language, one clear line and no traceback, when the Sales database's connections are terminated in the
middle of ``manage.py sync``."""

import os
import subprocess
import sys
import time

import pytest
from django.db import connections

from erp.models import Customer
from integration.models import IntegrationTableMapping, SyncJob
from p2c.databases import SALES, sales_separate
from tests.concurrency import REPO, child_database_env

ROWS = 3000


def sales_connections_terminated():
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> "
                       "pg_backend_pid()", [connections[SALES].settings_dict["NAME"]])
    connections[SALES].close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("language", "failed"), [("en", "failed"), ("fr", "échec")])
def test_sync_whose_sales_database_goes_away_mid_run_exits_1_saying_failed(mappings, salesperson_pair, language,
                                                                           failed):
    if not sales_separate():
        pytest.skip("needs Sales in a database of its own: set SALES_DATABASE_URL=postgres://...")
    salesperson, _ = salesperson_pair
    IntegrationTableMapping.objects.filter(name="CUSTOMER").update(sync_only_coupled=False)
    Customer.objects.bulk_create([Customer(no=f"T{i:05d}", name=f"Customer {i}", salesperson=salesperson)
                                  for i in range(ROWS)])
    env = {**os.environ, **child_database_env(), "P2C_SYNC_CHUNK_SIZE": "100", "P2C_LANGUAGE": language,
           "PYTHONUNBUFFERED": "1"}
    command = subprocess.Popen([sys.executable, "manage.py", "sync", "CUSTOMER", "--direction", "to"], cwd=REPO,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not SyncJob.objects.filter(mapping_name="CUSTOMER", status=SyncJob.Status.RUNNING,
                                         inserted__gt=0).exists():
            assert command.poll() is None, command.communicate()
            assert time.monotonic() < deadline, "the run never got going"
            time.sleep(0.02)
        sales_connections_terminated()
        out, err = command.communicate(timeout=120)
    finally:
        if command.poll() is None:
            command.kill()

    [job] = SyncJob.objects.filter(mapping_name="CUSTOMER")
    assert job.status == SyncJob.Status.FAILED, job.message
    told = out + err
    assert command.returncode == 1, told
    assert "Traceback" not in told, told
    assert failed in told, told
    print(told)
