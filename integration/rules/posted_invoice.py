"""POSTEDSALESINV-INV: posted ERP invoices become Sales invoices of the account coupled to the sell-to customer.

An invoice posted from an ERP order that came from a Sales order names that Sales order, and the Sales order
becomes *invoiced* (docs/features.md I9): the invoice's *order no.* leads to the ERP order, whose coupling leads to the
Sales order. When the ERP order is gone already (BC deletes an order once it is fully invoiced), the invoice's *your
reference*, copied from the order, which has it from the Sales order number, leads to a Sales order sent to the ERP.
Everything is read once per chunk, through the sides (reads.py), and the orders are updated in one write.
"""

from crm.models import SalesOrder
from erp.models import SalesHeader
from integration.binder import counterparts

from .base import Rules as BaseRules
from .reads import key, rows_of, rows_where, write

INVOICED_REASON = "Invoiced"


class Rules(BaseRules):
    def source_fields(self, *, plan):
        return ("order_no", "your_reference") if plan.destination.key == "crm" else ()

    def prepare_chunk(self, rows, *, plan):
        if plan.destination.key != "crm":
            return {}
        order_nos = {row.order_no for row in rows if row.order_no}
        headers = {key(plan, SalesHeader, row): row["no"]
                   for row in rows_where(plan, SalesHeader, "no", order_nos, ["no"], document_type=["order"])}
        by_no = {}
        if headers:
            for erp_id, crm_id in counterparts("erp.SalesHeader", headers, to="crm.SalesOrder").items():
                by_no[headers[erp_id]] = crm_id
        references = {row.your_reference for row in rows
                      if row.your_reference and (not row.order_no or row.order_no not in by_no)}
        by_reference = {row["number"]: key(plan, SalesOrder, row)
                        for row in rows_where(plan, SalesOrder, "number", references, ["number", "sent_to_back_office_on"])
                        if row["sent_to_back_office_on"] is not None}
        return {"by_no": by_no, "by_reference": by_reference}

    def transfer(self, source, destination, values, *, plan, context):
        if plan.destination.key != "crm" or not context:
            return
        order_id = context["by_no"].get(source.order_no) or context["by_reference"].get(source.your_reference)
        if order_id is not None:
            values["sales_order_id"] = order_id

    def after_write(self, pairs, *, plan):
        if plan.destination.key != "crm":
            return
        order_ids = {invoice.sales_order_id for _, invoice in pairs if invoice.sales_order_id}
        if not order_ids:
            return
        done = {SalesOrder.State.INVOICED, SalesOrder.State.CANCELED}
        write(plan, SalesOrder, updates=[
            (order_id, {"state_code": SalesOrder.State.INVOICED, "status_reason": INVOICED_REASON})
            for order_id, row in rows_of(plan, SalesOrder, order_ids, ["state_code"]).items()
            if row["state_code"] not in done])
