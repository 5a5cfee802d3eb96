"""Schemathesis' CLI against a real server process, as an outside client runs it: the stateful phase and the fuzzing
phase.

The test starts ``manage.py runserver`` on a free port, on the test's PostgreSQL databases (committed data: a
superuser and its DRF token), then runs ``schemathesis run …/api/schema/`` from the repository's root (so that
``schemathesis.toml`` applies) with that token:

- the **stateful phase** follows the schema's OpenAPI links (p2c.api.schema.postprocess_links: each create to the
  get, replace, update and delete of the record it made, to its actions, and to the creates of the records that
  refer to it) with the checks ``use_after_free`` (a deleted record is gone), ``ensure_resource_availability`` (a
  created one can be read), ``ignored_auth`` and no server error, on a server whose ERP has number series (so that
  customers, vendors and contacts are created without a number given, and their links followed; schemathesis.toml
  says how long a scenario is, and that the links schemathesis would infer are not followed);
- the **fuzzing phase** with every check (``--checks all``), the two data checks replaced by the project's
  (``SCHEMATHESIS_HOOKS=tests.api.schemathesis_rules``, where every exclusion is named with its reason).

CI cost: the fuzzing phase over all 435 operations at 5 examples each takes 2 to 4 minutes here (130 s on an idle
machine), so CI runs the operations under ``P2C_SCHEMATHESIS_CLI_PATHS`` (default ``^/api/(integration|crm)/``: the
integration's 52 and Sales' 148; the in-process test covers all 435) at ``P2C_SCHEMATHESIS_CLI_EXAMPLES`` (default 1)
examples each, seed 1, in about a minute. The full run, as last measured:
``P2C_SCHEMATHESIS_CLI_PATHS=^/api/ P2C_SCHEMATHESIS_CLI_EXAMPLES=5 P2C_SCHEMATHESIS_CLI_SEEDS=1,2,3``. The stateful
phase takes ``P2C_SCHEMATHESIS_STATEFUL_EXAMPLES`` (default 20) examples, about a minute. Both run on the PostgreSQL pass
only (a server process needs a database it can share).
"""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from erp.models import (
    BusinessRelation,
    GeneralLedgerSetup,
    MarketingSetup,
    NoSeries,
    PurchasesPayablesSetup,
    SalesReceivablesSetup,
)
from tests.concurrency import REPO, child_database_env

from .schemathesis_rules import SKIPPED_PATHS_REGEX

EXAMPLES = int(os.environ.get("P2C_SCHEMATHESIS_CLI_EXAMPLES", "1"))
SEEDS = [int(seed) for seed in os.environ.get("P2C_SCHEMATHESIS_CLI_SEEDS", "1").split(",")]
PATHS = os.environ.get("P2C_SCHEMATHESIS_CLI_PATHS", "^/api/(integration|crm)/")
STATEFUL_EXAMPLES = int(os.environ.get("P2C_SCHEMATHESIS_STATEFUL_EXAMPLES", "20"))
CLI = [str(Path(sys.executable).with_name("schemathesis"))]
if not Path(CLI[0]).exists():
    CLI = [sys.executable, "-m", "schemathesis.cli"]
# The stateless checks the project replaces (tests.api.schemathesis_rules), by schemathesis' own name.
REPLACED_CHECKS = "positive_data_acceptance,negative_data_rejection"

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(superuser, tmp_path):
    """``runserver`` on a free port on this test's databases; yields (base URL, the superuser's token)."""
    token = Token.objects.create(user=superuser).key
    port = free_port()
    env = {**os.environ, **child_database_env(), "PYTHONUNBUFFERED": "1"}
    url = f"http://127.0.0.1:{port}"
    with open(tmp_path / "server.log", "w") as log:
        process = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                                   cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"{url}/api/schema/", timeout=5)
                except urllib.error.HTTPError:
                    break  # it answers (401 without the token)
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail("the server did not start:\n" + (tmp_path / "server.log").read_text())
                    time.sleep(0.3)
                else:
                    break
            yield url, token
        finally:
            process.terminate()
            process.wait(timeout=30)


def schemathesis_run(url, token, *arguments, env=None, timeout=900):
    command = [*CLI, "run", f"{url}/api/schema/", "-H", f"Authorization: Token {token}",
               "--exclude-path-regex", SKIPPED_PATHS_REGEX, "--no-color", "--generation-database", "none",
               *arguments]
    started = time.monotonic()
    done = subprocess.run(command, cwd=REPO, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=timeout)
    print(f"\nschemathesis {' '.join(arguments)}: {time.monotonic() - started:.0f} s, exit {done.returncode}")
    return done


@pytest.fixture
def number_series(db):
    """Number series for the ERP's numbered records (and the business relations their contacts take), so that a
    customer, vendor, bank account or contact created without a number is numbered, and its links followed."""
    for code, setup, field in (("CUST", SalesReceivablesSetup, "customer_nos"), ("VEND", PurchasesPayablesSetup,
                                                                                 "vendor_nos"),
                               ("BANK", GeneralLedgerSetup, "bank_account_nos"), ("CONT", MarketingSetup, "contact_nos")):
        row = setup.get_solo()
        setattr(row, field, NoSeries.objects.create(code=code, starting_no=f"{code}00010", increment_by=10))
        if setup is MarketingSetup:
            for kind in ("customers", "vendors", "bank_accounts"):
                relation = BusinessRelation.objects.create(code=kind[:4].upper(), description=kind)
                setattr(row, f"bus_rel_code_for_{kind}", relation)
        row.save()


def test_the_stateful_phase_finds_nothing(number_series, server):
    url, token = server
    done = schemathesis_run(
        url, token, "--phases", "stateful",
        "--checks", "not_a_server_error,use_after_free,ensure_resource_availability,ignored_auth",
        "--max-examples", str(STATEFUL_EXAMPLES), "--seed", "1")
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-5000:]
    covered = re.search(r"API Links:\s+(\d+) covered / (\d+)", done.stdout)
    assert covered, done.stdout[-5000:]
    print(f"API links followed: {covered.group(1)} of {covered.group(2)}")
    # Creates followed by their records' operations and by records referring to them (46 of 406 here, at seed 1
    # and 20 examples; 2 of 1,010 when schemathesis also inferred links and the ERP had no number series).
    assert int(covered.group(1)) >= 20, done.stdout[-5000:]


@pytest.mark.parametrize("seed", SEEDS)
def test_the_fuzzing_phase_finds_nothing(server, seed):
    url, token = server
    done = schemathesis_run(
        url, token, "--phases", "fuzzing", "--checks", "all", "--exclude-checks", REPLACED_CHECKS,
        "--max-examples", str(EXAMPLES), "--seed", str(seed), "--include-path-regex", PATHS,
        env={"SCHEMATHESIS_HOOKS": "tests.api.schemathesis_rules", "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stdout[-30000:] + done.stderr[-5000:]
    assert "Fuzzing" in done.stdout and " passed" in done.stdout, done.stdout[-5000:]
