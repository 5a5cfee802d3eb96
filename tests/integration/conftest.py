"""Fixtures of the integration's tests (the default mappings, the integration user and the number series they need
are in tests/conftest.py, shared with the API's and the back-office's tests)."""

import pytest

from crm.models import SystemUser
from erp.models import SalespersonPurchaser
from integration.fo.templates import ACCOUNTS_TEMPLATE, CONTACT_TO_CUSTOMER_TEMPLATE, CONTACTS_TEMPLATE
from integration.models import IntegrationTableMapping
from tests.factories import AccountFactory, CustomerFactory
from tests.integration.fo_helpers import make_project


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


@pytest.fixture
def fo_projects(integration_user, number_series):
    """The three projects, made from the shipped templates."""
    return {
        "accounts": make_project(ACCOUNTS_TEMPLATE),
        "contacts": make_project(CONTACTS_TEMPLATE),
        "contact_to_customer": make_project(CONTACT_TO_CUSTOMER_TEMPLATE),
    }


@pytest.fixture
def demo_sides(mappings):
    """A small two-sided data set: a salesperson known on both sides, customers and accounts that partly match."""
    user = SystemUser.objects.create(fullname="Anna Andersson", internal_email="anna@example.com")
    salesperson = SalespersonPurchaser.objects.create(code="AA", name="Anna Andersson", email="anna@example.com")
    for i in range(3):
        CustomerFactory(no=f"K{i}", name=f"Shared {i}", email=f"shared{i}@example.com", salesperson=salesperson)
        AccountFactory(name=f"Shared {i}", emailaddress1=f"shared{i}@example.com", owner=user)
    CustomerFactory(no="K9", name="Only in ERP", email="erp-only@example.com", salesperson=salesperson)
    AccountFactory(name="Only in Sales", emailaddress1="sales-only@example.com", owner=user)
    return salesperson, user
