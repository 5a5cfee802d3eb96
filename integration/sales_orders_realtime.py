"""Old path of integration.sales_orders.realtime, kept for integration/apps.py (another branch owns it): drop it
once apps.py imports integration.sales_orders.realtime."""

from integration.sales_orders.realtime import *  # noqa: F403
