"""``/api/``: the list of sections (DRF's root view), one router per app, the OpenAPI schema and its browsable docs.

Each app mounts its own router here under its label. The integration's endpoints plug in the same way: an
``integration/api/urls.py`` with its router (``table-mappings``, ``couplings``, ``jobs``, …) and one more line in
``APP_ROUTES``.
"""

from django.apps import apps
from django.http import JsonResponse
from django.urls import include, path, re_path
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import APIRootView


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Any other address under /api/ (a malformed id, say): a JSON 404 like the rest of the API, not a page."""
    return JsonResponse({"detail": gettext("Not found.")}, status=404)


# The sections of the installed apps (the Sales and ERP apps work without the integration).
APP_ROUTES = [
    (prefix, module) for prefix, module in (
        ("crm/", "crm.api.urls"),
        ("erp/", "erp.api.urls"),
        ("integration/", "integration.api.urls"),
    ) if apps.is_installed(prefix.rstrip("/"))
]


class ApiSectionsView(APIRootView):
    """The sections of the p2c API: the Sales side (``crm``), the ERP (``erp``), the integration (``integration``),
    each listing its endpoints, and the OpenAPI ``schema`` with its ``docs``. Sign in at ``auth/login/`` (or send a
    token) to use them."""

    permission_classes = [AllowAny]  # addresses only, as the README tells them; every section asks for sign-in

    def get(self, request, *args, **kwargs):
        here = request.build_absolute_uri(request.path)
        sections = {prefix.rstrip("/"): here + prefix for prefix, _ in APP_ROUTES}
        for name, url_name in (("schema", "api-schema"), ("docs", "api-docs")):
            sections[name] = reverse(url_name, request=request, format=kwargs.get("format"))
        sections["sign-in"] = here + "auth/login/"
        return Response(sections)

urlpatterns = [
    path("", ApiSectionsView.as_view(), name="api-sections"),
    *[path(prefix, include(module)) for prefix, module in APP_ROUTES],
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Sign-in for the browsable API and the docs page (session authentication).
    path("auth/", include("rest_framework.urls")),
    re_path(r"", not_found),
]
