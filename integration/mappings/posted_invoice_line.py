"""POSTEDSALESLINE-INV: the lines of posted ERP sales invoices → Sales invoice lines, run under their invoice's
mapping (integration/rules/posted_invoice_line.py)."""

from integration.rules import posted_invoice_line

from .base import TO, Field, MappingDefinition


class PostedInvoiceLineMapping(MappingDefinition):
    key = "posted_invoice_line"
    name = "POSTEDSALESLINE-INV"
    erp, crm, direction = "erp.SalesInvoiceLine", "crm.InvoiceDetail", TO
    sync_only_coupled = False
    parent = "posted_invoice"
    depends = ("posted_invoice",)
    rules = posted_invoice_line.Rules
    fields = (
        Field("invoice", "invoice", TO, match=1),
        Field("line_no", "line_number", TO, match=1),
        Field("description", "description", TO),
        Field("quantity", "quantity", TO),
        Field("line_discount_amount", "manual_discount_amount", TO),
        Field("unit_price", "price_per_unit", TO),
        Field("", "is_price_overridden", TO, constant="true"),
        Field("amount", "base_amount", TO),
        Field("amount_including_vat", "extended_amount", TO),
    )
