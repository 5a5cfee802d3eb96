"""Answers the API gives before a view runs."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext

from p2c.limits import body_limit_setting, too_large_message
from p2c.text import shown, text_fault

# The Dataverse Web API (crm/dataverse) answers these itself, in Dataverse's error shape.
DATAVERSE_PATH = "/api/data/"


def too_large_response():
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return JsonResponse(
        {
            "detail": gettext("The request body is larger than the limit of %(filesizeformat)s (%(limit)s bytes).")
            % {"filesizeformat": filesizeformat(limit), "limit": limit},
            "code": "request_too_large",
            "limit": limit,
        },
        status=413,
    )


class ApiBodySizeMiddleware:
    """A JSON 413 naming the limit for an API request whose body exceeds ``DATA_UPLOAD_MAX_MEMORY_SIZE``
    (Django's own answer is an HTML 400 page, and only once something reads the body)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/") and not request.path.startswith(DATAVERSE_PATH):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            # A path with a limit of its own (P2C_API_BODY_LIMITS) says it, as its other doors do.
            setting = body_limit_setting(request.path)
            if setting is not None and length > getattr(settings, setting):
                return JsonResponse({"detail": too_large_message(setting), "code": "too_large",
                                     "limit": getattr(settings, setting), "setting": setting}, status=413)
            if limit is not None and length > limit:
                return too_large_response()
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig) and request.path.startswith("/api/") \
                and not request.path.startswith(DATAVERSE_PATH):
            return too_large_response()
        return None


class ApiQueryTextMiddleware:
    """A 400 naming the parameter for an API query string holding text that cannot be stored (p2c.text): a NUL
    (``%00``; PostgreSQL refuses it in anything the API stores or looks up, and the schema's text patterns say so,
    p2c.api.schema), or a lone surrogate, which Django's decoding of a query string never makes but the check
    refuses all the same."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/") and not request.path.startswith(DATAVERSE_PATH):
            for name, values in request.GET.lists():
                if text_fault(name) or any(text_fault(value) for value in values):
                    message = gettext("Text may not hold a NUL character (\\u0000) or a lone surrogate "
                                      "(\\ud800-\\udfff).")
                    return JsonResponse({shown(name): [message]}, status=400)
        return self.get_response(request)
