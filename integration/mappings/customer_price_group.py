"""CUSTPRCGRP-PRICE: ERP customer price groups → Sales price lists."""

from .base import TO, Field, MappingDefinition


class CustomerPriceGroupMapping(MappingDefinition):
    key = "customer_price_group"
    name = "CUSTPRCGRP-PRICE"
    erp, crm, direction = "erp.CustomerPriceGroup", "crm.PriceLevel", TO
    depends = ("currency",)
    fields = (
        Field("code", "name", TO, match=1),
        Field("description", "description", TO),
    )
