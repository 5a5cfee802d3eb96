"""``/api/``: one router per app, the OpenAPI schema and its browsable docs.

Each app mounts its own router here under its label. The integration's endpoints plug in the same way: an
``integration/api/urls.py`` with its router (``table-mappings``, ``couplings``, ``jobs``, …) and one more line in
``APP_ROUTES``.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

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
]
