"""Endpoints for machines (integration/health/monitoring.py): /health/ (200 ready, 503 not, JSON naming each check),
/health/live/, and /metrics in Prometheus's text format, refused without the token or an allowed address."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from erp.models import Currency
from integration.health.heartbeats import heartbeat_record
from integration.models import Heartbeat

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-scrape-token"


@pytest.fixture
def alive(db):
    heartbeat_record(kind=Heartbeat.Kind.WORKER, name="celery@one")
    heartbeat_record(kind=Heartbeat.Kind.BEAT, name="beat")


def samples(text):
    """{(name, frozenset(labels)): value} of a scrape."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_health_is_200_when_ready_and_503_naming_what_is_not(client, alive):
    response = client.get("/health/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert {"database:default", "broker", "worker", "beat"} <= set(body["checks"])
    assert all(check["ok"] for check in body["checks"].values())

    Heartbeat.objects.filter(kind="worker").update(seen_at=timezone.now() - timedelta(minutes=10))
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    last_seen = body["checks"]["worker"]["last_seen"]
    assert body["checks"]["worker"] == {
        "ok": False, "alive": 0, "last_seen": last_seen, "error": "worker celery@one silent",
        "gone": [{"name": "celery@one", "state": "silent", "last_seen": last_seen, "stopped_at": None}]}
    assert body["checks"]["beat"]["ok"] and body["checks"]["database:default"]["ok"]
    assert client.get("/health/live/").status_code == 200


def test_health_is_503_when_the_broker_cannot_be_reached(client, alive, monkeypatch):
    from integration import queue

    for name in ("broker_url", "broker_write_url"):  # nothing listens on port 1
        monkeypatch.setattr(queue.celery_app.conf, name, "redis://127.0.0.1:1/0")
    monkeypatch.setattr(queue, "BROKER_TIMEOUT", 0.5)
    response = client.get("/health/")
    assert response.status_code == 503 and response.json()["checks"]["broker"] == {"ok": False}


def test_metrics_are_refused_without_the_token_or_an_allowed_address(client, monkeypatch):
    monkeypatch.delenv("P2C_METRICS_TOKEN", raising=False)
    monkeypatch.delenv("P2C_METRICS_ALLOWED_IPS", raising=False)
    assert client.get("/metrics").status_code == 403  # nothing configured: nobody
    monkeypatch.setenv("P2C_METRICS_TOKEN", TOKEN)
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    monkeypatch.setenv("P2C_METRICS_ALLOWED_IPS", "10.0.0.0/8, not-an-address")
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.1").status_code == 403


# What a WSGI server hands over for header bytes that are not ASCII: each byte as a latin-1 character.
ODD_HEADERS = ["Bearer Ã©", "Bearer \x00\xff\x80\x01", "Bearer " + "\xe9" * 5000, "Bearer", "Bearer ", "\xff\xfe",
               f"Bearer {TOKEN}\xe9", "Basic Ã©"]
ODD_ADDRESSES = ["203.0.113.5", "", "not-an-address", "10.0.0.1\xe9", "\x00", "::1%\xff", "10.1.2.3/8"]


@pytest.mark.parametrize("header", ODD_HEADERS, ids=range(len(ODD_HEADERS)))
def test_metrics_refuse_any_header_and_address_with_403_never_an_error(client, monkeypatch, header):
    monkeypatch.setenv("P2C_METRICS_TOKEN", TOKEN)
    monkeypatch.setenv("P2C_METRICS_ALLOWED_IPS", "10.0.0.0/8, 2001:db8::/32, bad\xe9entry")
    for address in ODD_ADDRESSES:
        response = client.get("/metrics", headers={"Authorization": header}, REMOTE_ADDR=address)
        assert response.status_code == 403, (header, address)


def test_metrics_with_a_token_that_is_not_ascii_compare_it_whole(client, monkeypatch):
    monkeypatch.setenv("P2C_METRICS_TOKEN", "jeton-é")
    monkeypatch.delenv("P2C_METRICS_ALLOWED_IPS", raising=False)
    assert client.get("/metrics", headers={"Authorization": "Bearer jeton-Ã©"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer jeton-é"}).status_code == 200


def test_a_scrape_after_a_sync_shows_its_counts(client, mappings, alive, monkeypatch):
    monkeypatch.setenv("P2C_METRICS_TOKEN", TOKEN)
    Currency.objects.create(code="EUR", iso_code="EUR", description="Euro")
    Currency.objects.create(code="SEK", iso_code="SEK", description="Swedish krona")
    currency_mapping = mappings["CURRENCY"]
    currency_mapping.sync_only_coupled = False  # create the Sales currencies
    currency_mapping.save()
    call_command("sync", "CURRENCY", stdout=StringIO())
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    found = samples(response.content.decode())
    currency = {("mapping", "CURRENCY"), ("direction", "to_integration")}
    assert found[("p2c_sync_records_total", frozenset({*currency, ("result", "inserted")}))] == 2
    assert found[("p2c_sync_records_total", frozenset({*currency, ("result", "failed")}))] == 0
    assert found[("p2c_sync_jobs_total", frozenset({*currency, ("status", "success")}))] == 1
    assert ("p2c_sync_job_duration_seconds_total", frozenset(currency)) in found
    assert found[("p2c_sync_last_job_succeeded", frozenset(currency))] == 1
    assert found[("p2c_sync_records_waiting", frozenset(currency))] == 0
    assert found[("p2c_sync_conflicts_open", frozenset({("mapping", "CURRENCY")}))] == 0
    assert found[("p2c_workers_alive", frozenset())] == 1
    assert found[("p2c_connection_enabled", frozenset())] == 1
