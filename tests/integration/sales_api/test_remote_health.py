"""The health page and `sync_health` show a Sales reached over the Web API (docs/decisions.md#sales-over-http):
reachable, latency, requests used against the budget, the last 429; unreachable is a problem that makes `sync_health`
exit 1."""

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse

from integration.engine.sides.dataverse_http import SalesApiConfig, Transport

from .stub import Stub

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales(monkeypatch):
    cache.clear()
    with Stub() as stub:
        stub.default = (200, {}, {"UserId": "0190aaaa-0000-7000-8000-000000000001"})
        for name, value in (("SALES_API_URL", stub.url), ("SALES_API_TOKEN_URL", stub.url + "/token/"),
                            ("SALES_API_CLIENT_ID", "p2c"), ("SALES_API_CLIENT_SECRET", "s3cret"),
                            ("SALES_API_DEADLINE_SECONDS", "1")):
            monkeypatch.setenv(name, value)
        yield stub
    cache.clear()


@pytest.fixture
def superuser_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def test_the_health_page_shows_the_sales_web_api_reachable_its_budget_and_last_429(sales, superuser_client):
    sales.script = [(429, {"Retry-After": "0"}, None)]
    Transport(SalesApiConfig(url=sales.url, client_id="p2c", secret="s3cret",
                             token_url=sales.url + "/token/").checked()).get("WhoAmI", what="test")
    page = superuser_client.get(reverse("admin:integration_health")).content.decode()
    assert f"Sales (Web API at {sales.url}):" in page
    assert "reachable, " in page and " ms" in page
    assert "3 of 6000 requests used in this 300-second window" in page
    assert "last throttled (429)" in page and "s3cret" not in page


def test_an_unreachable_sales_web_api_is_a_problem_sync_health_names(sales, superuser_client, capsys):
    sales.default = (503, {}, None)
    page = superuser_client.get(reverse("admin:integration_health")).content.decode()
    assert "unreachable" in page and "never throttled (429)" in page
    with pytest.raises(SystemExit) as exited:
        call_command("sync_health", "--problems-only")
    assert exited.value.code == 1
    assert f"Sales's Web API at {sales.url} does not answer: Sales did not answer" in capsys.readouterr().err


def test_without_a_sales_web_api_the_page_says_nothing_of_it(superuser_client, monkeypatch, settings):
    monkeypatch.delenv("SALES_API_URL", raising=False)
    settings.SALES_API_URL = ""
    assert "Web API at" not in superuser_client.get(reverse("admin:integration_health")).content.decode()
