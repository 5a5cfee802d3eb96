"""Demo-like data for the Sales order tests (docs/features.md I9): what the demo seed and a coupling run leave behind.

A customer coupled to an account (with default payment terms, a customer price group, a salesperson coupled to a
Sales user), items and a resource coupled to Sales products, the PCS unit of measure coupled to its unit group,
a write-in item set up in Sales & Receivables Setup, an order number series, and the option value maps.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from crm.models import Account, Product, SalesOrder, SalesOrderDetail, Unit, UnitGroup
from erp.models import (
    CustomerPriceGroup,
    Item,
    NoSeries,
    PaymentTerms,
    Resource,
    SalesReceivablesSetup,
    ShipmentMethod,
    UnitOfMeasure,
)
from integration.models import Coupling, ValueMap, ValueMapEntry
from tests.factories import CustomerFactory


def couple(erp_record, crm_record):
    return Coupling.objects.create(erp_model=erp_record._meta.label, crm_model=crm_record._meta.label,
                                   erp_id=erp_record.pk, crm_id=crm_record.pk)


@dataclass
class World:
    account: Account
    customer: object
    salesperson_user: object
    items: list
    products: list
    resource: Resource
    service: Product
    unit: Unit
    uom: UnitOfMeasure
    write_in: Item
    price_group: CustomerPriceGroup
    customer_terms: PaymentTerms
    net30: PaymentTerms
    customer_shipment: ShipmentMethod
    extra: dict = field(default_factory=dict)

    def order(self, *, lines=3, state="submitted", account=None, **values):
        """A Sales order of ``lines`` lines (products in turn), written in bulk."""
        values.setdefault("name", "Spring refill for the Atlanta warehouse")
        order = SalesOrder.objects.create(customer_account=account or self.account, state_code=state, **values)
        SalesOrderDetail.objects.bulk_create([
            SalesOrderDetail(sales_order=order, line_number=(i + 1) * 10, product=self.products[i % len(self.products)],
                             uom=self.unit, quantity=Decimal(i % 5 + 1), price_per_unit=Decimal("12.50"),
                             tax=Decimal("1.00"))
            for i in range(lines)
        ])
        return order


def world_build(*, salesperson_pair):
    """Build the world; test modules wrap it in a ``world`` fixture that needs ``mappings`` and ``salesperson_pair``."""
    salesperson, user = salesperson_pair
    uom = UnitOfMeasure.objects.create(code="PCS", description="Piece")
    group = UnitGroup.objects.create(name="PCS", base_uom_name="PCS")
    unit = Unit.objects.create(unit_group=group, name="PCS")
    couple(uom, group)
    setup = SalesReceivablesSetup.get_solo()
    setup.order_nos = NoSeries.objects.create(code="S-ORD", starting_no="S-ORD101001", increment_by=1)
    setup.write_in_product_type, setup.write_in_product_no = "item", "WRITE-IN"
    setup.save()
    write_in = Item.objects.create(no="WRITE-IN", description="Write-in product", type="non_inventory",
                                   base_unit_of_measure=uom)
    price_group = CustomerPriceGroup.objects.create(code="RETAIL", description="Retail")
    customer_terms = PaymentTerms.objects.create(code="COD", description="Cash on delivery")
    net30 = PaymentTerms.objects.create(code="NET30", description="Net 30")
    customer_shipment = ShipmentMethod.objects.create(code="EXW", description="Ex Works")
    customer = CustomerFactory(name="Adatum Corporation", salesperson=salesperson, payment_terms=customer_terms,
                               shipment_method=customer_shipment, customer_price_group=price_group)
    account = Account.objects.create(name="Adatum Corporation", customer_type_code="customer",
                                     address1_line1="192 Market Square", address1_city="Atlanta")
    couple(customer, account)
    items, products = [], []
    for i, name in enumerate(["Atlanta Desk", "Paris Chair", "Oslo Lamp"]):
        item = Item.objects.create(no=f"{1000 + i}-A", description=name, base_unit_of_measure=uom,
                                   unit_price=Decimal("100.00") + i, inventory=Decimal(40 + i))
        product = Product.objects.create(product_number=item.no, name=name, default_uom_schedule=group,
                                         default_uom=unit)
        couple(item, product)
        items.append(item)
        products.append(product)
    resource = Resource.objects.create(no="R0001", name="Installer", base_unit_of_measure=uom,
                                       unit_price=Decimal("80.00"))
    service = Product.objects.create(product_number="R0001", name="Installer", product_type_code="services",
                                     default_uom_schedule=group, default_uom=unit, is_stock_item=False)
    couple(resource, service)
    ValueMapEntry.objects.create(value_map=ValueMap.objects.get(name="PAYMENT TERMS"), erp_value="NET30",
                                 crm_value="net30")
    return World(account=account, customer=customer, salesperson_user=user, items=items, products=products,
                 resource=resource, service=service, unit=unit, uom=uom, write_in=write_in, price_group=price_group,
                 customer_terms=customer_terms, net30=net30, customer_shipment=customer_shipment,
                 extra={"today": date.today()})
