"""ITEM-PRODUCT: ERP items ↔ Sales products of type sales inventory (integration/rules/item.py)."""

from integration.rules import item

from .base import BI, TO, Field, MappingDefinition


class ItemMapping(MappingDefinition):
    key = "item"
    name = "ITEM-PRODUCT"
    erp, crm, direction = "erp.Item", "crm.Product", BI
    erp_filter = {"blocked": False}
    crm_filter = {"product_type_code": "sales_inventory"}
    depends = ("unit_of_measure",)
    rules = item.Rules
    fields = (
        Field("", "product_type_code", TO, constant="sales_inventory", create_only=True),
        Field("no", "product_number", BI, match=1),
        Field("description", "name", BI),
        Field("unit_price", "price", TO),
        Field("unit_cost", "standard_cost", TO),
        Field("unit_cost", "current_cost", TO),
        Field("unit_volume", "stock_volume", TO),
        Field("gross_weight", "stock_weight", TO),
        Field("vendor", "vendor_id", TO),
        Field("vendor_item_no", "vendor_part_number", TO),
        Field("inventory", "quantity_on_hand", TO),
        Field("base_unit_of_measure", "default_uom_schedule", BI),
    )
