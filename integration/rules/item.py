"""ITEM-PRODUCT: items ↔ Sales products of type sales inventory (SPEC I5).

Synchronising items to Sales keeps a price list, managed by the integration (not to be edited by hand), with each
product's ERP unit price; products without a default price list get it. Negative inventory shows as 0 in Sales.
"""

from decimal import Decimal

from crm.models import PriceLevel, ProductPriceLevel
from p2c.records import writing_as

from .base import Rules as BaseRules

PRICE_LIST_NAME = "ERP item prices"  # data: the price list is found by this name


class Rules(BaseRules):
    def prepare_chunk(self, rows, *, plan):
        if plan.destination.key != "crm" or plan.dry_run:
            return None
        with writing_as(plan.integration_user_id):
            price_list, _ = PriceLevel.objects.get_or_create(
                name=PRICE_LIST_NAME,
                defaults={"is_integration_managed": True, "description": "Kept by the ERP integration."},
            )
        return price_list

    def transfer(self, source, destination, values, *, plan, context):
        if plan.destination.key != "crm":
            return
        if values.get("quantity_on_hand") is not None and values["quantity_on_hand"] < 0:
            values["quantity_on_hand"] = Decimal(0)
        if context is not None and (destination is None or destination.price_level_id is None):
            values["price_level_id"] = context.pk

    def after_write(self, pairs, *, plan):
        if plan.destination.key != "crm" or not pairs:
            return
        price_list = PriceLevel.objects.get(name=PRICE_LIST_NAME)
        products = {dest.pk: (item, dest) for item, dest in pairs}
        existing = {
            line.product_id: line
            for line in ProductPriceLevel.objects.filter(price_level=price_list, product_id__in=products, uom=None)
        }
        new, changed = [], []
        for product_id, (item, product) in products.items():
            line = existing.get(product_id)
            if line is None:
                new.append(ProductPriceLevel(price_level=price_list, product=product,
                                             product_number=product.product_number, amount=item.unit_price))
            elif line.amount != item.unit_price:
                line.amount = item.unit_price
                changed.append(line)
        with writing_as(plan.integration_user_id):
            ProductPriceLevel.objects.bulk_create(new)
            ProductPriceLevel.objects.bulk_update(changed, ["amount"])
