"""SALESPRC-PRODPRICE: ERP sales prices of type customer price group → lines of the price list coupled to
that group (SPEC I5). The sales code names the customer price group."""

from .base import RowError
from .base import Rules as BaseRules


class Rules(BaseRules):
    def prepare_chunk(self, rows, *, plan):
        from erp.models import CustomerPriceGroup
        from integration.models import Coupling

        codes = {row.sales_code for row in rows}
        groups = dict(CustomerPriceGroup.objects.filter(code__in=codes).values_list("pk", "code"))
        coupled = Coupling.objects.filter(
            erp_model="erp.CustomerPriceGroup", crm_model="crm.PriceLevel", erp_id__in=groups
        ).values_list("erp_id", "crm_id")
        return {groups[erp_id]: crm_id for erp_id, crm_id in coupled}

    def transfer(self, source, destination, values, *, plan, context):
        price_list = context.get(source.sales_code)
        if price_list is None:
            raise RowError(f"Customer price group {source.sales_code} is not coupled to a Sales price list")
        values["price_level_id"] = price_list
