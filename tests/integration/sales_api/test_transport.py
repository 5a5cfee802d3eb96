"""The Dataverse transport against a real HTTP server on a loopback port (stub.py): what is transient is retried,
Retry-After is obeyed, the budget is shared, a deadline names the URL, a 401 refreshes the token once."""

import threading
import time
import uuid

import pytest
from django.core.cache import cache

from integration.engine.sides.dataverse_http import (
    AdaptiveLimit,
    SalesApiConfig,
    SalesApiConfigError,
    SalesRefused,
    SalesUnavailable,
    Transport,
    configured,
)

from .stub import DROP, Stub


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def stub():
    with Stub() as server:
        yield server


def transport(stub, **options):
    config = SalesApiConfig(url=stub.url, client_id="p2c", secret="s3cret", token_url=stub.url + "/token/",
                            **{"deadline": 5.0, "timeout": 2.0, **options})
    return Transport(config.checked(), base_delay=0.05, max_delay=0.2)


def test_transient_faults_are_retried_until_an_answer(stub):
    stub.script = [(503, {}, None), DROP, (502, {}, None), (500, {}, None), (200, {}, {"UserId": "u-1"})]
    assert transport(stub).who_am_i() == "u-1"
    assert len(stub.requests) == 5


def test_the_signed_in_user_is_asked_once_per_transport_and_test_connection_asks_every_time(stub):
    user_id = "00000000-0000-4000-8000-000000000001"
    stub.script = [(200, {}, {"UserId": user_id})] * 3
    sales = transport(stub)
    assert sales.signed_in_user() == sales.signed_in_user() == uuid.UUID(user_id)
    assert len(stub.requests) == 1
    assert sales.who_am_i() == user_id
    assert len(stub.requests) == 2


def test_a_stalled_answer_is_a_timeout_and_retried(stub):
    stub.script = [("stall", 1.5), (200, {}, {"UserId": "u-1"})]
    assert transport(stub, timeout=0.5).who_am_i() == "u-1"
    assert len(stub.requests) == 2


def test_no_request_goes_before_retry_after_has_passed(stub):
    stub.script = [(429, {"Retry-After": "1"}, {"error": {"code": "0x80072322", "message": "Too many"}})]
    sales = transport(stub)
    assert sales.get("WhoAmI", what="test").status_code == 200
    (refused_at, *_), (retried_at, *_) = stub.requests
    assert retried_at - refused_at >= 1.0
    assert sales.last_throttled is not None


def test_retry_after_holds_for_every_worker_sharing_the_cache(stub):
    """A second transport (another worker of the same Sales user) waits for the first's 429 too."""
    stub.script = [(429, {"Retry-After": "1"}, None)]
    first, second = transport(stub), transport(stub)
    refused = threading.Thread(target=lambda: first.get("WhoAmI", what="test"))
    refused.start()
    time.sleep(0.2)  # the 429 is in
    second.get("WhoAmI", what="test")
    refused.join()
    refused_at = stub.requests[0][0]
    assert all(at - refused_at >= 1.0 for at, *_ in stub.requests[1:])


def test_a_fault_lasting_past_the_deadline_fails_naming_the_url_and_what_it_was_doing(stub):
    stub.default = (503, {}, None)
    with pytest.raises(SalesUnavailable) as failure:
        transport(stub, deadline=1.0).get("accounts?$select=name", what="reading accounts")
    message = str(failure.value)
    assert f"{stub.url}/api/data/v9.2/accounts?$select=name" in message and "reading accounts" in message
    assert "503" in message


def test_a_401_refreshes_the_token_once(stub):
    stub.script = [(401, {}, None), (200, {}, {"UserId": "u-1"})]
    sales = transport(stub)
    assert sales.who_am_i() == "u-1"
    assert stub.tokens_issued == 2
    assert [r[3]["Authorization"] for r in stub.requests] == ["Bearer t1", "Bearer t2"]


def test_a_second_401_fails_with_sales_refused_the_credentials(stub):
    stub.default = (401, {}, None)
    with pytest.raises(SalesRefused, match="Sales refused the credentials"):
        transport(stub).who_am_i()
    assert len(stub.requests) == 2


def test_a_token_endpoint_that_says_no_is_refused_credentials(stub):
    stub.token_status = 401
    with pytest.raises(SalesRefused, match="Sales refused the credentials"):
        transport(stub).who_am_i()
    assert stub.requests == []


def test_a_permanent_refusal_is_the_callers_to_read_not_retried(stub):
    stub.script = [(400, {}, {"error": {"code": "0x80040203", "message": "name: too long"}})]
    response = transport(stub).get("accounts", what="test")
    assert response.status_code == 400 and len(stub.requests) == 1


def test_the_budget_is_shared_by_every_worker(stub):
    """Three requests a window of two seconds, two workers: the fourth request waits for the next window."""
    first, second = transport(stub, budget_requests=3, budget_window=2), transport(stub, budget_requests=3,
                                                                                     budget_window=2)
    window_start = (int(time.time()) // 2 + 1) * 2
    time.sleep(max(0.0, window_start - time.time()))  # start at the start of a window
    for sales in (first, second, first, second):
        sales.get("WhoAmI", what="test")
    times = [at for at, *_ in stub.requests]
    assert all(at < window_start + 2 for at in times[:3]) and times[3] >= window_start + 2


def test_concurrency_halves_on_a_429_and_grows_slowly_while_clean():
    limit = AdaptiveLimit(maximum=16, start=8, grow_after=3)
    limit.acquire()
    limit.release(throttled=True)
    assert limit.limit == 4
    for _ in range(3):
        limit.acquire()
        limit.release()
    assert limit.limit == 5
    for _ in range(3):
        limit.acquire()
        limit.release(throttled=True)
    assert limit.limit == 1


def test_no_more_requests_in_flight_than_the_limit(stub):
    stub.script = [("stall", 0.3)] * 6
    sales = transport(stub, max_concurrency=2)
    in_flight, most = [0], [0]
    original = sales.client.request

    def counted(*args, **kwargs):
        in_flight[0] += 1
        most[0] = max(most[0], in_flight[0])
        try:
            return original(*args, **kwargs)
        finally:
            in_flight[0] -= 1

    sales.client.request = counted
    threads = [threading.Thread(target=lambda: sales.get("WhoAmI", what="test")) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 2 and len(stub.requests) == 6


@pytest.mark.parametrize("url", ["http://sales.example.com", "ftp://127.0.0.1", "http://10.0.0.1:8000"])
def test_plain_http_is_refused_but_on_the_loopback_address(url):
    with pytest.raises(SalesApiConfigError, match="https://"):
        SalesApiConfig(url=url, client_id="c", secret="s", token_url="https://login.example.com/token").checked()


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000",
                                 "https://contoso.crm4.dynamics.com"])
def test_https_and_loopback_http_are_accepted(url):
    config = SalesApiConfig(url=url, client_id="c", secret="s", tenant_id="t").checked()
    assert config.api_url == url + "/api/data/v9.2/"


@pytest.mark.django_db  # the assisted set-up's Sales connection is read too
def test_the_environment_wins_over_the_settings_and_the_secret_is_never_shown(settings, monkeypatch):
    settings.SALES_API_URL = "https://settings.example.com"
    settings.SALES_API_CLIENT_ID = "from-settings"
    settings.SALES_API_CLIENT_SECRET = "settings-secret"
    settings.SALES_API_TENANT_ID = "tenant"
    monkeypatch.setenv("SALES_API_URL", "https://env.example.com")
    monkeypatch.setenv("SALES_API_CLIENT_SECRET", "env-secret")
    config = configured()
    assert (config.url, config.client_id, config.secret) == ("https://env.example.com", "from-settings",
                                                              "env-secret")
    assert "env-secret" not in repr(config) and "env-secret" not in str(config)


@pytest.mark.django_db  # the assisted set-up's Sales connection is read too
def test_a_missing_setting_is_named(settings, monkeypatch):
    for name in ("SALES_API_CLIENT_ID", "SALES_API_CLIENT_SECRET", "SALES_API_TOKEN_URL", "SALES_API_TENANT_ID"):
        monkeypatch.delenv(name, raising=False)
        setattr(settings, name, "")
    monkeypatch.setenv("SALES_API_URL", "https://env.example.com")
    with pytest.raises(SalesApiConfigError, match="SALES_API_CLIENT_ID, SALES_API_CLIENT_SECRET"):
        configured()


@pytest.mark.django_db  # the assisted set-up's Sales connection is read too
def test_no_sales_api_url_is_this_database(settings, monkeypatch):
    monkeypatch.delenv("SALES_API_URL", raising=False)
    settings.SALES_API_URL = ""
    assert configured() is None


@pytest.mark.django_db  # the assisted set-up's Sales connection is read too
def test_test_connection_refuses_plain_http_to_another_machine(monkeypatch):
    from django.core.management import CommandError, call_command

    for name, value in (("SALES_API_URL", "http://sales.example.com"), ("SALES_API_TENANT_ID", "t"),
                        ("SALES_API_CLIENT_ID", "c"), ("SALES_API_CLIENT_SECRET", "s3cret")):
        monkeypatch.setenv(name, value)
    with pytest.raises(CommandError, match="https://"):
        call_command("integration_connection", "test")


@pytest.mark.django_db  # the assisted set-up's Sales connection is read too
def test_test_connection_without_a_sales_api_says_sales_is_this_database(settings, monkeypatch):
    from io import StringIO

    from django.core.management import call_command

    monkeypatch.delenv("SALES_API_URL", raising=False)
    settings.SALES_API_URL = ""
    out = StringIO()
    call_command("integration_connection", "test", stdout=out)
    assert "Sales is in this database" in out.getvalue()


def test_a_token_endpoint_that_fails_for_a_while_is_retried(stub):
    stub.token_status = 503
    sales = transport(stub)
    threading.Timer(0.5, lambda: setattr(stub, "token_status", 200)).start()
    stub.script = [(200, {}, {"UserId": "u-1"})]
    assert sales.who_am_i() == "u-1"


def test_a_token_endpoint_that_never_answers_fails_past_the_deadline_naming_it(stub):
    stub.token_status = 503
    with pytest.raises(SalesUnavailable, match=r"token endpoint .*/token/"):
        transport(stub, deadline=1.0).who_am_i()
