"""The names of the integration's Celery tasks, declared once.

`integration.tasks` registers each task under its name here, and whoever enqueues or schedules one
(`integration.queue`, the beat schedules in `integration.background.schedules` and `integration.sales_orders`) uses
the same constant. The values are stored in django-celery-beat's table (PeriodicTask.task) of existing databases:
never change one. `p2c.settings` (which may not import the integration) names the two fixed beat tasks as text; a test
checks that they are names declared here."""

RUN_PROJECT = "integration.run_project"
CLEANUP_PROJECT_RUNS = "integration.cleanup_project_runs"
SYNC_LOG_CLEANUP = "integration.sync_log_cleanup"
SYNCHRONIZE_MAPPING = "integration.synchronize_mapping"
COUPLE_BY_MATCH = "integration.couple_by_match"
FULL_SYNC_ADVANCE = "integration.full_sync_advance"
FULL_SYNC_LINE = "integration.full_sync_line"
SYNC_PARTITIONS = "integration.sync_partitions"
CLOSE_STOPPED_RUNS = "integration.close_stopped_runs"
SALES_CHANGES_POLL = "integration.sales_changes_poll"
CREATE_SALES_ORDERS = "integration.create_sales_orders"
UPDATE_SALES_ORDER_STATUSES = "integration.update_sales_order_statuses"

ALL = (RUN_PROJECT, CLEANUP_PROJECT_RUNS, SYNC_LOG_CLEANUP, SYNCHRONIZE_MAPPING, COUPLE_BY_MATCH, FULL_SYNC_ADVANCE,
       FULL_SYNC_LINE, SYNC_PARTITIONS, CLOSE_STOPPED_RUNS, SALES_CHANGES_POLL, CREATE_SALES_ORDERS,
       UPDATE_SALES_ORDER_STATUSES)
