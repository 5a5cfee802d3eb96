"""Fixtures for the engine tests: the default mappings, an integration user, number series on the ERP side."""

import pytest

from crm.models import SystemUser
from erp.models import (
    BusinessRelation,
    GeneralLedgerSetup,
    MarketingSetup,
    NoSeries,
    PurchasesPayablesSetup,
    SalespersonPurchaser,
    SalesReceivablesSetup,
)
from integration.defaults import integration_setup_reset
from integration.models import ConnectionSetup, Coupling, IntegrationTableMapping


@pytest.fixture
def number_series(db):
    series = {
        code: NoSeries.objects.create(code=code, starting_no=start, increment_by=10)
        for code, start in (("CUST", "C00010"), ("VEND", "V00010"), ("BANK", "B010"), ("CONT", "CT000010"))
    }
    sales = SalesReceivablesSetup.get_solo()
    sales.customer_nos = series["CUST"]
    sales.save()
    purchases = PurchasesPayablesSetup.get_solo()
    purchases.vendor_nos = series["VEND"]
    purchases.save()
    ledger = GeneralLedgerSetup.get_solo()
    ledger.bank_account_nos = series["BANK"]
    ledger.save()
    marketing = MarketingSetup.get_solo()
    marketing.contact_nos = series["CONT"]
    marketing.bus_rel_code_for_customers = BusinessRelation.objects.create(code="CUST", description="Customer")
    marketing.bus_rel_code_for_vendors = BusinessRelation.objects.create(code="VEND", description="Vendor")
    marketing.bus_rel_code_for_bank_accounts = BusinessRelation.objects.create(code="BANK", description="Bank")
    marketing.save()
    return series


@pytest.fixture
def integration_user(db):
    user = SystemUser.objects.create(fullname="Business Central Integration", access_mode="integration")
    setup = ConnectionSetup.get_solo()
    setup.is_enabled = True
    setup.integration_user = user
    setup.save()
    return user


@pytest.fixture
def mappings(db, integration_user, number_series):
    integration_setup_reset()
    return {m.name: m for m in IntegrationTableMapping.objects.all()}


@pytest.fixture
def salesperson_pair(mappings):
    """An ERP salesperson coupled to a Sales user, as the SALESPEOPLE mapping would leave them."""
    user = SystemUser.objects.create(fullname="Anna Andersson", internal_email="anna@example.com")
    salesperson = SalespersonPurchaser.objects.create(code="AA", name="Anna Andersson", email="anna@example.com")
    Coupling.objects.create(erp_model="erp.SalespersonPurchaser", crm_model="crm.SystemUser",
                            erp_id=salesperson.pk, crm_id=user.pk)
    return salesperson, user


@pytest.fixture
def customer_mapping(mappings):
    """The CUSTOMER mapping, creating customers for every account (not only coupled ones)."""
    mapping = mappings["CUSTOMER"]
    mapping.sync_only_coupled = False
    mapping.save()
    return mapping


class AnotherRun:
    """A run of another process holding ``mapping``, as real as this process can make one: a live holder with its
    lock (engine/locks.py: on PostgreSQL an advisory lock on a connection of its own) and its claim on the row."""

    def __init__(self, mapping):
        from integration.engine.locks import Holder, _take

        self.mapping, self.holder = mapping, Holder()
        self.token = self.holder.token
        assert _take(mapping, self.holder) is not None, f"{mapping.name} is held already"

    def finish(self):
        """It ends normally: its claim is cleared, its lock released."""
        IntegrationTableMapping.objects.filter(pk=self.mapping.pk, locked_by=self.token).update(
            locked_by="", locked_at=None)
        self.holder.close()

    def die(self):
        """It is killed: its claim stays on the row, its lock dies with it."""
        self.holder.close()


@pytest.fixture
def another_run(db):
    """``another_run(mapping)``: an `AnotherRun` holding ``mapping``; whatever is still held goes at teardown."""
    runs = []

    def hold(mapping):
        runs.append(AnotherRun(mapping))
        return runs[-1]

    yield hold
    for run in runs:
        run.die()
