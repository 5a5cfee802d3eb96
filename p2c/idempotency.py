"""``Idempotency-Key`` on POST: a retried request gets the first answer instead of doing the work twice.

The first request with a key stores (key, user, method, path, SHA-256 of the body) before it runs and its
response (status and body) after. A retry with the same key and the same request replays that response, with
``Idempotent-Replayed: true``; the same key with another body, method or path is refused with 422; a retry that
arrives while the first request is still running gets 409. Server errors are not stored, so they can be retried.
Keys are per user, and ``idempotency_keys_purge`` forgets them after ``P2C_IDEMPOTENCY_TTL`` (24 h by default).
"""

import functools
import hashlib
import json
import re
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http.request import RawPostDataException
from django.utils import timezone
from django.utils.translation import gettext
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# A key is 1 to 255 visible ASCII characters (no spaces: a proxy may trim or fold them). The OpenAPI schema states
# this very pattern (p2c.api.schema), and `key_error` applies it.
KEY_PATTERN = rf"^[!-~]{{1,{MAX_KEY_LENGTH}}}$"
DEFAULT_TTL = timedelta(hours=24)


def key_error(key):
    """Why ``key`` is not a valid ``Idempotency-Key`` (a message), or None when it is."""
    if re.fullmatch(KEY_PATTERN, key):
        return None
    return gettext(
        "%(header)s must be 1 to %(max_key_length)s visible ASCII characters (letters, digits, punctuation; no spaces)."
    ) % {"header": HEADER, "max_key_length": MAX_KEY_LENGTH}


def request_fingerprint(request):
    """SHA-256 of the raw body (or, when a parser already consumed it, of the parsed data)."""
    try:
        body = request._request.body
    except RawPostDataException:
        body = json.dumps(request.data, sort_keys=True, default=str).encode()
    return hashlib.sha256(body).hexdigest()


def _error(status_code, detail):
    return Response({"detail": detail}, status=status_code)


def idempotent(handler):
    """Decorate a viewset's POST handler (``create`` or an ``@action``) to honour ``Idempotency-Key``."""

    @functools.wraps(handler)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST" or not request.user.is_authenticated:
            return handler(self, request, *args, **kwargs)
        error = key_error(key)
        if error:
            # A 400 naming the header, as a field error names its field.
            return Response({HEADER: [error]}, status=status.HTTP_400_BAD_REQUEST)
        fingerprint = request_fingerprint(request)
        stored = IdempotencyKey.objects.filter(user=request.user, key=key).first()
        if stored is None:
            try:
                with transaction.atomic():
                    stored = IdempotencyKey.objects.create(
                        user=request.user, key=key, method=request.method, path=request.path,
                        request_hash=fingerprint,
                    )
            except IntegrityError:
                return _error(
                    status.HTTP_409_CONFLICT,
                    gettext("A request with this %(header)s is still being processed.") % {"header": HEADER},
                )
        else:
            if (stored.method, stored.path, stored.request_hash) != (request.method, request.path, fingerprint):
                return _error(
                    status.HTTP_422_UNPROCESSABLE_ENTITY,
                    gettext("This %(header)s was used for a different request; use a new key for a new request.")
                    % {"header": HEADER},
                )
            if stored.status_code is None:
                return _error(
                    status.HTTP_409_CONFLICT,
                    gettext("A request with this %(header)s is still being processed.") % {"header": HEADER},
                )
            response = Response(json.loads(stored.response_body or "null"), status=stored.status_code)
            response["Idempotent-Replayed"] = "true"
            return response

        try:
            response = handler(self, request, *args, **kwargs)
        except Exception:
            stored.delete()
            raise
        if response.status_code >= 500:
            stored.delete()
        else:
            stored.status_code = response.status_code
            stored.response_body = JSONRenderer().render(response.data).decode()
            stored.save(update_fields=["status_code", "response_body"])
        return response

    # Read by the OpenAPI post-processing, which documents the header on exactly these operations.
    wrapper.honours_idempotency_key = True
    return wrapper


class IdempotentCreateMixin:
    """A ModelViewSet whose ``create`` honours ``Idempotency-Key`` (decorate other POST actions with
    ``@idempotent``)."""

    @idempotent
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)


def idempotency_keys_purge(*, older_than=None):
    """Forget the keys stored before ``older_than`` (default: now minus ``P2C_IDEMPOTENCY_TTL``); return how many."""
    if older_than is None:
        older_than = timezone.now() - getattr(settings, "P2C_IDEMPOTENCY_TTL", DEFAULT_TTL)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=older_than).delete()
    return deleted
