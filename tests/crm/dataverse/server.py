"""A real p2c server process (gunicorn) over HTTPS with a trustme certificate, on this test's databases."""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import requests

from tests.concurrency import REPO, child_database_env


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def https_server(tmp_path, *, workers=1, env=None, database_env=None):
    """Yield the base URL (``https://localhost:<port>``) of a gunicorn serving p2c with a trustme certificate;
    ``REQUESTS_CA_BUNDLE`` names the CA file for clients in this process and its children. It runs on this test's
    databases, or on ``database_env``'s (``DATABASE_URL``...: another instance's own)."""
    import trustme

    tmp_path.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    cert_file, key_file, ca_file = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    ca.cert_pem.write_to_path(str(ca_file))
    port = free_port()
    server_env = {**os.environ, **(database_env if database_env is not None else child_database_env()), "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
                  "DJANGO_DEBUG": "true", "PYTHONPATH": str(REPO), **(env or {})}
    log = open(tmp_path / f"gunicorn-{port}.log", "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "p2c.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--certfile", str(cert_file), "--keyfile", str(key_file), "--timeout", "120"],
        cwd=REPO, env=server_env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"https://localhost:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(f"{base}/api/data/v9.2/", verify=str(ca_file), timeout=10)
                break
            except (requests.ConnectionError, requests.Timeout):
                if process.poll() is not None:
                    raise RuntimeError((tmp_path / f"gunicorn-{port}.log").read_text()) from None
                time.sleep(0.1)
        yield base, str(ca_file)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
