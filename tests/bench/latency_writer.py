"""The writer of tests/bench/test_realtime_latency_bench.py, in a process of its own: someone changing records on one
side at a steady rate, each change carrying its marker (the record's new name), and the time each committed.

    latency_writer.py sales|erp <changes.json> <out.json> <rate>

``changes.json``: ``[[id, marker], ...]``, one change each, made at ``rate`` a second from the start (a few threads,
so that one slow answer does not hold the next change back). ``sales``: a PATCH of the account through the Sales
instance's Web API, as another application user than the integration's (``LATENCY_SALES_URL``, ``LATENCY_CA_FILE``,
``LATENCY_CLIENT_ID``, ``LATENCY_CLIENT_SECRET``); committed when the server answers. ``erp``: the customer's
``save()`` in this process on the ERP's database (``DATABASE_URL``), as a user of the ERP makes it, so its signals
fire (near-real-time enqueues on commit); committed when ``save()`` returns (autocommit). Writes ``out.json``:
``{marker: committed at (time.time())}``, and ``failed``: ``{marker: error}``."""

import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
THREADS = 8
AGENT = "latency-writer"  # how the benchmark tells the writer's requests from the integration's in the server's log


def sales_writer():
    import httpx

    base = os.environ["LATENCY_SALES_URL"]
    local = threading.local()

    def client():
        if not hasattr(local, "client"):
            local.client = httpx.Client(verify=os.environ["LATENCY_CA_FILE"], headers={"User-Agent": AGENT},
                                        timeout=60)
            answer = local.client.post(f"{base}/o/token/", data={"grant_type": "client_credentials"},
                                       auth=(os.environ["LATENCY_CLIENT_ID"], os.environ["LATENCY_CLIENT_SECRET"]))
            answer.raise_for_status()
            local.client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        return local.client

    def change(key, marker):
        answer = client().patch(f"{base}/api/data/v9.2/accounts({key})", json={"name": marker},
                                headers={"If-Match": "*"})
        if answer.status_code not in (200, 204):
            raise RuntimeError(f"{answer.status_code} {answer.text[:200]}")

    return change


def erp_writer():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "p2c.settings")
    import django

    django.setup()
    from erp.models import Customer

    def change(key, marker):
        customer = Customer.objects.get(pk=key)
        customer.name = marker
        customer.save()

    return change


def main():
    side, changes_file, out_file, rate = sys.argv[1:]
    change = {"sales": sales_writer, "erp": erp_writer}[side]()
    changes = json.loads(Path(changes_file).read_text())
    committed, failed = {}, {}

    def one(key, marker):
        try:
            change(key, marker)
            committed[marker] = time.time()
        except Exception as exc:  # told in the output: the benchmark counts it
            failed[marker] = repr(exc)

    started = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        for i, (key, marker) in enumerate(changes):
            wait = started + i / float(rate) - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            pool.submit(one, key, marker)
    Path(out_file).write_text(json.dumps({"committed": committed, "failed": failed,
                                          "seconds": time.monotonic() - started}))


if __name__ == "__main__":
    main()
