"""Set-up shared by the business-relation tests: number series and Marketing Setup (docs/features.md B1)."""

from erp.models import (
    BusinessRelation,
    GeneralLedgerSetup,
    MarketingSetup,
    NoSeries,
    PurchasesPayablesSetup,
    SalesReceivablesSetup,
)


def make_series(code, starting_no):
    return NoSeries.objects.create(code=code, starting_no=starting_no)


def configure(*, contact_nos=True, codes=("CUST", "VEND", "BANK")):
    """Number series for every numbered table; Marketing Setup with a contact series and the relation codes."""
    sales = SalesReceivablesSetup.get_solo()
    sales.customer_nos = make_series("CUST", "C00010")
    sales.quote_nos = make_series("S-QUO", "SQ1001")
    sales.order_nos = make_series("S-ORD", "SO1001")
    sales.save()
    purchases = PurchasesPayablesSetup.get_solo()
    purchases.vendor_nos = make_series("VEND", "V00010")
    purchases.quote_nos = make_series("P-QUO", "PQ1001")
    purchases.order_nos = make_series("P-ORD", "PO1001")
    purchases.save()
    gl = GeneralLedgerSetup.get_solo()
    gl.bank_account_nos = make_series("BANK", "B010")
    gl.save()
    setup = MarketingSetup.get_solo()
    setup.contact_nos = make_series("CONT", "CT000001") if contact_nos else None
    customer_code, vendor_code, bank_code = codes
    setup.bus_rel_code_for_customers = BusinessRelation.objects.create(code=customer_code) if customer_code else None
    setup.bus_rel_code_for_vendors = BusinessRelation.objects.create(code=vendor_code) if vendor_code else None
    setup.bus_rel_code_for_bank_accounts = BusinessRelation.objects.create(code=bank_code) if bank_code else None
    setup.save()
    return setup


def customer_mapping_with_contacts():
    """`configure()`, an enabled connection with its integration user, and the default CUSTOMER mapping creating
    new customers (not only synchronising coupled ones)."""
    from crm.models import SystemUser
    from integration.defaults import integration_setup_reset
    from integration.models import ConnectionSetup, IntegrationTableMapping

    configure()
    connection_setup = ConnectionSetup.get_solo()
    connection_setup.is_enabled = True
    connection_setup.integration_user = SystemUser.objects.create(fullname="Business Central Integration",
                                                                  access_mode="integration")
    connection_setup.save()
    integration_setup_reset()
    mapping = IntegrationTableMapping.objects.get(name="CUSTOMER")
    mapping.sync_only_coupled = False
    mapping.save()
    return mapping
