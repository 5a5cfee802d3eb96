"""The integration's tables, after Business Central's CRM integration (tables 5330, 5335, 5336, 5331, 5338, 5339).

One module per kind of table; every model is re-exported here so `from integration.models import X` keeps working.
Directions use BC's words: *to integration table* is ERP → Sales, *from integration table* is Sales → ERP.
"""

from integration.models.couplings import Coupling, CouplingIntent, FailedInsert, SyncConflict
from integration.models.cursors import SideCursor
from integration.models.fo import (
    IntegrationProject,
    IntegrationProjectRun,
    IntegrationProjectTask,
    IntegrationProjectTaskDefault,
    IntegrationProjectTaskRun,
    IntegrationTemplate,
    IntegrationTemplateTask,
)
from integration.models.full_sync import FullSyncLine, FullSyncRun
from integration.models.health import AlertState, Heartbeat
from integration.models.history import ConfigurationChange, ConfigurationChangeSet
from integration.models.jobs import RealtimeChange, SyncJob, SyncJobError, SyncJobRecord
from integration.models.mappings import (
    ConnectionSetup,
    Direction,
    IntegrationFieldMapping,
    IntegrationTableMapping,
    SalesLocation,
    SalesSignIn,
    SyncResult,
    ValueMap,
    ValueMapEntry,
    sales_api_environment,
    sales_connection_effective,
)
from integration.models.partitions import SyncPartition

__all__ = [
    "AlertState", "ConfigurationChange", "ConfigurationChangeSet", "ConnectionSetup", "Coupling", "CouplingIntent", "Direction", "FailedInsert",
    "FullSyncLine", "FullSyncRun", "Heartbeat", "IntegrationFieldMapping",
    "IntegrationProject", "IntegrationProjectRun", "IntegrationProjectTask", "IntegrationProjectTaskDefault",
    "IntegrationProjectTaskRun", "IntegrationTableMapping", "IntegrationTemplate", "IntegrationTemplateTask",
    "RealtimeChange", "SalesLocation", "SalesSignIn", "SideCursor", "SyncConflict", "SyncJob", "SyncJobError", "SyncJobRecord",
    "SyncPartition", "SyncResult", "ValueMap", "ValueMapEntry",
    "sales_api_environment", "sales_connection_effective",
]
