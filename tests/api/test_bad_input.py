"""Bad input stays a clear error (docs/decisions.md#bounded-and-total-doors): text that cannot be stored, date filters
out of range, bodies too large, production settings without a secret key."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from integration.models import IntegrationTableMapping, SyncJob

BASE_DIR = Path(__file__).resolve().parent.parent.parent
SURROGATE = '"\\ud800"'  # JSON text: a lone surrogate escape, which Python decodes into an unencodable str


def send(api, method, url, raw_json):
    """Send ``raw_json`` as it is, with ``$S`` standing for the lone surrogate."""
    return api.generic(method, url, raw_json.replace("$S", SURROGATE), content_type="application/json")


def test_a_lone_surrogate_in_a_filter_is_refused_and_nothing_is_saved(api, mappings):
    mapping = mappings["CUSTOMER"]
    url = f"/api/integration/table-mappings/{mapping.pk}/"
    response = send(api, "PATCH", url, '{"erp_filter": {"name": $S}}')
    assert response.status_code == 400
    assert "body.erp_filter.name" in response.json()["detail"] and "surrogate" in response.json()["detail"]
    mapping.refresh_from_db()
    assert mapping.erp_filter == {"blocked": ""}
    assert api.get(url).status_code == 200 and api.get("/api/integration/table-mappings/").status_code == 200


@pytest.mark.parametrize("raw", ['{"name": "A", "customer_type_code": $S}',
                                 '{"name": "A", "description": "NUL \\u0000 here"}',
                                 '{"name": "A", $S: 1}',
                                 '[{"name": $S}]'])
def test_unstorable_text_anywhere_in_a_body_is_a_400(api, db, raw):
    response = send(api, "POST", "/api/crm/accounts/", raw)
    assert response.status_code == 400
    assert "cannot be stored" in response.json()["detail"]


def test_a_lone_surrogate_in_an_operation_is_a_400(api, mappings):
    url = f"/api/integration/table-mappings/{mappings['CUSTOMER'].pk}/synchronize/"
    response = send(api, "POST", url, '{"direction": $S}')
    assert response.status_code == 400 and "body.direction" in response.json()["detail"]
    assert not SyncJob.objects.exists()


def test_every_collection_refuses_unstorable_text(api, db):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    posts = [path for path, operations in schema["paths"].items()
             if "post" in operations and "{" not in path and not path.startswith("/api/auth")]
    assert len(posts) > 10
    for path in posts:
        response = send(api, "POST", path, '{"name": $S}')
        assert response.status_code == 400, path
        assert "cannot be stored" in response.json()["detail"], path


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "2020-01-01T00:00:00+20:00",
                                   "9999-12-31T23:00:00-05:00", "not a date"])
def test_job_date_filters_out_of_range_are_a_400(api, db, value):
    for name in ("created_after", "created_before"):
        response = api.get("/api/integration/jobs/", {name: value})
        if value == "2020-01-01T00:00:00+20:00":  # a real instant, 2019-12-31 04:00 UTC
            assert response.status_code == 200
        else:
            assert response.status_code == 400 and name in response.json()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_too_large_is_a_json_413_naming_the_limit(api, db):
    body = json.dumps({"name": "x" * 2000})
    response = send(api, "POST", "/api/crm/accounts/", body)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json()["limit"] == 1000 and "1000 bytes" in response.json()["detail"]
    assert send(api, "POST", "/api/crm/accounts/", json.dumps({"name": "small"})).status_code == 201


def test_a_10_mb_body_is_a_413_with_the_default_limit(api, db):
    response = send(api, "POST", f"/api/integration/table-mappings/{0}/", json.dumps({"name": "x" * 10_000_000}))
    assert response.status_code == 413 and "2.5" in response.json()["detail"]
    assert not IntegrationTableMapping.objects.exists()


def _manage(*args, **env):
    environ = {key: value for key, value in os.environ.items() if key not in ("DJANGO_SECRET_KEY", "DJANGO_DEBUG")}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env={**environ, **env},
                          capture_output=True, text=True, timeout=120)


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = _manage("check", "--deploy", DJANGO_DEBUG="false", DJANGO_ALLOWED_HOSTS="example.com")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
    debug = _manage("check")
    assert debug.returncode == 0, debug.stderr
