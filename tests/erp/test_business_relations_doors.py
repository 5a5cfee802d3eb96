"""B5 and B6 hold whatever the door: the API's bulk upsert (p2c.bulk) writes through the same model hooks."""

import pytest

from erp.api.serializers import ErpContactSerializer, ErpCustomerSerializer
from erp.models import Contact, ContactBusinessRelation, Customer
from p2c.bulk import bulk_upsert
from tests.erp.business_relations_setup import configure

pytestmark = pytest.mark.django_db


def test_bulk_upsert_of_new_customers_makes_their_contacts(db):
    configure()
    results = bulk_upsert(
        serializer_class=ErpCustomerSerializer, key_field="no",
        records=[{"no": f"C{i:04d}", "name": f"Customer {i}", "phone_no": str(i)} for i in range(50)],
    )
    assert {r["status"] for r in results} == {"created"}
    assert ContactBusinessRelation.objects.filter(link_to_table="customer").count() == 50
    assert Contact.objects.get(business_relations__no="C0007").phone_no == "7"


def test_bulk_upsert_of_contacts_propagates_to_their_customers(db):
    configure()
    Customer.objects.bulk_create([Customer(no=f"C{i:04d}", name=f"Customer {i}") for i in range(50)])
    contact_nos = list(Contact.objects.order_by("no").values_list("no", flat=True))
    results = bulk_upsert(
        serializer_class=ErpContactSerializer, key_field="no",
        records=[{"no": no, "email": f"{no.lower()}@example.com"} for no in contact_nos],
    )
    assert {r["status"] for r in results} == {"updated"}
    customer = Customer.objects.get(no="C0003")
    contact = ContactBusinessRelation.objects.get(no="C0003").contact
    assert customer.email == contact.email == f"{contact.no.lower()}@example.com"
    assert Customer.objects.exclude(email="").count() == 50
