"""docs/features.md I5, rule by rule, through the default mappings."""

from decimal import Decimal

import pytest

from crm.models import Opportunity as SalesOpportunity
from crm.models import PriceLevel, Product, ProductPriceLevel, TransactionCurrency, Unit, UnitGroup
from erp.models import Contact as ErpContact
from erp.models import Currency, CustomerPriceGroup, Item, Resource, SalesPrice, UnitOfMeasure
from erp.models import Opportunity as ErpOpportunity
from integration.coupling.couplings import coupling_create, coupling_for
from integration.engine.sync import mapping_synchronize
from integration.models import SyncJobError
from integration.rules.item import PRICE_LIST_NAME

pytestmark = pytest.mark.django_db

TO = "to_integration"


def full_to_sales(mapping):
    mapping.refresh_from_db()
    [job] = mapping_synchronize(mapping=mapping, direction=TO, create_new=True)
    return job


def test_currencies_are_coupled_by_iso_code_and_only_standard_codes_synchronise(mappings):
    Currency.objects.create(code="EURO", iso_code="eur", description="Euro")
    Currency.objects.create(code="XX", iso_code="", description="No ISO code")
    Currency.objects.create(code="BAD", iso_code="E1", description="Broken")
    existing = TransactionCurrency.objects.create(iso_currency_code="SEK", currency_name="Krona")
    sek = Currency.objects.create(code="SEK", iso_code="SEK", description="Swedish krona")
    from integration.coupling.couplings import mapping_couple_by_match

    mapping_couple_by_match(mapping=mappings["CURRENCY"])
    assert coupling_for(sek).crm_id == existing.pk  # matched on ISO code, not duplicated

    job = full_to_sales(mappings["CURRENCY"])

    assert set(TransactionCurrency.objects.values_list("iso_currency_code", flat=True)) == {"EUR", "SEK"}
    assert job.failed == 1
    assert "not a standard ISO 4217 currency code" in SyncJobError.objects.get(job=job).message


def test_units_of_measure_become_unit_groups_with_exactly_one_unit(mappings):
    UnitOfMeasure.objects.create(code="PCS", description="Piece")
    UnitOfMeasure.objects.create(code="BOX", description="Box")

    full_to_sales(mappings["UNIT OF MEASURE"])
    full_to_sales(mappings["UNIT OF MEASURE"])  # again: still one unit each

    for group in UnitGroup.objects.all():
        assert list(Unit.objects.filter(unit_group=group).values_list("name", flat=True)) == [group.name]


def test_items_become_inventory_products_with_an_integration_price_list(mappings):
    UnitOfMeasure.objects.create(code="PCS")
    full_to_sales(mappings["UNIT OF MEASURE"])
    pcs = UnitOfMeasure.objects.get(code="PCS")
    Item.objects.create(no="1000", description="Bicycle", unit_price=Decimal("4000"), inventory=Decimal("-3"),
                        base_unit_of_measure=pcs)
    Item.objects.create(no="1001", description="Touring bike", unit_price=Decimal("5000"))

    full_to_sales(mappings["ITEM-PRODUCT"])
    bike = Product.objects.get(product_number="1000")
    assert bike.product_type_code == "sales_inventory" and bike.price == Decimal("4000")
    assert bike.quantity_on_hand == 0  # negative inventory shows as 0
    assert bike.default_uom_schedule.name == "PCS"
    price_list = PriceLevel.objects.get(name=PRICE_LIST_NAME)
    assert price_list.is_integration_managed and bike.price_level == price_list
    assert ProductPriceLevel.objects.get(price_level=price_list, product=bike).amount == Decimal("4000")

    Item.objects.filter(no="1000").update(unit_price=Decimal("4200"))
    full_to_sales(mappings["ITEM-PRODUCT"])
    assert ProductPriceLevel.objects.get(price_level=price_list, product=bike).amount == Decimal("4200")


def test_resources_become_service_products(mappings):
    Resource.objects.create(no="R1", name="Installation", unit_price=Decimal("90"), capacity=Decimal("40"))
    full_to_sales(mappings["RESOURCE-PRODUCT"])
    product = Product.objects.get(product_number="R1")
    assert (product.product_type_code, product.is_stock_item, product.price) == ("services", False, Decimal("90"))


def test_price_groups_become_price_lists_and_their_sales_prices_become_lines(mappings):
    retail = CustomerPriceGroup.objects.create(code="RETAIL", description="Retail")
    item = Item.objects.create(no="2000", description="Helmet", unit_price=Decimal("50"))
    full_to_sales(mappings["CUSTPRCGRP-PRICE"])
    full_to_sales(mappings["ITEM-PRODUCT"])
    SalesPrice.objects.create(item=item, sales_type="customer_price_group", sales_code="RETAIL",
                              unit_price=Decimal("45"))
    SalesPrice.objects.create(item=item, sales_type="customer", sales_code="C00010", unit_price=Decimal("40"))
    SalesPrice.objects.create(item=item, sales_type="customer_price_group", sales_code="", unit_price=Decimal("1"))

    full_to_sales(mappings["SALESPRC-PRODPRICE"])

    price_list = PriceLevel.objects.get(pk=coupling_for(retail).crm_id)
    assert price_list.name == "RETAIL"
    line = ProductPriceLevel.objects.get(price_level=price_list)
    assert (line.product.product_number, line.amount, line.pricing_method_code) == ("2000", Decimal("45"),
                                                                                    "currency_amount")
    assert ProductPriceLevel.objects.exclude(price_level__name=PRICE_LIST_NAME).count() == 1


def test_salesperson_sets_the_owner_of_opportunities(mappings, salesperson_pair):
    salesperson, user = salesperson_pair
    person = ErpContact.objects.create(no="CT1", type="person", first_name="Eva", surname="Lind")
    from crm.models import Contact as SalesContact

    sales_person = SalesContact.objects.create(first_name="Eva", last_name="Lind")
    coupling_create(erp_record=person, crm_record=sales_person)
    ErpOpportunity.objects.create(no="OP1", description="20 bikes", contact=person, salesperson=salesperson,
                                  estimated_value_lcy=Decimal("80000"))

    full_to_sales(mappings["OPPORTUNITY"])

    opportunity = SalesOpportunity.objects.get(name="20 bikes")
    assert opportunity.owner == user and opportunity.parent_contact == sales_person
    assert opportunity.estimated_value == Decimal("80000")


def test_create_only_field_mappings_are_not_written_on_update(mappings):
    Resource.objects.create(no="R2", name="Training")
    full_to_sales(mappings["RESOURCE-PRODUCT"])
    product = Product.objects.get(product_number="R2")
    # A change that leaves the product's timestamp alone, so the run sees no update conflict.
    Product.objects.filter(pk=product.pk).update(is_stock_item=True, modifiedon=product.modifiedon)
    Resource.objects.filter(no="R2").update(name="Training day")

    full_to_sales(mappings["RESOURCE-PRODUCT"])

    product.refresh_from_db()
    assert product.name == "Training day" and product.is_stock_item  # the create-only constant is not re-applied


# -- the local currency (LCY): a blank ERP currency is the Sales base currency ----------------------------------------
@pytest.fixture
def currencies(mappings):
    """The Sales base currency (the ERP's LCY, USD by default) and a foreign currency coupled on both sides."""
    usd = TransactionCurrency.objects.create(iso_currency_code="USD", currency_name="US Dollar")
    eur_sales = TransactionCurrency.objects.create(iso_currency_code="EUR", currency_name="Euro",
                                                   exchange_rate=Decimal("0.9"))
    eur = Currency.objects.create(code="EUR", iso_code="EUR", description="Euro")
    coupling_create(erp_record=eur, crm_record=eur_sales)
    return usd, eur, eur_sales


def test_a_sales_account_in_the_base_currency_becomes_a_customer_in_the_local_currency(mappings, currencies,
                                                                                        salesperson_pair):
    from crm.models import Account
    from erp.models import Customer

    usd, eur, eur_sales = currencies
    _salesperson, user = salesperson_pair
    home = Account.objects.create(name="Home Ltd", transaction_currency=usd, owner=user,
                                  customer_type_code="customer")
    abroad = Account.objects.create(name="Abroad GmbH", transaction_currency=eur_sales, owner=user,
                                    customer_type_code="customer")

    [job] = mapping_synchronize(mapping=mappings["CUSTOMER"], direction="from_integration", create_new=True)

    assert (job.inserted, job.failed) == (2, 0), list(job.errors.values_list("message", flat=True))
    assert Customer.objects.get(pk=coupling_for(home).erp_id).currency_id is None  # blank: LCY
    assert Customer.objects.get(pk=coupling_for(abroad).erp_id).currency_id == eur.pk


def test_a_customer_in_the_local_currency_gets_the_sales_base_currency(mappings, currencies, salesperson_pair):
    from crm.models import Account
    from erp.models import Customer, GeneralLedgerSetup

    usd, _eur, _eur_sales = currencies
    salesperson, _user = salesperson_pair
    local = Customer.objects.create(name="Local Inc", salesperson=salesperson)

    full_to_sales(mappings["CUSTOMER"])

    assert Account.objects.get(pk=coupling_for(local).crm_id).transaction_currency_id == usd.pk
    # The LCY code decides which Sales currency is the base one.
    ledger = GeneralLedgerSetup.get_solo()
    ledger.lcy_code = "eur"
    ledger.save()
    other = Customer.objects.create(name="Other Inc", salesperson=salesperson)
    full_to_sales(mappings["CUSTOMER"])
    assert Account.objects.get(pk=coupling_for(other).crm_id).transaction_currency.iso_currency_code == "EUR"



def test_a_duplicate_key_on_insert_names_the_field_and_the_record_holding_it(mappings):
    # A Sales product outside ITEM-PRODUCT's filter (miscellaneous charges) already holds the number 1027.
    Product.objects.create(product_number="1027", name="Freight charge", product_type_code=Product.ProductType.MISCELLANEOUS_CHARGES)
    Item.objects.create(no="1027", description="Freight")
    Item.objects.create(no="1028", description="Saddle")

    job = full_to_sales(mappings["ITEM-PRODUCT"])

    assert (job.inserted, job.failed) == (1, 1)
    message = SyncJobError.objects.get(job=job).message
    assert "Product ID 1027 is already used by Product 1027 (Freight charge)" in message, message
    assert "UNIQUE" not in message.upper()
