"""A real p2c server process (gunicorn) over HTTPS with a trustme certificate, on this test's databases."""

import os
import signal
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


class GunicornServer:
    """A gunicorn serving p2c over HTTPS on one port, which a test may kill (`kill`: SIGKILL to the master and its
    workers, as a machine that dies) and start again (`start`) at the same address, with the same certificate."""

    def __init__(self, tmp_path, *, workers=1, env=None, database_env=None):
        import trustme

        tmp_path.mkdir(parents=True, exist_ok=True)
        ca = trustme.CA()
        cert = ca.issue_cert("localhost", "127.0.0.1")
        self.cert_file, self.key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
        self.ca_file = str(tmp_path / "ca.pem")
        cert.private_key_and_cert_chain_pem.write_to_path(str(self.cert_file))
        cert.private_key_pem.write_to_path(str(self.key_file))
        ca.cert_pem.write_to_path(self.ca_file)
        self.tmp_path, self.workers = tmp_path, workers
        self.port = free_port()
        self.base = f"https://localhost:{self.port}"
        self.env = {**os.environ, **(database_env if database_env is not None else child_database_env()),
                    "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1", "DJANGO_DEBUG": "true", "PYTHONPATH": str(REPO),
                    **(env or {})}
        self.log_file = tmp_path / f"gunicorn-{self.port}.log"
        self.process, self.log = None, None

    def start(self):
        """Start the server and return once it answers."""
        self.log = open(self.log_file, "a")  # noqa: SIM115 (closed in stop/kill)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "p2c.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers), "--certfile", str(self.cert_file), "--keyfile", str(self.key_file),
             "--timeout", "120"],
            cwd=REPO, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        for _ in range(300):
            try:
                requests.get(f"{self.base}/api/data/v9.2/", verify=self.ca_file, timeout=10)
                return self
            except (requests.ConnectionError, requests.Timeout):
                if self.process.poll() is not None:
                    raise RuntimeError(self.log_file.read_text()) from None
                time.sleep(0.1)
        raise RuntimeError(f"the server did not answer in 30 s:\n{self.log_file.read_text()}")

    def kill(self):
        """SIGKILL the master and its workers at once (its process group): no request finishes."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.log.close()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.log.close()


@contextmanager
def https_server_process(tmp_path, **options):
    """A started `GunicornServer` (options: its own), stopped afterwards."""
    server = GunicornServer(tmp_path, **options).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def https_server(tmp_path, *, workers=1, env=None, database_env=None):
    """Yield the base URL (``https://localhost:<port>``) of a gunicorn serving p2c with a trustme certificate, and
    the CA file that certifies it. It runs on this test's databases, or on ``database_env``'s (``DATABASE_URL``...:
    another instance's own)."""
    with https_server_process(tmp_path, workers=workers, env=env, database_env=database_env) as server:
        yield server.base, server.ca_file
