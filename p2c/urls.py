from django.apps import apps
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from p2c.views import language_set

admin.site.site_header = _("p2c administration")
admin.site.site_title = _("p2c administration")
admin.site.index_title = _("Sales, ERP and their integration")

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    # Sales speaks the Dataverse Web API there (crm/dataverse), beside p2c's own API
    re_path(r"^api/data/v9\.[0-2]/", include("crm.dataverse.urls")),
    path("api/", include("p2c.api_urls")),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),  # OAuth 2.0 tokens
    # The admin header's language switch: Django's set_language, the choice kept as the user's (p2c.views).
    path("i18n/setlang/", language_set, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
]

# Readiness, liveness and the Prometheus metrics of the synchronisation (integration/health/monitoring.py), when
# installed.
if apps.is_installed("integration"):
    urlpatterns.append(path("", include("integration.health.urls")))
