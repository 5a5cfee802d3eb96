"""SALESPRC-PRODPRICE: ERP sales prices of a customer price group → Sales price list items; a price matches on its
product within the price list of its sales code (integration/rules/sales_price.py, the rules' match scope)."""

from integration.rules import sales_price

from .base import TO, Field, MappingDefinition


class SalesPriceMapping(MappingDefinition):
    key = "sales_price"
    name = "SALESPRC-PRODPRICE"
    erp, crm, direction = "erp.SalesPrice", "crm.ProductPriceLevel", TO
    sync_only_coupled = False
    erp_filter = {"sales_type": "customer_price_group", "~sales_code": ""}
    depends = ("customer_price_group", "item")
    rules = sales_price.Rules
    fields = (
        Field("item", "product", TO, match=1),
        Field("item", "product_number", TO),
        Field("currency", "transaction_currency", TO),
        Field("", "pricing_method_code", TO, constant="currency_amount"),
        Field("unit_price", "amount", TO),
    )
