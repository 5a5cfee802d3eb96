"""Errors the models raise, turned into answers instead of 500s."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from p2c.outcomes import STATE_CODES

MAX_LISTED = 20


class StateConflict(APIException):
    """A request refused by the state of what is stored, not by its shape: 409 with ``detail``, a stable ``code``
    and, when one field is at fault, that field with the message (``{"detail": …, "code": …, "price_level": […]}``)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, message, *, code, field=None):
        body = {"detail": message, "code": code}
        if field:
            body[field] = [message]
        super().__init__(body, code)


def validation_error_detail(exc):
    """A Django ValidationError as DRF's error body: ``{field: [messages]}``, ``non_field_errors`` for the rest."""
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(m) for m in messages]
            for field, messages in exc.message_dict.items()
        }
    return {"non_field_errors": [str(m) for m in exc.messages]}


def validation_error_codes(exc):
    """The codes of a Django ValidationError's messages."""
    if hasattr(exc, "error_dict"):
        return {error.code for errors in exc.error_dict.values() for error in errors}
    return {error.code for error in exc.error_list}


def exception_handler(exc, context):
    """DRF's handler, plus: a model ValidationError is a 400 naming the field (a 409 with its ``code`` when the
    configuration's state refuses it: p2c.outcomes.STATE_CODES, e.g. no number series set up); a delete that related records
    prevent is a 409 listing them; a uniqueness or constraint violation the serializer could not see is a 409.
    """
    if isinstance(exc, DjangoValidationError):
        detail = validation_error_detail(exc)
        codes = validation_error_codes(exc)
        if codes and codes <= STATE_CODES:
            messages = [message for field_messages in detail.values() for message in field_messages]
            return Response({**detail, "detail": " ".join(messages), "code": sorted(codes)[0]},
                            status=status.HTTP_409_CONFLICT)
        return Response(validation_error_detail(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ProtectedError | RestrictedError):
        related = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        listed = [f"{obj._meta.verbose_name} {obj}" for obj in list(related)[:MAX_LISTED]]
        return Response(
            {"detail": gettext("Other records refer to this one, so it cannot be deleted."), "related": listed},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, IntegrityError):
        return Response(
            {"detail": gettext("The change conflicts with stored data: %(exc)s") % {"exc": exc}},
            status=status.HTTP_409_CONFLICT,
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        # A ValidationError raised with a bare list of messages (a query parameter, say): same shape as the rest.
        response.data = {"non_field_errors": response.data}
    return response
