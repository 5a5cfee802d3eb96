"""What the engine benchmarks start from: the CUSTOMER mapping alone, creating a customer for every account (numbered
by a series of its own), and N Sales accounts; or the same mapping with its prerequisites carried as references
(`customer_world_with_references`)."""

from django.db.models import F

from crm.models import Account, SystemUser, TransactionCurrency
from erp.demo import PAYMENT_TERMS, SHIPMENT_METHODS, SHIPPING_AGENTS
from erp.models import (
    Currency,
    Customer,
    NoSeries,
    PaymentTerms,
    SalespersonPurchaser,
    SalesReceivablesSetup,
    ShipmentMethod,
    ShippingAgent,
)
from integration.defaults import integration_setup_reset
from integration.engine.sync import mapping_synchronize
from integration.models import ConnectionSetup, IntegrationTableMapping

PREREQUISITES = ["SALESPEOPLE", "CURRENCY", "PAYMENT TERMS", "SHIPMENT METHOD", "SHIPPING AGENT"]
# Sales values the accounts spread over; each has its ERP code (erp/demo.py lists), so every reference lands.
ISO_CODES = ["USD", "EUR", "GBP", "SEK"]  # USD is the ERP's local currency: a blank currency code there
PAYMENT_OPTIONS = [option for *_, option in PAYMENT_TERMS if option]
FREIGHT_OPTIONS = [option for *_, option in SHIPMENT_METHODS if option]
SHIPPING_OPTIONS = [option for *_, option in SHIPPING_AGENTS if option]


def customer_mapping_alone():
    """The CUSTOMER mapping, without its dependencies, creating customers for uncoupled accounts."""
    _customer_series()
    ConnectionSetup.get_solo()
    integration_setup_reset(names=["CUSTOMER"])
    return _customer_mapping_alone()


def _customer_series():
    series = NoSeries.objects.create(code="CUST", starting_no="C000010")
    setup = SalesReceivablesSetup.get_solo()
    setup.customer_nos = series
    setup.save()


def _customer_mapping_alone():
    mapping = IntegrationTableMapping.objects.get(name="CUSTOMER")
    mapping.sync_only_coupled = False
    mapping.save()
    mapping.dependencies.clear()
    return mapping


def accounts_create(n):
    Account.objects.bulk_create(
        (Account(name=f"Account {i}", emailaddress1=f"a{i}@example.com", telephone1=f"+1 555 {i:06d}",
                 address1_city="Seattle", address1_line1=f"{i} Main St", customer_type_code="customer")
         for i in range(n)),
        batch_size=2000,
    )


def customer_world_with_references(n, *, users=5):
    """The CUSTOMER mapping with its prerequisites coupled by their own mappings, and N accounts referencing them.

    A handful of Sales users become ERP salespeople (SALESPEOPLE), three ERP currencies become Sales currencies
    (CURRENCY; USD, the ERP's local currency, is the Sales base currency), and the ERP payment terms, shipment methods
    and shipping agents of the demo are mapped to the Sales options (the option mappings' value maps). Then the
    CUSTOMER mapping is left alone (no dependencies: only it runs when timed), creating customers for uncoupled
    accounts. Returns the CUSTOMER mapping.
    """
    _customer_series()
    ConnectionSetup.get_solo()
    integration_setup_reset(names=[*PREREQUISITES, "CUSTOMER"])
    for i in range(users):
        SystemUser.objects.create(fullname=f"Seller {i}", first_name="Seller", last_name=str(i),
                                  internal_email=f"seller{i}@example.com", title="Sales Representative")
    TransactionCurrency.objects.create(iso_currency_code="USD", currency_name="US Dollar", currency_symbol="$")
    for iso in ISO_CODES[1:]:
        Currency.objects.create(code=iso, iso_code=iso, description=iso, symbol=iso)
    for code, description, due, discount, pct, _ in PAYMENT_TERMS:
        PaymentTerms.objects.create(code=code, description=description, due_date_calculation=due,
                                    discount_date_calculation=discount, discount_pct=pct)
    for code, description, _ in SHIPMENT_METHODS:
        ShipmentMethod.objects.create(code=code, description=description)
    for code, description, _ in SHIPPING_AGENTS:
        ShippingAgent.objects.create(code=code, description=description)
    for name in PREREQUISITES:
        mapping = IntegrationTableMapping.objects.get(name=name)
        mapping.sync_only_coupled = False  # creates what the other side lacks
        mapping.save()
        [job] = mapping_synchronize(mapping=mapping, direction=mapping.direction)
        assert job.status == "success" and not job.failed, (name, job.message, job.counts())
    accounts_with_references_create(n)
    return _customer_mapping_alone()


def accounts_with_references_create(n, *, batch=10_000):
    """N customer accounts, each with an owner, a currency and the three options, spread over a few values; written
    in batches so that the world leaves the process's peak memory low before the timed synchronisations."""
    owners = list(SystemUser.objects.filter(internal_email__startswith="seller").values_list("pk", flat=True))
    currencies = dict(TransactionCurrency.objects.values_list("iso_currency_code", "pk"))
    currency_ids = [currencies[iso] for iso in ISO_CODES]
    for start in range(0, n, batch):
        Account.objects.bulk_create([
            Account(name=f"Account {i}", emailaddress1=f"a{i}@example.com", telephone1=f"+1 555 {i:06d}",
                    telephone2=f"+1 556 {i:06d}", address1_line1=f"{i} Main St", address1_city="Seattle",
                    address1_postalcode=f"{98000 + i % 1000}", address1_country="US", customer_type_code="customer",
                    owner_id=owners[i % len(owners)], transaction_currency_id=currency_ids[i % len(currency_ids)],
                    payment_terms_code=PAYMENT_OPTIONS[i % len(PAYMENT_OPTIONS)],
                    address1_freight_terms_code=FREIGHT_OPTIONS[i % len(FREIGHT_OPTIONS)],
                    address1_shipping_method_code=SHIPPING_OPTIONS[i % len(SHIPPING_OPTIONS)])
            for i in range(start, min(n, start + batch))
        ], batch_size=2000)


def customers_salespeople_assign():
    """Every customer gets one of the coupled salespeople (a few UPDATEs): the salesperson only goes ERP → Sales,
    so the customers the synchronisation wrote have none."""
    salespeople = list(SalespersonPurchaser.objects.order_by("pk").values_list("pk", flat=True))
    for k, salesperson in enumerate(salespeople):
        Customer.objects.annotate(k=F("pk") % len(salespeople)).filter(k=k).update(salesperson_id=salesperson)

