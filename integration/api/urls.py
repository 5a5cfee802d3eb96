"""Routes of the integration API, mounted under ``/api/integration/`` by ``p2c/api_urls.py``.

Finance and Operations data integration (integration/fo/api.py): ``templates``, ``projects`` (``POST projects/{id}/run/``),
``project-runs`` (``POST project-runs/{id}/rerun/``). The engine's endpoints (table mappings, couplings, jobs)
register on the same router.
"""

from rest_framework.routers import DefaultRouter

from integration.fo import api as fo_api
from integration.sales_orders import api as availability

from . import configuration, conflicts, mappings

router = DefaultRouter()
router.register("templates", fo_api.TemplateViewSet, basename="integration-templates")
router.register("projects", fo_api.ProjectViewSet, basename="integration-projects")
router.register("project-runs", fo_api.ProjectRunViewSet, basename="integration-project-runs")
router.register("item-availability", availability.ItemAvailabilityViewSet, basename="integration-item-availability")
router.register("table-mappings", mappings.TableMappingViewSet, basename="integration-table-mappings")
router.register("field-mappings", mappings.FieldMappingViewSet, basename="integration-field-mappings")
router.register("value-maps", mappings.ValueMapViewSet, basename="integration-value-maps")
router.register("value-map-entries", mappings.ValueMapEntryViewSet, basename="integration-value-map-entries")
router.register("couplings", mappings.CouplingViewSet, basename="integration-couplings")
router.register("jobs", mappings.SyncJobViewSet, basename="integration-jobs")
router.register("job-errors", mappings.SyncJobErrorViewSet, basename="integration-job-errors")
router.register("conflicts", conflicts.ConflictViewSet, basename="integration-conflicts")
router.register("full-sync", mappings.FullSyncViewSet, basename="integration-full-sync")
router.register("configuration", configuration.ConfigurationViewSet, basename="integration-configuration")

urlpatterns = router.urls
