"""Builders shared by the Finance and Operations project tests (tests/integration/fo/test_*.py)."""

from crm.models import Account, Contact, Quote
from integration.fo.templates import fo_templates_install, project_create
from integration.models import IntegrationTemplate


def make_project(template_name, name=None):
    fo_templates_install()
    template = IntegrationTemplate.objects.get(name=template_name)
    return project_create(template=template, name=name or template_name.split(" (")[0])


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
