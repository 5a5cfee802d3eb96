"""``/api/``: one router per app, the OpenAPI schema and its browsable docs.

Each app mounts its own router here under its label. The integration's endpoints plug in the same way: an
``integration/api/urls.py`` with its router (``table-mappings``, ``couplings``, ``jobs``, …) and one more line in
``APP_ROUTES``.
"""

from django.http import JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Any other address under /api/ (a malformed id, say): a JSON 404 like the rest of the API, not a page."""
    return JsonResponse({"detail": "Not found."}, status=404)


APP_ROUTES = [
    ("crm/", "crm.api.urls"),
    ("erp/", "erp.api.urls"),
    ("integration/", "integration.api.urls"),
]

urlpatterns = [
    *[path(prefix, include(module)) for prefix, module in APP_ROUTES],
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Sign-in for the browsable API and the docs page (session authentication).
    path("auth/", include("rest_framework.urls")),
    re_path(r"", not_found),
]
