"""The admin never writes a contact business relation directly: no add, no edit; deleting one only unlinks."""

import pytest
from django.contrib.admin import helpers

from erp.models import BusinessRelation, Contact, ContactBusinessRelation, Customer
from tests.admin_helpers import admin_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("cbr-admin", "cbr@example.com", password=None))
    return client


@pytest.fixture
def link(db):
    contact = Contact.objects.create(no="K1", name="Contoso")
    code = BusinessRelation.objects.create(code="CUST")
    Customer.objects.create(no="C1", name="Contoso")
    return ContactBusinessRelation.objects.create(contact=contact, business_relation=code, link_to_table="customer",
                                                  no="C1")


def test_a_link_cannot_be_added_or_edited_in_the_admin(admin_client, link):
    other = Contact.objects.create(no="K2", name="Other")
    data = {"contact": other.pk, "business_relation": link.business_relation_id, "link_to_table": "customer",
            "no": "C1"}
    assert admin_client.post(admin_url(ContactBusinessRelation, "add"), data).status_code == 403
    page = admin_client.get(admin_url(ContactBusinessRelation, "change", link.pk))
    assert page.status_code == 200 and 'name="no"' not in page.content.decode()
    assert admin_client.post(admin_url(ContactBusinessRelation, "change", link.pk), data).status_code == 403
    link.refresh_from_db()
    assert (link.contact.no, link.no) == ("K1", "C1")


def test_deleting_a_link_keeps_the_contact_and_the_customer(admin_client, link):
    response = admin_client.post(admin_url(ContactBusinessRelation, "changelist"), {
        "action": "delete_selected", helpers.ACTION_CHECKBOX_NAME: [link.pk], "post": "yes",
    })
    assert response.status_code == 302
    assert not ContactBusinessRelation.objects.exists()
    assert Contact.objects.filter(no="K1").exists() and Customer.objects.filter(no="C1").exists()
