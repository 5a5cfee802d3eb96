"""The create_contacts command: contacts for customers, vendors and bank accounts made before the setup."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from erp.models import BankAccount, Contact, ContactBusinessRelation, Customer, MarketingSetup, Vendor
from tests.erp.business_relations_setup import configure, make_series

pytestmark = pytest.mark.django_db


def test_create_contacts_links_every_unlinked_record_once(db):
    configure(contact_nos=False)
    for i in range(3):
        Customer.objects.create(name=f"Customer {i}")
    Vendor.objects.create(name="Vendor")
    BankAccount.objects.create(name="Bank")
    marketing = MarketingSetup.get_solo()
    marketing.contact_nos = make_series("CONT", "CT000001")
    marketing.save()
    out = StringIO()
    call_command("create_contacts", stdout=out)
    assert "Create contacts from customers: 3 done." in out.getvalue()
    assert ContactBusinessRelation.objects.count() == 5
    call_command("create_contacts", "--customers", stdout=out)
    assert "Create contacts from customers: nothing to do." in out.getvalue()
    assert Contact.objects.count() == 5


def test_create_contacts_names_the_missing_setup_field(db):
    configure(codes=("CUST", "", "BANK"))
    Vendor.objects.create(name="Vendor")
    with pytest.raises(CommandError, match=r"Bus\. Rel\. Code for Vendors"):
        call_command("create_contacts", "--vendors", stdout=StringIO())
