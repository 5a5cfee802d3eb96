"""B5 and B6 hold whatever the door: the admin, the API (single records and bulk upsert, p2c.api.bulk), the engine."""

import pytest

from crm.models import Account, SystemUser
from erp.api.serializers import ErpContactSerializer, ErpCustomerSerializer
from erp.models import Contact, ContactBusinessRelation, Customer
from integration.engine.sync import mapping_synchronize
from integration.models import Coupling
from p2c.api.bulk import bulk_upsert
from tests.admin_helpers import admin_form_data, admin_url
from tests.api.clients import client_for
from tests.erp.business_relations_setup import configure, customer_mapping_with_contacts

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


# B5 through every door: the admin's add form, a plain API POST, the synchronisation engine ----------------------------
def linked_contact(no):
    relation = ContactBusinessRelation.objects.select_related("contact").get(link_to_table="customer", no=no)
    return relation.contact


def test_adding_a_customer_in_the_admin_makes_its_contact(db, admin_client):
    configure()
    url = admin_url(Customer, "add")
    data = admin_form_data(admin_client.get(url))
    data.update({"no": "", "name": "Contoso", "city": "Oslo", "phone_no": "+47 1"})
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    customer = Customer.objects.get(name="Contoso")
    contact = linked_contact(customer.no)
    assert (contact.type, contact.name, contact.city, contact.phone_no) == ("company", "Contoso", "Oslo", "+47 1")
    assert contact.no == "CT000001"  # from Marketing Setup's contact series
    relation = ContactBusinessRelation.objects.get(no=customer.no)
    assert relation.business_relation.code == "CUST"


def test_posting_a_customer_to_the_api_makes_its_contact(db, admin_user):
    configure()
    response = client_for(admin_user).post("/api/erp/customers/", {"name": "Fabrikam", "email": "info@fabrikam.test"}, format="json")
    assert response.status_code == 201, response.data
    contact = linked_contact(response.data["no"])
    assert (contact.type, contact.name, contact.email) == ("company", "Fabrikam", "info@fabrikam.test")
    assert ContactBusinessRelation.objects.get(no=response.data["no"]).business_relation.code == "CUST"


def test_a_sales_account_synchronised_as_a_new_customer_gets_its_contact(db):
    mapping = customer_mapping_with_contacts()
    owner = SystemUser.objects.create(fullname="Anna Andersson", internal_email="anna@example.com")
    Account.objects.create(name="Litware", telephone1="+46 8 100", address1_city="Uppsala",
                           customer_type_code="customer", owner=owner)

    [job] = mapping_synchronize(mapping=mapping, direction="from_integration")

    assert (job.inserted, job.failed) == (1, 0), job.counts()
    customer = Customer.objects.get(name="Litware")
    contact = linked_contact(customer.no)
    assert (contact.type, contact.name, contact.phone_no, contact.city) == ("company", "Litware", "+46 8 100", "Uppsala")
    assert ContactBusinessRelation.objects.get(no=customer.no).business_relation.code == "CUST"
    # The customer is coupled to the account; its contact is not synchronised by the CUSTOMER mapping.
    assert Coupling.objects.filter(erp_model="erp.Customer", erp_id=customer.pk).count() == 1
