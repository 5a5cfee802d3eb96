"""Item availability and prices for Sales users (docs/features.md I9): what the ERP says of the items behind Sales
products.

`item_availability_for` answers, for Sales products coupled to ERP items or resources, the ERP inventory (items;
resources have none) and the ERP unit price for a customer: the best current price of the customer's price
group (customer price group sales prices), else the item's or resource's unit price. It reads the ERP side live,
in at most six queries whatever the number of products: the couplings, the items, the resources, the customer
coupled to the account, and the sales prices. The Sales admin and the API show it while the connection setup has
*Item Availability Enabled* (`item_availability_enabled`).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from crm.models import Contact
from erp.models import Customer, SalesPrice
from integration.binder import counterpart_query
from integration.models import ConnectionSetup
from integration.sales_orders.products import product_erp_records

PRICE_SOURCE_GROUP = "customer_price_group"
PRICE_SOURCE_UNIT_PRICE = "unit_price"


@dataclass(frozen=True)
class ItemAvailability:
    product_id: object
    erp_model: str  # "erp.Item" or "erp.Resource"
    erp_id: int
    no: str
    description: str
    inventory: Decimal | None  # None for resources
    unit_price: Decimal
    price_source: str  # PRICE_SOURCE_GROUP or PRICE_SOURCE_UNIT_PRICE
    customer_price_group: str = ""
    unit_of_measure: str = ""
    customer_no: str = ""

    @property
    def price_label(self):
        price = amount_text(self.unit_price)
        if self.price_source == PRICE_SOURCE_GROUP:
            return f"{price} ({self.customer_price_group} price)"
        return gettext("%(price)s (unit price)") % {"price": price}


def amount_text(value):
    """``Decimal("90.0000")`` → ``"90.00"``; more decimals only where they carry something."""
    cents = value.quantize(Decimal("0.01"))
    return f"{cents:f}" if cents == value else f"{value.normalize():f}"


def item_availability_enabled():
    """Whether the connection setup has *Item Availability Enabled* (and the connection is enabled)."""
    return ConnectionSetup.objects.filter(pk=1, is_enabled=True, item_availability_enabled=True).exists()


def customer_for_account(account):
    """The ERP customer coupled to a Sales account (an Account or its id), or None."""
    if account is None:
        return None
    account_id = getattr(account, "pk", account)
    coupled = counterpart_query("crm.Account", [account_id], to="erp.Customer")
    return Customer.objects.select_related("customer_price_group").filter(pk__in=coupled).first()


def item_availability_for(*, products, account=None, quantity=1, on_date=None):
    """``{product id: ItemAvailability}`` for the coupled ones among ``products`` (Products or ids).

    ``account`` (an Account, its id, or None) picks the customer whose price group prices apply; ``quantity``
    the minimum quantity a price may ask; ``on_date`` (default today) the prices in force.
    """
    product_ids = {getattr(p, "pk", p) for p in products} - {None}
    if not product_ids:
        return {}
    couplings, items, resources = product_erp_records(product_ids)
    customer = customer_for_account(account)
    group = customer.customer_price_group if customer is not None else None
    best = {}
    if group is not None and items:
        today = on_date or timezone.localdate()
        prices = SalesPrice.objects.filter(
            Q(starting_date__isnull=True) | Q(starting_date__lte=today),
            Q(ending_date__isnull=True) | Q(ending_date__gte=today),
            item_id__in=items, sales_type=SalesPrice.SalesType.CUSTOMER_PRICE_GROUP, sales_code=group.code,
            currency_id=customer.currency_id, minimum_quantity__lte=quantity,
        ).values_list("item_id", "unit_of_measure_id", "unit_price")
        for item_id, unit_id, price in prices:
            item = items[item_id]
            if unit_id is not None and unit_id != item.base_unit_of_measure_id:
                continue  # a price per another unit of measure is not the price of the base unit
            if item_id not in best or price < best[item_id]:
                best[item_id] = price  # BC's best price: the lowest that applies
    result = {}
    for model, erp_id, product_id in couplings:
        is_item = model == "erp.Item"
        record = (items if is_item else resources).get(erp_id)
        if record is None:
            continue
        if product_id in result and not is_item:
            continue  # a product coupled both ways: the item answers
        group_price = best.get(erp_id) if is_item else None
        result[product_id] = ItemAvailability(
            product_id=product_id, erp_model=model, erp_id=erp_id, no=record.no,
            description=record.description if is_item else record.name,
            inventory=record.inventory if is_item else None,
            unit_price=group_price if group_price is not None else record.unit_price,
            price_source=PRICE_SOURCE_GROUP if group_price is not None else PRICE_SOURCE_UNIT_PRICE,
            customer_price_group=group.code if group_price is not None else "",
            unit_of_measure=record.base_unit_of_measure.code if record.base_unit_of_measure_id else "",
            customer_no=customer.no if customer is not None else "",
        )
    return result


def sales_order_availability(*, sales_order):
    """Availability of the products on a Sales order's lines, priced for the order's account."""
    account_id = sales_order.customer_account_id
    if account_id is None and sales_order.customer_contact_id is not None:
        account_id = Contact.objects.filter(pk=sales_order.customer_contact_id).values_list(
            "parent_account_id", flat=True).first()
    product_ids = sales_order.lines.exclude(product=None).values_list("product_id", flat=True)
    return item_availability_for(products=list(product_ids), account=account_id)
