"""POSTEDSALESLINE-INV: posted invoice lines → Sales invoice products. An item or resource line names the product
coupled to it; other lines (G/L accounts, comments) become write-in products carrying the description."""

from .base import RowError
from .base import Rules as BaseRules


class Rules(BaseRules):
    def prepare_chunk(self, rows, *, plan):
        from erp.models import Item, Resource
        from integration.models import Coupling

        products = {}
        for kind, model in (("item", Item), ("resource", Resource)):
            nos = {row.no for row in rows if row.type == kind and row.no}
            ids = dict(model.objects.filter(no__in=nos).values_list("pk", "no"))
            coupled = Coupling.objects.filter(
                erp_model=model._meta.label, crm_model="crm.Product", erp_id__in=ids
            ).values_list("erp_id", "crm_id")
            products[kind] = {ids[erp_id]: crm_id for erp_id, crm_id in coupled}
        return products

    def transfer(self, source, destination, values, *, plan, context):
        if source.type in context:
            product = context[source.type].get(source.no)
            if product is None:
                raise RowError(f"{source.get_type_display()} {source.no} is not coupled to a Sales product")
            values["product_id"] = product
            values["product_description"] = ""
        else:
            values["product_id"] = None
            values["product_description"] = (source.description or source.no)[:500]
