"""The admin doors of the business relations (docs/features.md B2-B4, B7): contact list and card, customer/vendor/bank
lists."""

import pytest
from django.contrib.admin import helpers
from django.contrib.auth.models import Permission
from django.urls import reverse

from erp.models import (
    BankAccount,
    Contact,
    ContactBusinessRelation,
    Customer,
    CustomerTemplate,
    InteractionLogEntry,
    PurchaseHeader,
    SalesHeader,
    SalespersonPurchaser,
    Vendor,
)
from tests.erp.business_relations_setup import configure

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_br(client, django_user_model):
    configure()
    user = django_user_model.objects.create_superuser("br-admin", "br@example.com", password=None)
    client.force_login(user)
    return client


def changelist(model):
    return reverse(f"admin:erp_{model._meta.model_name}_changelist")


def card_action(contact, slug):
    return reverse("admin:erp_contact_relation_action", args=[contact.pk, slug])


def run_list_action(client, model, action, objs, **extra):
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [o.pk for o in objs], **extra}
    return client.post(changelist(model), data, follow=True)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_create_as_customer_from_the_list_asks_for_the_template(admin_client_br):
    template = CustomerTemplate.objects.create(code="DOM", contact_type="company", customer_group="10")
    contacts = [Contact.objects.create(name=f"Firm {i}") for i in range(2)]
    page = admin_client_br.post(changelist(Contact), {"action": "create_customer",
                                                      helpers.ACTION_CHECKBOX_NAME: [c.pk for c in contacts]})
    assert page.status_code == 200
    assert "Customer template" in page.content.decode()
    done = run_list_action(admin_client_br, Contact, "create_customer", contacts, apply="1", template=template.pk)
    assert Customer.objects.filter(customer_group="10").count() == 2
    assert ContactBusinessRelation.objects.count() == 2
    assert ("Create as customer: 2 done. 2 customers created: customer C00010 Firm 0, customer C00011 Firm 1."
            in messages_of(done))


def test_create_as_customer_from_the_card_goes_to_the_new_customer(admin_client_br):
    contact = Contact.objects.create(name="Fabrikam")
    page = admin_client_br.get(reverse("admin:erp_contact_change", args=[contact.pk]))
    assert card_action(contact, "create-customer") in page.content.decode()
    form = admin_client_br.get(card_action(contact, "create-customer"))
    assert form.status_code == 200
    response = admin_client_br.post(card_action(contact, "create-customer"), {"apply": "1", "template": ""})
    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:erp_customer_change", args=[customer.pk])


def test_refusals_are_reported_not_raised(admin_client_br):
    contact = Contact.objects.create(name="Fabrikam")
    admin_client_br.post(card_action(contact, "create-vendor"), {"apply": "1"})
    response = admin_client_br.post(card_action(contact, "create-vendor"), {"apply": "1"}, follow=True)
    assert any("already has a business relation with vendor" in m for m in messages_of(response))
    assert Vendor.objects.count() == 1


def test_link_with_existing_customer_from_the_card(admin_client_br):
    contact = Contact.objects.create(name="Fabrikam", phone_no="1")
    customer = Customer.objects.create(name="Fabrikam Inc", phone_no="2")
    customer_contact = ContactBusinessRelation.objects.get(no=customer.no).contact
    # The automatic contact of the customer is unlinked first: a customer has one contact.
    ContactBusinessRelation.objects.filter(contact=customer_contact).delete()
    assert admin_client_br.get(card_action(contact, "link-customer")).status_code == 200
    response = admin_client_br.post(card_action(contact, "link-customer"),
                                    {"apply": "1", "record": customer.pk, "master": "record"})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.phone_no == "2"
    assert ContactBusinessRelation.objects.get(no=customer.no).contact == contact


def test_link_list_action_needs_one_contact(admin_client_br):
    contacts = [Contact.objects.create(name=f"Firm {i}") for i in range(2)]
    response = run_list_action(admin_client_br, Contact, "link_vendor", contacts)
    assert any("exactly one contact" in m for m in messages_of(response))
    response = admin_client_br.post(changelist(Contact), {"action": "link_vendor",
                                                          helpers.ACTION_CHECKBOX_NAME: [contacts[0].pk]})
    assert response.status_code == 302 and response.url == card_action(contacts[0], "link-vendor")


def test_documents_from_the_contact_list(admin_client_br):
    customer = Customer.objects.create(name="Acme")
    vendor_contact = Contact.objects.create(name="Supplier")
    Vendor.objects.create(name="Supplier")  # its own automatic contact
    linked = ContactBusinessRelation.objects.get(no=customer.no).contact
    response = run_list_action(admin_client_br, Contact, "sales_quote", [linked, vendor_contact])
    assert SalesHeader.objects.get().sell_to_customer == customer
    [message] = response.context["messages"]  # one made, one refused: a warning counting each kind
    assert message.level_tag == "warning", message
    assert message.message.startswith("Create sales quote: 1 done, 1 refused. ") and "not linked to a customer" in (
        message.message) and "1 sales quote created: sales quote SQ1001." in message.message
    run_list_action(admin_client_br, Contact, "sales_order", [linked])
    assert SalesHeader.objects.filter(document_type="order").count() == 1
    assert InteractionLogEntry.objects.filter(contact=linked).count() == 2


def test_purchase_order_from_the_card_goes_to_the_document(admin_client_br):
    vendor = Vendor.objects.create(name="Supplier")
    contact = ContactBusinessRelation.objects.get(no=vendor.no).contact
    response = admin_client_br.post(card_action(contact, "purchase-order"), {"apply": "1"})
    order = PurchaseHeader.objects.get()
    assert response.url == reverse("admin:erp_purchaseheader_change", args=[order.pk])


def test_create_contact_from_the_customer_vendor_and_bank_lists(admin_client_br):
    ContactBusinessRelation.objects.all().delete()
    customers = [Customer.objects.create(name=f"C{i}") for i in range(2)]
    ContactBusinessRelation.objects.all().delete()
    Contact.objects.all().delete()
    response = run_list_action(admin_client_br, Customer, "create_contacts", customers)
    assert "Create contact: 2 done." in messages_of(response)
    response = run_list_action(admin_client_br, Customer, "create_contacts", customers)
    [message] = response.context["messages"]  # nothing done: an error naming each record and its contact
    assert message.level_tag == "error" and "Create contact: 2 refused." in message.message
    assert f"{customers[0].no}: Customer {customers[0].no} is already linked to contact" in message.message
    bank = BankAccount.objects.create(name="Bank")
    Contact.objects.filter(business_relations__no=bank.no).delete()
    run_list_action(admin_client_br, BankAccount, "create_contacts", [bank])
    assert ContactBusinessRelation.objects.filter(no=bank.no).exists()


def test_actions_need_the_right_to_add_what_they_make(client, django_user_model):
    configure()
    user = django_user_model.objects.create_user("clerk", password=None, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_contact", "change_contact"]))
    client.force_login(user)
    contact = Contact.objects.create(name="Fabrikam")
    page = client.get(changelist(Contact))
    assert "create_customer" not in page.content.decode()
    assert client.get(card_action(contact, "create-customer")).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="add_customer"))
    assert client.get(card_action(contact, "create-customer")).status_code == 200


def test_log_email_from_the_contact_list_asks_for_the_subject(admin_client_br):
    seller = SalespersonPurchaser.objects.create(code="SP", name="Sam")
    contacts = [Contact.objects.create(name=f"Firm {i}", salesperson=seller) for i in range(2)]
    page = admin_client_br.post(changelist(Contact), {"action": "log_email",
                                                      helpers.ACTION_CHECKBOX_NAME: [c.pk for c in contacts]})
    assert page.status_code == 200
    assert 'name="subject"' in page.content.decode()
    assert not InteractionLogEntry.objects.exists()
    blank = run_list_action(admin_client_br, Contact, "log_email", contacts, apply="1", subject="")
    assert "subject" in blank.context["form"].errors and not InteractionLogEntry.objects.exists()

    done = run_list_action(admin_client_br, Contact, "log_email", contacts, apply="1", subject="Price list 2025")

    entries = InteractionLogEntry.objects.order_by("contact__no")
    assert [(e.contact, e.kind, e.description, e.salesperson) for e in entries] == [
        (contacts[0], "email", "Price list 2025", seller), (contacts[1], "email", "Price list 2025", seller)]
    assert any(m.startswith("Log e-mail: 2 done. 2 e-mails logged: ") for m in messages_of(done)), messages_of(done)


def test_log_email_from_the_card_returns_to_the_contact(admin_client_br):
    contact = Contact.objects.create(name="Fabrikam")
    other = SalespersonPurchaser.objects.create(code="OT", name="Olga")
    page = admin_client_br.get(reverse("admin:erp_contact_change", args=[contact.pk]))
    assert card_action(contact, "log-email") in page.content.decode()
    response = admin_client_br.post(card_action(contact, "log-email"),
                                    {"apply": "1", "subject": "Re: delivery", "salesperson": other.pk})
    assert response.status_code == 302
    assert response.url == reverse("admin:erp_contact_change", args=[contact.pk])
    entry = InteractionLogEntry.objects.get()
    assert (entry.contact, entry.description, entry.salesperson) == (contact, "Re: delivery", other)


def test_log_email_refuses_a_privacy_blocked_contact(admin_client_br):
    contact = Contact.objects.create(name="Fabrikam", privacy_blocked=True)
    response = run_list_action(admin_client_br, Contact, "log_email", [contact], apply="1", subject="Hello")
    assert any("blocked due to privacy" in m for m in messages_of(response)), messages_of(response)
    assert not InteractionLogEntry.objects.exists()


def test_log_email_needs_the_right_to_add_interactions(client, django_user_model):
    configure()
    user = django_user_model.objects.create_user("clerk", password=None, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_contact", "change_contact"]))
    client.force_login(user)
    contact = Contact.objects.create(name="Fabrikam")
    assert "log_email" not in client.get(changelist(Contact)).content.decode()
    assert client.get(card_action(contact, "log-email")).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="add_interactionlogentry"))
    assert "log_email" in client.get(changelist(Contact)).content.decode()
    assert client.get(card_action(contact, "log-email")).status_code == 200


def test_create_as_customer_with_two_made_and_two_refused_is_a_warning_told_alike_by_the_api(admin_client_br):
    """Door parity (docs/decisions.md#one-operation-every-door): the list action and the API batch run the same
    operation on the same kind of selection and tell the same counts and reasons; the admin says it as a warning, not a
    red error."""
    def arrange(tag):
        made = [Contact.objects.create(name=f"{tag} new {i}") for i in range(2)]
        refused = []
        for i in range(2):
            contact = Contact.objects.create(name=f"{tag} vendor {i}")
            Customer.objects.create(name=f"{tag} vendor {i}")  # its own automatic contact
            refused.append(contact)
        for contact in refused:  # a contact that is a customer already is refused
            run_list_action(admin_client_br, Contact, "create_customer", [contact], apply="1", template="")
        return made + refused

    contacts = arrange("Admin")
    response = run_list_action(admin_client_br, Contact, "create_customer", contacts, apply="1", template="")
    [message] = response.context["messages"]
    assert message.level_tag == "warning", message
    assert message.message.startswith("Create as customer: 2 done, 2 refused.")
    admin_reasons = message.message.count("already has a business relation with customer")

    contacts = arrange("Api")
    answer = admin_client_br.post("/api/erp/contacts/create-customers/", {"nos": [c.no for c in contacts]},
                                  content_type="application/json")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["created"], body["error"]) == (2, 2)
    assert body["summary"].startswith("Create as customer: 2 done, 2 refused.")
    assert body["summary"].count("already has a business relation with customer") == admin_reasons == 2
