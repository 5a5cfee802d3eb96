"""RESOURCE-PRODUCT: ERP resources ↔ Sales products of type services (constants in the field mappings)."""

from integration.rules import resource

from .base import BI, TO, Field, MappingDefinition


class ResourceMapping(MappingDefinition):
    key = "resource"
    name = "RESOURCE-PRODUCT"
    erp, crm, direction = "erp.Resource", "crm.Product", BI
    erp_filter = {"blocked": False}
    crm_filter = {"product_type_code": "services"}
    depends = ("unit_of_measure",)
    rules = resource.Rules
    fields = (
        Field("", "product_type_code", TO, constant="services", create_only=True),
        Field("", "is_stock_item", TO, constant="false", create_only=True),
        Field("no", "product_number", BI, match=1),
        Field("name", "name", BI),
        Field("unit_price", "price", TO),
        Field("unit_cost", "standard_cost", TO),
        Field("unit_cost", "current_cost", TO),
        Field("vendor", "vendor_id", TO),
        Field("capacity", "quantity_on_hand", TO),
        Field("base_unit_of_measure", "default_uom_schedule", BI),
    )
