""""Create sales orders automatically" (docs/features.md I9): a submitted Sales order becomes an ERP order within
seconds.

`sales_orders_written` receives ``p2c.records.records_written`` (`connect` is called from ``integration.apps``). It runs no query
while the write happens: it notes the Sales orders written as submitted and not yet sent to the ERP, and when the
transaction commits (nothing if it rolls back), checks the connection setup once and enqueues
``create_sales_orders_task`` with their ids. Writes made as the integration user are the integration's own (it
records *sent to back office on*) and are ignored. The task (`integration.sales_orders`) is idempotent: an order
created meanwhile is not created twice, and one that fails is logged and picked up again by the periodic run ("Auto Create Sales Orders", a django-celery-beat task that
`connection_setup_saved` keeps in step with the switch, as BC creates its job queue entry).
"""

import logging

from django.db import transaction
from django.db.models.signals import post_save

from crm.models import SalesOrder
from integration import queue
from integration.models import ConnectionSetup
from integration.sales_orders.creation import sales_order_schedules_update
from p2c.records import records_written

logger = logging.getLogger("p2c.integration")


def connect():
    """Connect the receivers (called once from ``integration.apps``)."""
    records_written.connect(sales_orders_written, dispatch_uid="integration.sales_orders")
    post_save.connect(connection_setup_saved, sender=ConnectionSetup, dispatch_uid="integration.sales_orders.setup")


def connection_setup_saved(sender, instance=None, raw=False, **kwargs):
    """The switches changed, maybe: create, enable or disable the recurring sales order jobs after commit."""
    if raw:
        return

    def update():
        try:
            sales_order_schedules_update()
        except Exception:
            logger.exception("The recurring sales order jobs could not be updated")

    transaction.on_commit(update)


def sales_orders_written(sender, instances=None, queryset=None, created=False, writer=None, **kwargs):
    if sender is not SalesOrder:
        return
    if instances is not None:
        ids = [o.pk for o in instances
               if o.state_code == SalesOrder.State.SUBMITTED and o.sent_to_back_office_on is None]
        if ids:
            transaction.on_commit(lambda: _enqueue(ids=ids, queryset=None, writer=writer),
                                  using=instances[0]._state.db if instances else None)
    elif queryset is not None:
        transaction.on_commit(lambda: _enqueue(ids=None, queryset=queryset, writer=writer), using=queryset.db)


def _enqueue(*, ids, queryset, writer):
    """After commit: enqueue the creation of the orders when the switch is on. Never breaks the committed write."""
    try:
        setup = ConnectionSetup.objects.filter(pk=1).values(
            "is_enabled", "create_sales_orders_automatically", "integration_user_id").first()
        if not setup or not (setup["is_enabled"] and setup["create_sales_orders_automatically"]):
            return
        if writer is not None and writer == setup["integration_user_id"]:
            return
        if ids is None:
            ids = list(queryset.filter(state_code=SalesOrder.State.SUBMITTED, sent_to_back_office_on__isnull=True)
                       .values_list("pk", flat=True))
        if not ids:
            return
        queue.sales_orders_create_enqueue(order_ids=ids)
    except Exception:
        logger.exception("Automatic creation of ERP sales orders could not be enqueued")
