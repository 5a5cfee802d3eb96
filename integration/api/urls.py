"""Routes of the integration API, mounted under ``/api/integration/`` by ``p2c/api_urls.py``.

Finance and Operations data integration: ``templates``, ``projects`` (``POST projects/{id}/run/``),
``project-runs`` (``POST project-runs/{id}/rerun/``). The engine's endpoints (table mappings, couplings, jobs)
register on the same router.
"""

from rest_framework.routers import DefaultRouter

from . import availability, views

router = DefaultRouter()
router.register("templates", views.TemplateViewSet, basename="integration-templates")
router.register("projects", views.ProjectViewSet, basename="integration-projects")
router.register("project-runs", views.ProjectRunViewSet, basename="integration-project-runs")
router.register("item-availability", availability.ItemAvailabilityViewSet, basename="integration-item-availability")

urlpatterns = router.urls
