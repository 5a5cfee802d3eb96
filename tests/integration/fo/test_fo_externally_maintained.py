"""docs/features.md P5: ERP customers and contacts written by the F&O tasks are externally maintained: the ERP admin
shows their Sales-maintained fields read-only with a note, and the API refuses to change them (400, naming each
field)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from erp.models import Contact as ErpContact
from erp.models import Customer
from integration.fo.externally_maintained import externally_maintained_changes_refuse, externally_maintained_fields
from integration.fo.projects import project_run_execute, project_run_start
from tests.integration.fo_helpers import make_account, make_contact

pytestmark = pytest.mark.django_db


def run(project):
    return project_run_execute(run_id=project_run_start(project=project).pk)


@pytest.fixture
def synced(fo_projects):
    account = make_account("Maintained AB")
    person = make_contact("Person", account=account)
    buyer = make_contact("Buyer", active=True)
    for name in ("accounts", "contacts", "contact_to_customer"):
        run(fo_projects[name])
    return {
        "customer": Customer.objects.get(no=account.account_number),
        "person_customer": Customer.objects.get(no=buyer.contact_number),
        "contact": ErpContact.objects.get(no=person.contact_number),
        "account": account,
    }


def test_written_records_are_flagged_and_others_are_not(synced):
    assert synced["customer"].externally_maintained
    assert synced["person_customer"].externally_maintained
    assert synced["contact"].externally_maintained
    # The company contact the ERP made for the new customer (business relations) is the ERP's own.
    assert not ErpContact.objects.get(type="company", name="Maintained AB").externally_maintained


def test_mapped_fields_are_the_locked_ones(synced):
    customer_fields = externally_maintained_fields(Customer)
    assert {"no", "name", "phone_no", "email", "customer_group", "language_code", "site", "warehouse",
            "externally_maintained"} <= set(customer_fields)
    assert "blocked" not in customer_fields and "payment_terms" not in customer_fields
    contact_fields = externally_maintained_fields(ErpContact)
    assert {"no", "first_name", "surname", "email", "type"} <= set(contact_fields)
    assert "salesperson" not in contact_fields


def test_function_refuses_changes_to_mapped_fields_only(synced):
    customer = synced["customer"]
    with pytest.raises(ValidationError) as info:
        externally_maintained_changes_refuse(instance=customer, changes={"name": "Renamed", "blocked": "all"})
    assert set(info.value.message_dict) == {"name"}
    assert "maintained in Sales" in info.value.message_dict["name"][0]
    externally_maintained_changes_refuse(instance=customer, changes={"name": customer.name, "blocked": "all"})
    mine = Customer.objects.create(name="Mine", no="OWN1")
    externally_maintained_changes_refuse(instance=mine, changes={"name": "Free to change"})


def test_api_refuses_edits_of_mapped_fields(synced, admin_client):
    customer = synced["customer"]
    url = f"/api/erp/customers/{customer.no}/"
    refused = admin_client.patch(url, {"name": "Renamed in the ERP"}, content_type="application/json")
    assert refused.status_code == 400
    assert "maintained in Sales" in refused.json()["name"][0]
    allowed = admin_client.patch(url, {"blocked": "ship"}, content_type="application/json")
    assert allowed.status_code == 200, allowed.content
    contact = synced["contact"]
    refused = admin_client.patch(f"/api/erp/contacts/{contact.no}/", {"email": "x@example.com"},
                                 content_type="application/json")
    assert refused.status_code == 400 and "email" in refused.json()
    customer.refresh_from_db()
    assert customer.name == "Maintained AB" and customer.blocked == "ship"


def test_erp_admin_shows_them_read_only_with_a_note(synced, admin_client):
    customer = synced["customer"]
    url = reverse("admin:erp_customer_change", args=[customer.pk])
    page = admin_client.get(url)
    text = page.content.decode()
    assert page.status_code == 200
    assert "maintained in Sales" in text
    form = page.context["adminform"].form
    assert "name" not in form.fields and "phone_no" not in form.fields
    assert "blocked" in form.fields
    own = Customer.objects.create(name="Own customer", no="OWN2")
    own_form = admin_client.get(reverse("admin:erp_customer_change", args=[own.pk])).context["adminform"].form
    assert "name" in own_form.fields
    contact_page = admin_client.get(reverse("admin:erp_contact_change", args=[synced["contact"].pk]))
    assert "surname" not in contact_page.context["adminform"].form.fields
    assert "maintained in Sales" in contact_page.content.decode()


def test_next_run_does_not_undo_an_erp_change_to_an_unmapped_field(synced, fo_projects):
    customer = synced["customer"]
    Customer.objects.filter(pk=customer.pk).update(blocked="invoice")
    account = synced["account"]
    account.name = "Maintained AB (renamed in Sales)"
    account.save()
    run(fo_projects["accounts"])
    customer.refresh_from_db()
    assert customer.name == "Maintained AB (renamed in Sales)" and customer.blocked == "invoice"
