"""SALESORDER-ORDER: Sales orders become ERP orders through integration.sales_orders, whose runs are logged as jobs of
this mapping (Sales → ERP); the mapping itself carries the status of the coupled ERP orders back to Sales (Business
Central's "Sales Order Status" job; integration/rules/sales_order.py). integration.sales_orders finds it by its key."""

from integration.rules import sales_order

from .base import TO, Field, MappingDefinition


class SalesOrderMapping(MappingDefinition):
    key = "sales_order"
    name = "SALESORDER-ORDER"
    erp, crm, direction = "erp.SalesHeader", "crm.SalesOrder", TO
    erp_filter = {"document_type": "order"}
    depends = ("customer", "currency", "item", "resource", "opportunity")
    rules = sales_order.Rules
    fields = (
        Field("status", "status_reason", TO),
        Field("your_reference", "number", TO, match=1, create_only=True),
    )
