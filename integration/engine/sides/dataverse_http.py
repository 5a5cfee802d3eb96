"""Requests to a Sales that speaks the Dataverse Web API (docs/decisions.md#sales-over-http), as Dataverse asks its
clients to send them.

- **Transient faults are retried** (429, 5xx, timeouts, connections reset or dropped), with exponential backoff and
  full jitter, until a deadline; past it the request fails with `SalesUnavailable`, naming the URL and what it was
  doing. A transient fault never fails one record.
- **`Retry-After` is obeyed to the second**: the time before which no request may go is kept in the Django cache
  (shared by every worker that shares the cache: Redis in production, `P2C_CACHE_URL`), per Sales user.
- **Concurrency adapts** (`AdaptiveLimit`): halved on a 429, one more after a run of clean answers.
- **A budget of requests** per window (Dataverse's 6,000 per 5 minutes by default) is counted in the cache, by all
  workers together; a request past it waits for the next window.
- **A 401** refreshes the token once; a second one fails with `SalesRefused` ("Sales refused the credentials").
- Other answers (400, 404, 412…) are the caller's to read: they are about one record.

Sign-in is OAuth 2.0 client credentials, either at a token endpoint (``SALES_API_TOKEN_URL``, such as p2c's own
``/o/token/``) or through `msal` at Microsoft Entra ID (``SALES_API_TENANT_ID``), chosen by the configuration.
"""

import os
import random
import ssl
import threading
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext, gettext_noop

from p2c.said import said
from p2c.utils import is_loopback

API_PATH = "api/data/v9.2/"
TRANSIENT_STATUSES = {429, 500, 502, 503, 504}
TRANSIENT_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class SalesApiError(Exception):
    """Sales over HTTP failed as a whole (not one record): the job fails with this message (its ``said``, what it
    means, when it has one: told in the reader's language, p2c.said)."""

    said = None

    @classmethod
    def of(cls, text, /, **params):
        """The error telling ``text`` (marked with ``gettext_noop``) with ``params``, now and when read."""
        meaning = said(text, **params)
        error = cls(str(meaning))
        error.said = meaning
        return error


class SalesApiConfigError(SalesApiError):
    """The configuration of the Sales connection is incomplete or unsafe."""


class SalesUnavailable(SalesApiError):
    """Transient faults lasted past the deadline."""


class SalesRefused(SalesApiError):
    """Sales refused the credentials (a second 401, or the token endpoint said no)."""


# ------------------------------------------------------------------------------------------------------ configuration
def _checked_url(url, what):
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and is_loopback(parts.hostname):
        return url
    raise SalesApiConfigError(
        gettext("%(what)s must be an https:// address (plain http:// only on the loopback address): %(url)s.")
        % {"what": what, "url": url})


@dataclass(frozen=True)
class SalesApiConfig:
    """Where Sales's Web API is and how to sign in. ``secret`` is never shown: its repr hides it."""

    url: str  # the organisation's address, e.g. https://contoso.crm4.dynamics.com (the API is under /api/data/v9.2/)
    client_id: str
    secret: str
    token_url: str = ""  # a token endpoint (client credentials); or
    tenant_id: str = ""  # Microsoft Entra ID's tenant, through msal
    deadline: float = 300.0  # seconds a request keeps being retried through transient faults
    timeout: float = 30.0  # seconds one attempt may take
    max_concurrency: int = 16
    budget_requests: int = 6000  # requests per window, every worker together
    budget_window: int = 300

    def __repr__(self):
        return f"SalesApiConfig(url={self.url!r}, client_id={self.client_id!r}, secret='***')"

    __str__ = __repr__

    @property
    def api_url(self):
        base = self.url if self.url.endswith("/") else self.url + "/"
        return base if base.endswith(API_PATH) else urljoin(base, API_PATH)

    @property
    def user_key(self):
        """Whose limits these are: Dataverse counts them per user (here: per client id at this address)."""
        return f"{urlsplit(self.url).netloc}|{self.client_id}"

    def checked(self):
        """This configuration, or SalesApiConfigError naming what is missing or unsafe."""
        missing = [name for name, value in (("SALES_API_URL", self.url), ("SALES_API_CLIENT_ID", self.client_id),
                                            ("SALES_API_CLIENT_SECRET", self.secret)) if not value]
        if not (self.token_url or self.tenant_id):
            missing.append("SALES_API_TOKEN_URL / SALES_API_TENANT_ID")
        if missing:
            raise SalesApiConfigError(gettext("The Sales connection needs %(names)s.") % {"names": ", ".join(missing)})
        _checked_url(self.url, "SALES_API_URL")
        if self.token_url:
            _checked_url(self.token_url, "SALES_API_TOKEN_URL")
        return self


def configured(setup=None):
    """The Sales connection in force (`sales_connection_effective`: the environment, else the assisted set-up, or
    ``setup``, a ConnectionSetup not saved yet), or None when Sales is this database."""
    def value(name, default=""):
        return (os.environ.get(name) or str(getattr(settings, name, "") or default)).strip()

    from integration.models import sales_connection_effective

    connection = sales_connection_effective(setup)
    if connection is None:
        return None
    return SalesApiConfig(
        url=connection["SALES_API_URL"], client_id=connection["SALES_API_CLIENT_ID"],
        secret=connection["SALES_API_CLIENT_SECRET"], token_url=connection["SALES_API_TOKEN_URL"],
        tenant_id=connection["SALES_API_TENANT_ID"],
        deadline=float(value("SALES_API_DEADLINE_SECONDS", 300)), timeout=float(value("SALES_API_TIMEOUT_SECONDS", 30)),
        max_concurrency=int(value("SALES_API_MAX_CONCURRENCY", 16)),
        budget_requests=int(value("SALES_API_BUDGET_REQUESTS", 6000)),
        budget_window=int(value("SALES_API_BUDGET_WINDOW_SECONDS", 300)),
    ).checked()


def ssl_context():
    """Certificates to trust: ``SSL_CERT_FILE`` (or ``SSL_CERT_DIR``) when set, else the system's and certifi's."""
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


# ------------------------------------------------------------------------------------------------------------- tokens
class TokenEndpoint:
    """Client credentials at a token endpoint (RFC 6749 §4.4), such as p2c's own ``/o/token/``; its transient faults
    retried as the API's are, until the deadline."""

    def __init__(self, config, client, clock=time.time, sleep=time.sleep):
        self.config, self.client, self.clock, self.sleep = config, client, clock, sleep

    def token(self):
        deadline, attempt = self.clock() + self.config.deadline, 0
        while True:
            try:
                response = self.client.post(self.config.token_url, data={"grant_type": "client_credentials"},
                                            auth=(self.config.client_id, self.config.secret),
                                            timeout=self.config.timeout)
                fault = None if response.status_code not in TRANSIENT_STATUSES else _status_text(response)
            except TRANSIENT_ERRORS as exc:
                fault = _error_text(exc)
            if fault is None:
                break
            attempt += 1
            delay = random.uniform(0, min(30.0, 0.5 * 2 ** min(attempt, 16)))
            if self.clock() + delay > deadline:
                raise SalesUnavailable.of(gettext_noop("The token endpoint %(url)s did not answer: %(error)s."),
                                          url=self.config.token_url, error=fault)
            self.sleep(delay)
        if response.status_code in (400, 401, 403):
            raise SalesRefused.of(gettext_noop("Sales refused the credentials (client id %(client_id)s at %(url)s)."),
                                  client_id=self.config.client_id, url=self.config.token_url)
        if response.status_code != 200 or "access_token" not in _json(response):
            raise SalesUnavailable.of(gettext_noop("The token endpoint %(url)s answered %(status)s."),
                                      url=self.config.token_url, status=str(response.status_code))
        return _json(response)["access_token"]


class MicrosoftSignIn:
    """Client credentials at Microsoft Entra ID through msal, for a real Dataverse: the scope is the organisation's
    address with ``/.default``."""

    def __init__(self, config):
        import msal

        self.config = config
        self.app = msal.ConfidentialClientApplication(
            config.client_id, client_credential=config.secret,
            authority=f"https://login.microsoftonline.com/{config.tenant_id}")

    def token(self):
        parts = urlsplit(self.config.url)
        result = self.app.acquire_token_for_client(scopes=[f"{parts.scheme}://{parts.netloc}/.default"])
        if "access_token" not in result:
            raise SalesRefused(gettext("Sales refused the credentials (client id %(client_id)s at %(url)s).")
                               % {"client_id": self.config.client_id, "url": self.config.tenant_id}
                               + " " + str(result.get("error_description") or result.get("error") or ""))
        return result["access_token"]


# ---------------------------------------------------------------------------------------------- limits, shared and own
class AdaptiveLimit:
    """How many requests this process sends at once: halved on a 429 (at least 1), one more after ``grow_after``
    clean answers in a row (at most ``maximum``). `slot()` waits for room."""

    def __init__(self, maximum, start=4, grow_after=20):
        self.maximum, self.limit, self.grow_after = maximum, min(start, maximum), grow_after
        self.in_flight, self.clean = 0, 0
        self.condition = threading.Condition()

    def acquire(self):
        with self.condition:
            while self.in_flight >= self.limit:
                self.condition.wait()
            self.in_flight += 1

    def release(self, *, throttled=False, clean=True):
        with self.condition:
            self.in_flight -= 1
            if throttled:
                self.limit, self.clean = max(1, self.limit // 2), 0
            elif clean:
                self.clean += 1
                if self.clean >= self.grow_after and self.limit < self.maximum:
                    self.limit, self.clean = self.limit + 1, 0
            self.condition.notify_all()


class SharedLimits:
    """What every worker of this Sales user obeys together, in the Django cache: the time before which no request
    may go (``Retry-After``), and the count of requests in the current window of the budget."""

    def __init__(self, config, clock=time.time, sleep=time.sleep):
        self.config, self.clock, self.sleep = config, clock, sleep
        self.prefix = "p2c:sales-api:" + config.user_key

    def not_before(self):
        return cache.get(self.prefix + ":not-before") or 0.0

    def hold_until(self, moment):
        """No request before ``moment`` (a later hold wins)."""
        key = self.prefix + ":not-before"
        if moment > (cache.get(key) or 0.0):
            cache.set(key, moment, timeout=int(moment - self.clock()) + 60)

    def wait_turn(self, deadline):
        """Sleep until Retry-After has passed and the budget has room; False if that is past ``deadline``."""
        while True:
            now = self.clock()
            wait = self.not_before() - now
            if wait > 0:
                if now + wait > deadline:
                    return False
                self.sleep(wait)
                continue
            window = int(now // self.config.budget_window)
            key = f"{self.prefix}:budget:{window}"
            cache.add(key, 0, timeout=self.config.budget_window * 2)
            try:
                used = cache.incr(key)
            except ValueError:  # evicted between add and incr
                continue
            if used <= self.config.budget_requests:
                return True
            next_window = (window + 1) * self.config.budget_window
            if next_window > deadline:
                return False
            self.sleep(next_window - now)

    def throttled_at(self, moment):
        cache.set(self.prefix + ":last-429", moment, timeout=7 * 86400)

    def last_throttled(self):
        return cache.get(self.prefix + ":last-429")

    def used(self):
        window = int(self.clock() // self.config.budget_window)
        return cache.get(f"{self.prefix}:budget:{window}") or 0


# ---------------------------------------------------------------------------------------------------- the transport
class Transport:
    """Requests to one Sales Web API, signed in, limited and retried as the module says. Thread-safe: a side's
    worker threads share one."""

    def __init__(self, config, *, clock=time.time, sleep=time.sleep, base_delay=0.5, max_delay=30.0):
        self.config = config
        self.client = httpx.Client(verify=ssl_context(), timeout=config.timeout, trust_env=False,
                                   headers={"OData-Version": "4.0", "OData-MaxVersion": "4.0",
                                            "Accept": "application/json"})
        self.sign_in = MicrosoftSignIn(config) if config.tenant_id and not config.token_url \
            else TokenEndpoint(config, self.client, clock, sleep)
        self.limits = SharedLimits(config, clock, sleep)
        self.limit = AdaptiveLimit(config.max_concurrency)
        self.clock, self.sleep = clock, sleep
        self.base_delay, self.max_delay = base_delay, max_delay
        self._token, self._token_lock = None, threading.Lock()
        self._user_id = None  # signed_in_user: asked once, for this login's life
        self.last_throttled = None  # when Sales last answered 429 (the health page)
        self.requests_sent = 0
        self._count_lock = threading.Lock()  # a side's threads send at once (an increment is no atomic step)

    def close(self):
        self.client.close()

    def url(self, path):
        return path if path.startswith(("http://", "https://")) else urljoin(self.config.api_url, path)

    def _bearer(self, refresh=False, stale=None):
        with self._token_lock:
            if self._token is None or (refresh and self._token == stale):
                self._token = self.sign_in.token()
            return self._token

    def request(self, method, path, *, what, headers=None, **options):
        """The answer to ``method path`` (a path under the API, or a link Sales gave), once no transient fault is in
        the way; ``what``: what it is for, in words, for the message when it fails."""
        url = self.url(path)
        deadline = self.clock() + self.config.deadline
        attempt, refreshed, last_fault = 0, False, None
        while True:
            token = self._bearer()
            self.limit.acquire()
            # Retry-After and the budget checked last, just before sending: a thread that waited for a slot
            # meanwhile sees a 429 another thread met.
            if not self.limits.wait_turn(deadline):
                self.limit.release(clean=False)
                raise self._unavailable(url, what, last_fault)
            response = None
            try:
                with self._count_lock:
                    self.requests_sent += 1
                response = self.client.request(method, url, headers={**(headers or {}),
                                                                     "Authorization": f"Bearer {token}"}, **options)
            except TRANSIENT_ERRORS as exc:
                last_fault = _error_text(exc)
            throttled = response is not None and response.status_code == 429
            if throttled:
                self.last_throttled = self.clock()
                self.limits.throttled_at(self.last_throttled)
                self.limits.hold_until(self.clock() + _retry_after(response))
            self.limit.release(throttled=throttled,
                               clean=response is not None and response.status_code not in TRANSIENT_STATUSES)
            if response is not None and response.status_code == 401:
                if refreshed:
                    raise SalesRefused.of(gettext_noop("Sales refused the credentials (%(url)s, while %(what)s)."),
                                          url=url, what=what)
                refreshed = True
                self._bearer(refresh=True, stale=token)
                continue
            if response is not None and response.status_code not in TRANSIENT_STATUSES:
                return response
            if response is not None:
                last_fault = _status_text(response)
            attempt += 1
            if not throttled:  # a 429 waits its Retry-After in wait_turn; other faults back off with jitter
                delay = random.uniform(0, min(self.max_delay, self.base_delay * 2 ** min(attempt, 16)))
                if self.clock() + delay > deadline:
                    raise self._unavailable(url, what, last_fault)
                self.sleep(delay)

    def _unavailable(self, url, what, fault):
        return SalesUnavailable.of(
            gettext_noop("Sales did not answer %(url)s in %(seconds)s seconds while %(what)s: %(fault)s."),
            url=url, seconds=int(self.config.deadline), what=what,
            fault=fault or said(gettext_noop("no room in the request budget")))

    def get(self, path, *, what, **options):
        return self.request("GET", path, what=what, **options)

    def signed_in_user(self):
        """`who_am_i` as a UUID, asked once for this transport: its login, and so its Sales user, never changes
        (other credentials make another transport), so a poll that finds changes need not ask again. Test connection
        asks `who_am_i` itself, every time."""
        if self._user_id is None:
            self._user_id = uuid.UUID(str(self.who_am_i()))
        return self._user_id

    def who_am_i(self):
        """The Sales user this connection signs in as (WhoAmI's ``UserId``)."""
        response = self.get("WhoAmI", what=gettext("asking who the integration signs in as"))
        user_id = _json(response).get("UserId") if response.status_code == 200 else None
        if not user_id:
            raise SalesApiError(gettext("Sales did not say who the integration signs in as: %(answer)s.")
                                % {"answer": answer_message(response)})
        return user_id


@dataclass(frozen=True)
class RemoteHealth:
    """The health page's view of a Sales over the Web API: whether it answers ``WhoAmI`` now and how fast, the
    requests of the budget's current window, every worker together, and when Sales last answered 429."""

    url: str
    reachable: bool
    message: str = ""
    latency_ms: int | None = None
    used: int = 0
    budget: int = 0
    window: int = 0
    last_throttled: object = None  # an aware datetime, or None


def remote_health(deadline=5.0):
    """`RemoteHealth` of the configured Sales Web API, or None when Sales is this database."""
    from datetime import UTC, datetime

    try:
        config = configured()
    except SalesApiConfigError as exc:
        return RemoteHealth(url=os.environ.get("SALES_API_URL", "") or str(getattr(settings, "SALES_API_URL", "")),
                            reachable=False, message=str(exc))
    if config is None:
        return None
    from dataclasses import replace

    transport = Transport(replace(config, deadline=deadline))
    started = time.monotonic()
    try:
        transport.who_am_i()
        reachable, message = True, ""
    except SalesApiError as exc:
        reachable, message = False, str(exc)
    finally:
        transport.close()
    latency = int((time.monotonic() - started) * 1000)
    last = transport.limits.last_throttled()
    return RemoteHealth(url=config.url, reachable=reachable, message=message,
                        latency_ms=latency if reachable else None, used=transport.limits.used(),
                        budget=config.budget_requests, window=config.budget_window,
                        last_throttled=datetime.fromtimestamp(last, tz=UTC) if last else None)


def _retry_after(response):
    try:
        return max(0.0, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


def _json(response):
    try:
        return response.json()
    except ValueError:
        return {}


def answer_message(response):
    """Sales's own words for a refused request (Dataverse's ``error.message``), or its status."""
    body = _json(response)
    message = body.get("error", {}).get("message") if isinstance(body, dict) else None
    return message or _status_text(response)


def _status_text(response):
    return f"HTTP {response.status_code} {response.reason_phrase}".strip()


def _error_text(exc):
    return f"{type(exc).__name__}: {exc}".rstrip(": ")
