"""Builders shared by the Finance and Operations project tests (tests/integration/test_fo_*.py)."""

import pytest

from crm.models import Account, Contact, Quote
from integration.fo.templates import (
    ACCOUNTS_TEMPLATE,
    CONTACT_TO_CUSTOMER_TEMPLATE,
    CONTACTS_TEMPLATE,
    fo_templates_install,
    project_create,
)
from integration.models import IntegrationTemplate


def make_project(template_name, name=None):
    fo_templates_install()
    template = IntegrationTemplate.objects.get(name=template_name)
    return project_create(template=template, name=name or template_name.split(" (")[0])


@pytest.fixture(name="fo_projects")
def fo_projects_fixture(integration_user, number_series):
    """The three projects, made from the shipped templates."""
    return {
        "accounts": make_project(ACCOUNTS_TEMPLATE),
        "contacts": make_project(CONTACTS_TEMPLATE),
        "contact_to_customer": make_project(CONTACT_TO_CUSTOMER_TEMPLATE),
    }


def make_account(name="Contoso", **kwargs):
    kwargs.setdefault("address1_country", "SE")
    return Account.objects.create(name=name, customer_type_code="customer", **kwargs)


def make_contact(last_name, *, account=None, parent_contact=None, active=False, **kwargs):
    contact = Contact.objects.create(last_name=last_name, first_name=kwargs.pop("first_name", "Ann"),
                                     parent_account=account, parent_contact=parent_contact, **kwargs)
    if active:
        Quote.objects.create(name=f"Quote for {last_name}", customer_contact=contact)
        contact.refresh_from_db()
    return contact
