"""The OpenAPI schema validates without warnings, the docs page works offline, production settings pass
``check --deploy``."""

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

BASE_DIR = Path(__file__).resolve().parents[2]


def test_spectacular_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    schema = (tmp_path / "schema.yaml").read_text()
    for path in ("/api/crm/accounts/bulk/", "/api/erp/bank-accounts/{no}/", "/api/erp/customers/bulk/"):
        assert f"  {path}:" in schema
    assert "name: Idempotency-Key" in schema


@pytest.mark.django_db
def test_schema_and_docs_need_a_login_and_load_nothing_from_a_cdn(client, superuser):
    assert client.get("/api/schema/").status_code in (401, 403)
    assert client.get("/api/docs/").status_code in (401, 403)
    client.force_login(superuser)
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist" in html
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html


@pytest.mark.django_db
def test_unknown_api_address_is_a_json_404(client, superuser):
    client.force_login(superuser)
    response = client.get("/api/crm/no-such-thing/")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


def test_check_deploy_passes_with_production_settings(tmp_path):
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "".join(secrets.choice(alphabet) for _ in range(50)),
        "DJANGO_ALLOWED_HOSTS": "example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_unauthenticated_is_the_documented_401_naming_the_token_scheme(client, superuser):
    client.force_login(superuser)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    client.logout()
    operations = [op for path in schema["paths"].values() for method, op in path.items() if method != "parameters"]
    assert all("401" in op["responses"] and "403" in op["responses"] for op in operations)
    for headers in ({}, {"HTTP_AUTHORIZATION": "Token not-a-token"}, {"HTTP_AUTHORIZATION": "Basic YTpi"}):
        for url in ("/api/crm/accounts/", "/api/integration/jobs/", "/api/erp/customers/"):
            response = client.get(url, **headers)
            assert response.status_code == 401, (url, headers)
            assert response["WWW-Authenticate"] == "Token" and response.json()["detail"]
