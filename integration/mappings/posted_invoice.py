"""POSTEDSALESINV-INV: posted ERP sales invoices → Sales invoices (integration/rules/posted_invoice.py); their lines
are POSTEDSALESLINE-INV (posted_invoice_line.py)."""

from integration.rules import posted_invoice

from .base import TO, Field, MappingDefinition


class PostedInvoiceMapping(MappingDefinition):
    key = "posted_invoice"
    name = "POSTEDSALESINV-INV"
    erp, crm, direction = "erp.SalesInvoiceHeader", "crm.Invoice", TO
    sync_only_coupled = False
    # Beyond Business Central (OPPORTUNITY only): the invoice's customer and its lines' products are coupled first.
    depends = ("opportunity", "customer", "item", "resource")
    rules = posted_invoice.Rules
    fields = (
        Field("no", "number", TO, match=1),
        Field("no", "name", TO),
        Field("sell_to_customer", "customer_account", TO),
        Field("opportunity", "opportunity", TO, clear_on_failure=True),
        Field("salesperson", "owner", TO, not_null=True),
        Field("currency", "transaction_currency", TO),
        Field("due_date", "due_date", TO),
        Field("shipment_date", "date_delivered", TO),
        Field("ship_to_name", "shipto_name", TO),
        Field("ship_to_address", "shipto_line1", TO),
        Field("ship_to_address_2", "shipto_line2", TO),
        Field("ship_to_city", "shipto_city", TO),
        Field("ship_to_country_region_code", "shipto_country", TO),
        Field("ship_to_post_code", "shipto_postalcode", TO),
        Field("ship_to_county", "shipto_stateorprovince", TO),
        Field("bill_to_name", "billto_name", TO),
        Field("bill_to_address", "billto_line1", TO),
        Field("bill_to_address_2", "billto_line2", TO),
        Field("bill_to_city", "billto_city", TO),
        Field("bill_to_country_region_code", "billto_country", TO),
        Field("bill_to_post_code", "billto_postalcode", TO),
        Field("bill_to_county", "billto_stateorprovince", TO),
        Field("amount", "total_amount_less_freight", TO),
        Field("amount_including_vat", "total_amount", TO),
        Field("invoice_discount_amount", "discount_amount", TO),
        Field("shipping_agent", "shipping_method_code", TO, value_map="SHIPPING AGENT"),
        Field("payment_terms", "payment_terms_code", TO, value_map="PAYMENT TERMS"),
    )
