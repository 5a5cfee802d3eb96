"""A real p2c process serving Sales's Dataverse Web API (gunicorn, HTTPS with a trustme certificate) on a free
loopback port, on this test run's databases, and a `Transport` signed in to it with client credentials."""

import os
import socket
import ssl
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from tests.concurrency import REPO, child_database_env

CLIENT_ID, CLIENT_SECRET = "p2c-integration", "integration-secret"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def https_server(tmp_path, *, workers=2, env=None):
    """Yield (base URL ``https://localhost:<port>``, CA file) of a gunicorn serving p2c."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    cert_file, key_file, ca_file = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    ca.cert_pem.write_to_path(str(ca_file))
    port = free_port()
    server_env = {**os.environ, **child_database_env(), "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
                  "DJANGO_DEBUG": "true", "PYTHONPATH": str(REPO), **(env or {})}
    log_path = tmp_path / f"gunicorn-{port}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "p2c.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), "--threads", "4", "--certfile", str(cert_file), "--keyfile", str(key_file),
             "--timeout", "120", "--graceful-timeout", "2"],
            cwd=REPO, env=server_env, stdout=log, stderr=subprocess.STDOUT,
        )
        base = f"https://localhost:{port}"
        try:
            for _ in range(300):
                try:
                    httpx.get(f"{base}/api/data/v9.2/", verify=ssl.create_default_context(cafile=str(ca_file)), timeout=2)
                    break
                except httpx.TransportError:
                    if process.poll() is not None:
                        raise RuntimeError(log_path.read_text()) from None
                    time.sleep(0.1)
            yield base, str(ca_file)
        finally:
            process.terminate()
            process.wait(timeout=30)


@dataclass
class Served:
    base: str
    ca_file: str
    other_user_id: object  # a Sales user other than the integration's
    blocker: object  # pytest-django's django_db_blocker: unblock() for committed changes made "by someone else"

    def transport(self, monkeypatch, **options):
        return transport_to(self.base, self.ca_file, monkeypatch, **options)

    def accounts_delete(self):
        from crm.models import Account

        with self.blocker.unblock():
            Account.objects.all().delete()


@contextmanager
def serving(blocker, tmp_path, **options):
    """A server (`https_server`) and an application user, committed in the test databases (outside any test's
    transaction), all taken away afterwards."""
    from django.contrib.auth import get_user_model
    from oauth2_provider.models import AccessToken, Application

    from crm.models import Account, DataverseRequestCount, DeletedRecord, SystemUser

    with blocker.unblock():
        user = application_user()
        other = SystemUser.objects.create(first_name="Someone", last_name="Else", internal_email="else@example.com")
    try:
        with https_server(tmp_path, **options) as (base, ca_file):
            yield Served(base, ca_file, other.pk, blocker)
    finally:
        with blocker.unblock():
            Account.objects.all().delete()
            DeletedRecord.objects.all().delete()
            DataverseRequestCount.objects.all().delete()
            AccessToken.objects.all().delete()
            Application.objects.all().delete()
            SystemUser.objects.filter(pk=other.pk).delete()
            SystemUser.objects.filter(user=user).delete()
            get_user_model().objects.filter(pk=user.pk).delete()


def application_user():
    """The integration's application user at Sales: a login with an OAuth application (client credentials)."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    user = get_user_model().objects.create_superuser("sales-integration", "integration@example.com", None)
    call_command("createapplication", "confidential", "client-credentials", "--user", str(user.pk),
                 "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET, "--name", "p2c integration")
    return user


def transport_to(base, ca_file, monkeypatch, **options):
    from integration.engine.sides.dataverse_http import SalesApiConfig, Transport

    monkeypatch.setenv("SSL_CERT_FILE", ca_file)
    config = SalesApiConfig(url=base, client_id=CLIENT_ID, secret=CLIENT_SECRET, token_url=f"{base}/o/token/",
                            **options).checked()
    return Transport(config)
