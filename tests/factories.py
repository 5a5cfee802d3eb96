"""factory_boy factories for every Sales (``crm``) and ERP (``erp``) model.

Valid by default and deterministic (factory_boy's random generator is seeded below). ERP records get an explicit
``no``/``code`` from a ``factory.Sequence``, so no number series needs to be set up; Sales records take their
numbers (``CON-``, ``ACC-``, ``QUO-``...) from the Sales number sequences, as in production. Models are named
as ``"app.Model"`` strings so that importing this module never imports the models early.
"""

from datetime import date
from decimal import Decimal

import factory
import factory.random
from django.utils import timezone
from factory.django import DjangoModelFactory

factory.random.reseed_random("p2c-tests")


# Sales (crm) ----------------------------------------------------------------------------------------------------
class NumberSequenceFactory(DjangoModelFactory):
    class Meta:
        model = "crm.NumberSequence"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"T{n:03d}")
    next_value = 1000


class DataverseRequestCountFactory(DjangoModelFactory):
    class Meta:
        model = "crm.DataverseRequestCount"

    user_id = factory.Sequence(lambda n: n + 1)
    slot = factory.Sequence(lambda n: 180_000_000 + n)
    count = 1


class DeletedRecordFactory(DjangoModelFactory):
    class Meta:
        model = "crm.DeletedRecord"

    model = "crm.Account"
    record_id = factory.Faker("uuid4", cast_to=None)
    deleted_on = factory.LazyFunction(timezone.now)


class SystemUserFactory(DjangoModelFactory):
    class Meta:
        model = "crm.SystemUser"

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    fullname = factory.LazyAttribute(lambda o: f"{o.first_name} {o.last_name}")
    internal_email = factory.Sequence(lambda n: f"user{n}@sales.example")
    title = "Sales Representative"

    class Params:
        integration = factory.Trait(
            access_mode="integration", fullname="Integration User", is_licensed=False,
        )


class TransactionCurrencyFactory(DjangoModelFactory):
    class Meta:
        model = "crm.TransactionCurrency"
        django_get_or_create = ("iso_currency_code",)

    iso_currency_code = factory.Iterator(["USD", "EUR", "GBP", "SEK", "DKK", "CAD"])
    currency_name = factory.LazyAttribute(lambda o: f"Currency {o.iso_currency_code}")
    currency_symbol = "¤"


class UnitGroupFactory(DjangoModelFactory):
    class Meta:
        model = "crm.UnitGroup"

    name = factory.Sequence(lambda n: f"UG{n:04d}")
    base_uom_name = factory.LazyAttribute(lambda o: o.name)


class UnitFactory(DjangoModelFactory):
    class Meta:
        model = "crm.Unit"

    unit_group = factory.SubFactory(UnitGroupFactory)
    name = factory.Sequence(lambda n: f"Unit {n}")
    quantity = Decimal(1)


class PriceLevelFactory(DjangoModelFactory):
    class Meta:
        model = "crm.PriceLevel"

    name = factory.Sequence(lambda n: f"Price list {n}")
    begin_date = date(2026, 1, 1)


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = "crm.Product"

    product_number = factory.Sequence(lambda n: f"P{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    product_type_code = "sales_inventory"
    price = Decimal("100.00")


class ProductPriceLevelFactory(DjangoModelFactory):
    class Meta:
        model = "crm.ProductPriceLevel"

    price_level = factory.SubFactory(PriceLevelFactory)
    product = factory.SubFactory(ProductFactory)
    product_number = factory.SelfAttribute("product.product_number")
    amount = Decimal("90.00")


class AccountFactory(DjangoModelFactory):
    class Meta:
        model = "crm.Account"

    name = factory.Faker("company")
    customer_type_code = "customer"
    emailaddress1 = factory.Sequence(lambda n: f"info@company{n}.example")
    telephone1 = factory.Faker("numerify", text="+1 555 ### ####")
    address1_line1 = factory.Faker("street_address")
    address1_city = factory.Faker("city")
    address1_postalcode = factory.Faker("postcode")
    address1_country = "US"


class ContactFactory(DjangoModelFactory):
    """A person whose company is an account (``parent_account``); pass ``parent_account=None`` for none."""

    class Meta:
        model = "crm.Contact"

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    emailaddress1 = factory.Sequence(lambda n: f"person{n}@contacts.example")
    job_title = "Buyer"
    parent_account = factory.SubFactory(AccountFactory)


class OpportunityFactory(DjangoModelFactory):
    class Meta:
        model = "crm.Opportunity"

    name = factory.Sequence(lambda n: f"Opportunity {n}")
    customer_account = factory.SubFactory(AccountFactory)
    parent_account = factory.SelfAttribute("customer_account")
    estimated_value = Decimal("5000.00")


class QuoteFactory(DjangoModelFactory):
    class Meta:
        model = "crm.Quote"

    name = factory.Sequence(lambda n: f"Quote {n}")
    customer_account = factory.SubFactory(AccountFactory)


class QuoteDetailFactory(DjangoModelFactory):
    class Meta:
        model = "crm.QuoteDetail"

    quote = factory.SubFactory(QuoteFactory)
    line_number = factory.Sequence(lambda n: (n + 1) * 10)
    product = factory.SubFactory(ProductFactory)
    quantity = Decimal(2)
    price_per_unit = Decimal("100.00")


class SalesOrderFactory(DjangoModelFactory):
    class Meta:
        model = "crm.SalesOrder"

    name = factory.Sequence(lambda n: f"Order {n}")
    customer_account = factory.SubFactory(AccountFactory)


class SalesOrderDetailFactory(DjangoModelFactory):
    class Meta:
        model = "crm.SalesOrderDetail"

    sales_order = factory.SubFactory(SalesOrderFactory)
    line_number = factory.Sequence(lambda n: (n + 1) * 10)
    product = factory.SubFactory(ProductFactory)
    quantity = Decimal(1)
    price_per_unit = Decimal("100.00")

    class Params:
        write_in = factory.Trait(product=None, product_description="Custom engraving")


class InvoiceFactory(DjangoModelFactory):
    class Meta:
        model = "crm.Invoice"

    name = factory.Sequence(lambda n: f"Invoice {n}")
    customer_account = factory.SubFactory(AccountFactory)


class InvoiceDetailFactory(DjangoModelFactory):
    class Meta:
        model = "crm.InvoiceDetail"

    invoice = factory.SubFactory(InvoiceFactory)
    line_number = factory.Sequence(lambda n: (n + 1) * 10)
    product = factory.SubFactory(ProductFactory)
    quantity = Decimal(1)
    price_per_unit = Decimal("100.00")


# ERP (erp) ---------------------------------------------------------------------------------------------------
class ErpDeletedRecordFactory(DjangoModelFactory):
    class Meta:
        model = "erp.DeletedRecord"

    model = "erp.Customer"
    record_id = factory.Sequence(lambda n: n + 1)
    deleted_on = factory.LazyFunction(timezone.now)


class NoSeriesFactory(DjangoModelFactory):
    class Meta:
        model = "erp.NoSeries"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"SER{n:04d}")
    description = factory.LazyAttribute(lambda o: f"Series {o.code}")
    starting_no = "X00010"
    increment_by = 10


class BusinessRelationFactory(DjangoModelFactory):
    class Meta:
        model = "erp.BusinessRelation"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"REL{n:03d}")
    description = factory.LazyAttribute(lambda o: f"Relation {o.code}")


class _SingletonFactory(DjangoModelFactory):
    class Meta:
        abstract = True
        django_get_or_create = ("id",)

    id = 1


class MarketingSetupFactory(_SingletonFactory):
    class Meta:
        model = "erp.MarketingSetup"


class SalesReceivablesSetupFactory(_SingletonFactory):
    class Meta:
        model = "erp.SalesReceivablesSetup"


class PurchasesPayablesSetupFactory(_SingletonFactory):
    class Meta:
        model = "erp.PurchasesPayablesSetup"


class GeneralLedgerSetupFactory(_SingletonFactory):
    class Meta:
        model = "erp.GeneralLedgerSetup"


class CurrencyFactory(DjangoModelFactory):
    class Meta:
        model = "erp.Currency"
        django_get_or_create = ("code",)

    code = factory.Iterator(["EUR", "GBP", "SEK", "DKK", "CAD"])
    iso_code = factory.SelfAttribute("code")
    description = factory.LazyAttribute(lambda o: f"Currency {o.code}")


class UnitOfMeasureFactory(DjangoModelFactory):
    class Meta:
        model = "erp.UnitOfMeasure"

    code = factory.Sequence(lambda n: f"UOM{n:03d}")
    description = factory.LazyAttribute(lambda o: f"Unit {o.code}")


class CustomerPriceGroupFactory(DjangoModelFactory):
    class Meta:
        model = "erp.CustomerPriceGroup"

    code = factory.Sequence(lambda n: f"GROUP{n:03d}")
    description = factory.LazyAttribute(lambda o: f"Price group {o.code}")


class PaymentTermsFactory(DjangoModelFactory):
    class Meta:
        model = "erp.PaymentTerms"

    code = factory.Sequence(lambda n: f"NET{n:03d}")
    due_date_calculation = "30D"


class ShipmentMethodFactory(DjangoModelFactory):
    class Meta:
        model = "erp.ShipmentMethod"

    code = factory.Sequence(lambda n: f"SM{n:03d}")


class ShippingAgentFactory(DjangoModelFactory):
    class Meta:
        model = "erp.ShippingAgent"

    code = factory.Sequence(lambda n: f"AGENT{n:03d}")


class CustomerTemplateFactory(DjangoModelFactory):
    class Meta:
        model = "erp.CustomerTemplate"

    code = factory.Sequence(lambda n: f"TMPL{n:03d}")
    description = "Customer template"
    customer_group = "10"


class SalespersonPurchaserFactory(DjangoModelFactory):
    class Meta:
        model = "erp.SalespersonPurchaser"

    code = factory.Sequence(lambda n: f"SP{n:03d}")
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"salesperson{n}@erp.example")


class ErpContactFactory(DjangoModelFactory):
    """A company contact; ``ErpContactFactory(person=True)`` is a person of a new company."""

    class Meta:
        model = "erp.Contact"

    no = factory.Sequence(lambda n: f"CT{n:06d}")
    type = "company"
    name = factory.Faker("company")
    email = factory.Sequence(lambda n: f"contact{n}@erp.example")
    phone_no = factory.Faker("numerify", text="+1 555 ### ####")

    class Params:
        person = factory.Trait(
            type="person",
            company=factory.SubFactory("tests.factories.ErpContactFactory"),
            first_name=factory.Faker("first_name"),
            surname=factory.Faker("last_name"),
            name=factory.LazyAttribute(lambda o: f"{o.first_name} {o.surname}"),
        )


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = "erp.Customer"

    no = factory.Sequence(lambda n: f"C{n:05d}")
    name = factory.Faker("company")
    email = factory.Sequence(lambda n: f"customer{n}@erp.example")
    address = factory.Faker("street_address")
    city = "Atlanta"
    post_code = "30301"
    country_region_code = "US"
    customer_group = "10"


class VendorFactory(DjangoModelFactory):
    class Meta:
        model = "erp.Vendor"

    no = factory.Sequence(lambda n: f"V{n:05d}")
    name = factory.Faker("company")
    email = factory.Sequence(lambda n: f"vendor{n}@erp.example")


class BankAccountFactory(DjangoModelFactory):
    class Meta:
        model = "erp.BankAccount"

    no = factory.Sequence(lambda n: f"B{n:03d}")
    name = factory.Sequence(lambda n: f"Bank {n}")
    bank_account_no = factory.Sequence(lambda n: f"{1000000 + n}")


class ContactBusinessRelationFactory(DjangoModelFactory):
    class Meta:
        model = "erp.ContactBusinessRelation"

    contact = factory.SubFactory(ErpContactFactory)
    business_relation = factory.SubFactory(BusinessRelationFactory, code="CUST")
    link_to_table = "customer"
    no = factory.Sequence(lambda n: f"C9{n:04d}")


class ItemFactory(DjangoModelFactory):
    class Meta:
        model = "erp.Item"

    no = factory.Sequence(lambda n: f"{1000 + n}-T")
    description = factory.Sequence(lambda n: f"Item {n}")
    type = "inventory"
    unit_price = Decimal("100.00")


class ResourceFactory(DjangoModelFactory):
    class Meta:
        model = "erp.Resource"

    no = factory.Sequence(lambda n: f"R{n:04d}")
    name = factory.Faker("name")
    unit_price = Decimal("80.00")


class SalesPriceFactory(DjangoModelFactory):
    class Meta:
        model = "erp.SalesPrice"

    item = factory.SubFactory(ItemFactory)
    sales_type = "customer_price_group"
    sales_code = factory.Sequence(lambda n: f"GROUP{n:03d}")
    unit_price = Decimal("95.00")


class ErpOpportunityFactory(DjangoModelFactory):
    class Meta:
        model = "erp.Opportunity"

    no = factory.Sequence(lambda n: f"OP{n:06d}")
    description = factory.Sequence(lambda n: f"Opportunity {n}")
    contact = factory.SubFactory(ErpContactFactory)


class _SalesLineFactory(DjangoModelFactory):
    """The defaults of sales and sales invoice lines: one item at 100.00."""

    class Meta:
        abstract = True

    line_no = factory.Sequence(lambda n: (n + 1) * 10000)
    type = "item"
    no = "1000-T"
    description = "Item"
    quantity = Decimal(1)
    unit_price = Decimal("100.00")
    amount = Decimal("100.00")


class SalesHeaderFactory(DjangoModelFactory):
    class Meta:
        model = "erp.SalesHeader"

    document_type = "order"
    no = factory.Sequence(lambda n: f"SO{n:06d}")
    sell_to_customer = factory.SubFactory(CustomerFactory)
    sell_to_customer_name = factory.SelfAttribute("sell_to_customer.name")
    order_date = date(2026, 11, 1)


class SalesLineFactory(_SalesLineFactory):
    class Meta:
        model = "erp.SalesLine"

    header = factory.SubFactory(SalesHeaderFactory)


class SalesInvoiceHeaderFactory(DjangoModelFactory):
    class Meta:
        model = "erp.SalesInvoiceHeader"

    no = factory.Sequence(lambda n: f"PSI{n:06d}")
    sell_to_customer = factory.SubFactory(CustomerFactory)
    sell_to_customer_name = factory.SelfAttribute("sell_to_customer.name")
    posting_date = date(2026, 11, 1)


class SalesInvoiceLineFactory(_SalesLineFactory):
    class Meta:
        model = "erp.SalesInvoiceLine"

    invoice = factory.SubFactory(SalesInvoiceHeaderFactory)


class PurchaseHeaderFactory(DjangoModelFactory):
    class Meta:
        model = "erp.PurchaseHeader"

    document_type = "order"
    no = factory.Sequence(lambda n: f"PO{n:06d}")
    buy_from_vendor = factory.SubFactory(VendorFactory)


class InteractionLogEntryFactory(DjangoModelFactory):
    class Meta:
        model = "erp.InteractionLogEntry"

    contact = factory.SubFactory(ErpContactFactory)
    kind = "phone_call"
    description = "Called about the quote"


def factories_by_model():
    """``{"app.Model": factory}`` for every factory here (tests check that no model lacks one)."""
    return {
        factory_class._meta.get_model_class()._meta.label: factory_class
        for factory_class in globals().values()
        if isinstance(factory_class, type) and issubclass(factory_class, DjangoModelFactory)
        and not factory_class._meta.abstract
    }
