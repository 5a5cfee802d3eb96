"""Sales orders from Sales to the ERP (docs/features.md I9): creation (`creation`, `erp_document`), near-real-time
creation (`realtime`), item availability (`availability`, `api`) and their admin (`admin`, imported by crm/admin.py).

The operations are re-exported here for integration/tasks.py, which imports them from this package.
"""

from integration.sales_orders.creation import (
    AUTO_CREATE_SCHEDULE,
    STATUS_SCHEDULE,
    SalesOrderOutcome,
    sales_order_create_in_erp,
    sales_order_erp_order,
    sales_order_schedules_update,
    sales_order_statuses_update,
    sales_orders_create,
    sales_orders_create_automatically_enabled,
    sales_orders_create_in_erp,
    sales_orders_pending,
    sales_orders_uncouple_deleted,
)
from integration.sales_orders.erp_document import CRM_ORDER, ERP_ORDER, SalesOrderError

__all__ = [
    "AUTO_CREATE_SCHEDULE", "CRM_ORDER", "ERP_ORDER", "STATUS_SCHEDULE", "SalesOrderError",
    "SalesOrderOutcome", "sales_order_create_in_erp", "sales_order_erp_order", "sales_order_schedules_update",
    "sales_order_statuses_update", "sales_orders_create", "sales_orders_create_automatically_enabled",
    "sales_orders_create_in_erp", "sales_orders_pending", "sales_orders_uncouple_deleted",
]
