"""Routes of the integration API, mounted under ``/api/integration/`` by ``p2c/api_urls.py``.

Finance and Operations data integration (integration/fo/api.py): ``templates``, ``projects`` (``POST projects/{id}/run/``),
``project-runs`` (``POST project-runs/{id}/rerun/``). The engine's endpoints (table mappings, couplings, jobs)
register on the same router.
"""

from rest_framework.routers import DefaultRouter

from integration.fo import api as fo_api
from integration.sales_orders import api as availability

from . import configuration, conflicts, views_integration

router = DefaultRouter()
router.register("templates", fo_api.TemplateViewSet, basename="integration-templates")
router.register("projects", fo_api.ProjectViewSet, basename="integration-projects")
router.register("project-runs", fo_api.ProjectRunViewSet, basename="integration-project-runs")
router.register("item-availability", availability.ItemAvailabilityViewSet, basename="integration-item-availability")
router.register("table-mappings", views_integration.TableMappingViewSet, basename="integration-table-mappings")
router.register("field-mappings", views_integration.FieldMappingViewSet, basename="integration-field-mappings")
router.register("value-maps", views_integration.ValueMapViewSet, basename="integration-value-maps")
router.register("value-map-entries", views_integration.ValueMapEntryViewSet, basename="integration-value-map-entries")
router.register("couplings", views_integration.CouplingViewSet, basename="integration-couplings")
router.register("jobs", views_integration.SyncJobViewSet, basename="integration-jobs")
router.register("job-errors", views_integration.SyncJobErrorViewSet, basename="integration-job-errors")
router.register("conflicts", conflicts.ConflictViewSet, basename="integration-conflicts")
router.register("full-sync", views_integration.FullSyncViewSet, basename="integration-full-sync")
router.register("configuration", configuration.ConfigurationViewSet, basename="integration-configuration")

urlpatterns = router.urls
