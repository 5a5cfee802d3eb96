"""docs/features.md P3: a database imported from elsewhere holds many accounts and contacts without a number (NULL: the
number columns are unique when set); p2c_upgrade numbers them all, and a second run changes nothing. Blank in (admin,
API, a save) is stored as NULL, never as a second ""."""

import importlib
import re

import pytest
from django.apps import apps
from django.core.management import call_command
from rest_framework.test import APIClient

from crm.models import Account, Contact
from tests.admin_helpers import admin_form_data, admin_url

NUMBER = re.compile(r"^(ACC|CON)-\d{5,}-[A-Z]{6}$")

pytestmark = pytest.mark.django_db


def imported(count):
    """``count`` accounts and contacts as an import leaves them: no numbers."""
    Account.objects.bulk_create([Account(name=f"Imported {i}") for i in range(count)])
    Contact.objects.bulk_create([Contact(last_name=f"Imported {i}") for i in range(count)])
    Account.objects.update(account_number=None)
    Contact.objects.update(contact_number=None)


def test_many_unnumbered_contacts_and_accounts_are_upgraded_once(capsys):
    imported(120)
    assert Contact.objects.filter(contact_number__isnull=True).count() == 120

    call_command("p2c_upgrade", "--batch-size", "50", "--no-progress")
    assert "120 account(s) and 120 contact(s) numbered" in capsys.readouterr().out
    numbers = list(Contact.objects.values_list("contact_number", flat=True))
    numbers += list(Account.objects.values_list("account_number", flat=True))
    assert all(NUMBER.fullmatch(n) for n in numbers) and len(set(numbers)) == 240

    before = {pk: (n, m) for pk, n, m in Contact.objects.values_list("pk", "contact_number", "modifiedon")}
    call_command("p2c_upgrade", "--no-progress")
    assert "0 account(s) and 0 contact(s) numbered" in capsys.readouterr().out
    after = {pk: (n, m) for pk, n, m in Contact.objects.values_list("pk", "contact_number", "modifiedon")}
    assert after == before


def test_the_migration_turns_blank_numbers_into_null():
    account = Account.objects.create(name="Old")
    contact = Contact.objects.create(last_name="Old")
    Account.objects.filter(pk=account.pk).update(account_number="")
    Contact.objects.filter(pk=contact.pk).update(contact_number="")
    migration = importlib.import_module("crm.migrations.0002_numbers_null_when_unnumbered")
    migration.blanks_to_null(apps, None)
    assert Account.objects.get(pk=account.pk).account_number is None
    assert Contact.objects.get(pk=contact.pk).contact_number is None


def test_saving_blank_numbers_stores_null_for_any_number_of_records():
    contacts = [Contact.objects.create(last_name=f"C{i}") for i in range(3)]
    for contact in contacts:
        contact.contact_number = ""
        contact.save()
    assert Contact.objects.filter(contact_number__isnull=True).count() == 3
    accounts = [Account.objects.create(name=f"A{i}") for i in range(2)]
    for account in accounts:
        account.account_number = ""
        account.save()
    assert Account.objects.filter(account_number__isnull=True).count() == 2


def test_api_blank_number_in_is_null_out(admin_user):
    api = APIClient()
    api.force_authenticate(user=admin_user)
    first, second = Contact.objects.create(last_name="One"), Contact.objects.create(last_name="Two")
    for contact in (first, second):
        response = api.patch(f"/api/crm/contacts/{contact.pk}/", {"contact_number": ""}, format="json")
        assert response.status_code == 200, response.data
        assert response.data["contact_number"] is None
    assert Contact.objects.filter(contact_number__isnull=True).count() == 2
    account = Account.objects.create(name="Blank")
    response = api.patch(f"/api/crm/accounts/{account.pk}/", {"account_number": ""}, format="json")
    assert response.status_code == 200 and response.data["account_number"] is None
    # A new record without a number still gets one from its sequence.
    response = api.post("/api/crm/contacts/", {"last_name": "New", "contact_number": ""}, format="json")
    assert response.status_code == 201 and NUMBER.fullmatch(response.data["contact_number"])


def test_admin_saves_two_contacts_without_a_number(admin_client):
    for name in ("One", "Two"):
        contact = Contact.objects.create(last_name=name)
        url = admin_url(Contact, "change", contact.pk)
        data = admin_form_data(admin_client.get(url))
        data["contact_number"] = ""
        response = admin_client.post(url, data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert Contact.objects.get(pk=contact.pk).contact_number is None
    response = admin_client.get(admin_url(Contact, "changelist"))
    assert response.status_code == 200
