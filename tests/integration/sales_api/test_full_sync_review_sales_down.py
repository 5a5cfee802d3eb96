"""The full synchronisation's review and Start read Sales (its recommendations) over the Web API when Sales is
remote (docs/decisions.md#sales-over-http): a Sales that does not answer (a closed port, or 503 on every request) is
told as an error naming its URL, on the review page, at Start, in the API and in the command; nothing is started."""

import socket
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import reverse

from integration.full_sync.review import SalesNotAnswering
from integration.full_sync.run import full_sync_start
from integration.models import FullSyncRun

from .stub import Stub

pytestmark = pytest.mark.django_db

REVIEW = "admin:integration_full_sync_review"


def closed_port_url():
    with socket.socket() as sock:  # a port nothing listens on once this socket is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(params=["closed port", "503"])
def sales_down(request, monkeypatch, mappings):
    cache.clear()
    with Stub() as stub:
        stub.default = (503, {}, None)
        stub.token_status = 503
        url = closed_port_url() if request.param == "closed port" else stub.url
        for name, value in (("SALES_API_URL", url), ("SALES_API_TOKEN_URL", url + "/token/"),
                            ("SALES_API_CLIENT_ID", "p2c"), ("SALES_API_CLIENT_SECRET", "s3cret"),
                            ("SALES_API_DEADLINE_SECONDS", "0.3")):
            monkeypatch.setenv(name, value)
        yield url
    cache.clear()


@pytest.fixture
def superuser_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def test_a_sales_that_does_not_answer_is_told_on_the_review_page_and_start_refuses(sales_down, superuser_client):
    page = superuser_client.get(reverse(REVIEW))
    assert page.status_code == 200
    said = [str(m) for m in page.context["messages"]]
    assert len(said) == 1 and said[0].startswith(f"Sales at {sales_down} did not answer")
    assert said[0].count("did not answer") == 2  # then the transport's reason: what did not answer, and why
    assert page.context["lines"] == []

    answer = superuser_client.post(reverse(REVIEW), {"start": "Start"}, follow=True)
    said = [str(m) for m in answer.context["messages"]]
    assert any(m.startswith(f"Sales at {sales_down} did not answer") for m in said)
    assert not FullSyncRun.objects.exists()


def test_the_operation_the_api_and_the_command_refuse_naming_the_sales_url(sales_down, superuser_client):
    with pytest.raises(SalesNotAnswering) as refused:
        full_sync_start()
    assert refused.value.message.startswith(f"Sales at {sales_down} did not answer")
    assert refused.value.code == "sales_unavailable"

    api = superuser_client.get("/api/integration/full-sync/")
    assert api.status_code == 503 and api.json()["code"] == "sales_unavailable"
    assert sales_down in api.json()["detail"]

    with pytest.raises(CommandError, match=f"Sales at {sales_down} did not answer"):
        call_command("full_sync", "--start", stdout=StringIO())
    with pytest.raises(CommandError, match=f"Sales at {sales_down} did not answer"):
        call_command("full_sync", stdout=StringIO())  # the review alone reads Sales too
    assert not FullSyncRun.objects.exists()
