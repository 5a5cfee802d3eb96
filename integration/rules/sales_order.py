"""SALESORDER-ORDER (ERP → Sales): the status of an ERP order created from a Sales order flows back to it.

Sales orders become ERP orders through `integration.sales_orders` (not through the engine); once coupled, this
mapping carries the ERP order's status back, as BC's "Sales Order Status" job does: an open order keeps the Sales
order submitted and *pending*, a released one makes it submitted and *in progress*. A Sales order never moves back:
one fulfilled, invoiced (see the POSTEDSALESINV-INV rules) or canceled in Sales keeps its status. Only coupled ERP
orders are read; match-based coupling pairs an ERP order with the Sales order whose number is its *your reference*
(how `integration.sales_orders` creates them), and never creates Sales orders from ERP orders.
"""

from django.utils.translation import gettext_noop

from integration.binder import coupled_ids
from p2c.said import said

from .base import RowError
from .base import Rules as BaseRules

# ERP order status → (Sales order status, status reason).
STATUS_MAP = {
    "open": ("submitted", "Pending"),
    "pending_approval": ("submitted", "Pending"),
    "pending_prepayment": ("submitted", "Pending"),
    "released": ("submitted", "In Progress"),
}
# How far along a Sales order is: a synchronisation never moves it to a lower rank.
STATE_RANK = {"active": 0, "submitted": 1, "fulfilled": 2, "invoiced": 3, "canceled": 3}


class Rules(BaseRules):
    match_creates_new = False  # BC: only with bidirectional sales orders, which this mapping is not

    def source_queryset(self, queryset, *, plan):
        """Only ERP orders coupled to a Sales order: orders entered in the ERP are not Sales's business."""
        if plan.source.key != "erp":
            return queryset
        pair = plan.coupling_pair
        return queryset.filter(pk__in=coupled_ids(pair["erp_model"], to=pair["crm_model"]))

    def coupling_queryset(self, queryset, *, plan):
        """Match-based coupling looks at the ERP orders that name a Sales order (your reference = its number):
        orders entered in the ERP have none, and are not counted as records without a match."""
        if plan.source.key != "erp":
            return queryset
        return queryset.exclude(your_reference="")

    def transfer(self, source, destination, values, *, plan, context):
        if plan.destination.key != "crm":
            raise RowError(said(
                gettext_noop("ERP orders are created from Sales orders by integration.sales_orders, not by this mapping")
            ))
        if destination is None:
            raise RowError(said(gettext_noop(
                "only ERP orders created from Sales orders are synchronised to Sales; this one was not "
                "(create the order in Sales and submit it instead)"
            )))
        values.pop("status_reason", None)
        state, reason = STATUS_MAP.get(source.status, ("submitted", source.get_status_display()))
        current = getattr(destination, "state_code", None)
        if current is not None and STATE_RANK.get(current, 0) > STATE_RANK[state]:
            return  # fulfilled, invoiced or canceled in Sales: the ERP status no longer decides
        values["state_code"] = state
        values["status_reason"] = reason
