"""What the engine benchmarks start from: the CUSTOMER mapping alone, creating a customer for every account (numbered
by a series of its own), and N Sales accounts."""

from crm.models import Account
from erp.models import NoSeries, SalesReceivablesSetup
from integration.defaults import integration_setup_reset
from integration.models import ConnectionSetup, IntegrationTableMapping


def customer_mapping_alone():
    """The CUSTOMER mapping, without its dependencies, creating customers for uncoupled accounts."""
    series = NoSeries.objects.create(code="CUST", starting_no="C000010")
    setup = SalesReceivablesSetup.get_solo()
    setup.customer_nos = series
    setup.save()
    ConnectionSetup.get_solo()
    integration_setup_reset(names=["CUSTOMER"])
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
