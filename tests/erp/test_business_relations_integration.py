"""Business relations with the synchronisation engine: a propagation is a normal write, sent on once, never back."""

import pytest

from crm.models import Account, SystemUser
from erp.models import Contact, ContactBusinessRelation, Customer, SalespersonPurchaser
from integration.engine.sync import mapping_synchronize
from integration.models import Coupling
from tests.erp.business_relations_setup import customer_mapping_with_contacts

pytestmark = pytest.mark.django_db

TO, FROM = "to_integration", "from_integration"


@pytest.fixture
def customer_mapping(db):
    return customer_mapping_with_contacts()


@pytest.fixture
def customer(customer_mapping):
    """A customer with its automatic company contact, already synchronised to a Sales account."""
    user = SystemUser.objects.create(fullname="Anna Andersson", internal_email="anna@example.com")
    salesperson = SalespersonPurchaser.objects.create(code="AA", name="Anna Andersson")
    Coupling.objects.create(erp_model="erp.SalespersonPurchaser", crm_model="crm.SystemUser",
                            erp_id=salesperson.pk, crm_id=user.pk)
    customer = Customer.objects.create(name="Acme", phone_no="+46 8 100", salesperson=salesperson)
    assert run(customer_mapping, TO)[TO].inserted == 1
    return customer


def run(mapping, direction=None, **kwargs):
    mapping.refresh_from_db()
    return {job.direction: job for job in mapping_synchronize(mapping=mapping, direction=direction, **kwargs)}


def account_of(customer):
    coupling = Coupling.objects.get(erp_model="erp.Customer", crm_model="crm.Account", erp_id=customer.pk)
    return Account.objects.get(pk=coupling.crm_id)


def contact_of(customer):
    return ContactBusinessRelation.objects.get(link_to_table="customer", no=customer.no).contact


def test_a_contact_change_propagated_to_the_customer_is_sent_to_sales_once(customer_mapping, customer):
    contact = Contact.objects.get(pk=contact_of(customer).pk)
    contact.phone_no = "+46 8 200"
    contact.save()

    first = run(customer_mapping)
    assert first[TO].modified == 1
    assert account_of(customer).telephone1 == "+46 8 200"

    second = run(customer_mapping)
    for job in second.values():
        assert (job.inserted, job.modified, job.failed) == (0, 0, 0), job.counts()


def test_a_sales_change_propagated_to_the_contact_does_not_come_back_to_sales(customer_mapping, customer):
    account = account_of(customer)
    account.telephone1 = "+46 8 300"
    account.save()  # written by a Sales user, not the integration user
    account_modified = Account.objects.get(pk=account.pk).modifiedon

    first = run(customer_mapping)
    assert first[FROM].modified == 1
    contact = contact_of(customer)
    assert (Customer.objects.get(pk=customer.pk).phone_no, contact.phone_no) == ("+46 8 300", "+46 8 300")

    second = run(customer_mapping)
    for job in second.values():
        assert (job.inserted, job.modified, job.failed) == (0, 0, 0), job.counts()
    assert Account.objects.get(pk=account.pk).modifiedon == account_modified
