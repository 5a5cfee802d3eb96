"""ITEM-PRODUCT: items ↔ Sales products of type sales inventory (docs/features.md I5).

Synchronising items to Sales keeps a price list, managed by the integration (not to be edited by hand), with each
product's ERP unit price; products without a default price list get it. The price list and its lines are read and
written through the Sales side (reads.py), in this process's database or over the Web API. Negative inventory shows as 0 in Sales.
"""

from decimal import Decimal

from crm.models import PriceLevel, ProductPriceLevel

from .base import Rules as BaseRules
from .reads import key, rows_where, write

PRICE_LIST_NAME = "ERP item prices"  # data: the price list is found by this name


class Rules(BaseRules):
    def prepare_chunk(self, rows, *, plan):
        if plan.destination.key != "crm" or plan.dry_run:
            return None
        return _price_list(plan) or write(plan, PriceLevel, inserts=[
            {"name": PRICE_LIST_NAME, "is_integration_managed": True, "description": "Kept by the ERP integration."}
        ])[0]

    def transfer(self, source, destination, values, *, plan, context):
        if plan.destination.key != "crm":
            return
        if values.get("quantity_on_hand") is not None and values["quantity_on_hand"] < 0:
            values["quantity_on_hand"] = Decimal(0)
        if context is not None and (destination is None or destination.price_level_id is None):
            values["price_level_id"] = context

    def after_write(self, pairs, *, plan):
        if plan.destination.key != "crm" or not pairs:
            return
        price_list = _price_list(plan)
        products = {dest.pk: (item, dest) for item, dest in pairs}
        existing = {
            line["product_id"]: line
            for line in rows_where(plan, ProductPriceLevel, "product_id", products, ["product_id", "uom_id", "amount"],
                                   price_level_id=[price_list])
            if line["uom_id"] is None
        }
        new, changed = [], []
        for product_id, (item, product) in products.items():
            line = existing.get(product_id)
            if line is None:
                new.append({"price_level_id": price_list, "product_id": product_id,
                            "product_number": product.product_number, "amount": item.unit_price})
            elif line["amount"] != item.unit_price:
                changed.append((key(plan, ProductPriceLevel, line), {"amount": item.unit_price}))
        write(plan, ProductPriceLevel, inserts=new, updates=changed)


def _price_list(plan):
    """The key of the integration's price list (found by its name), or None."""
    found = rows_where(plan, PriceLevel, "name", [PRICE_LIST_NAME], [])
    return min((key(plan, PriceLevel, row) for row in found), default=None, key=str)
