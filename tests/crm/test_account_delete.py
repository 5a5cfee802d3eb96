"""Deleting accounts keeps their contacts, without a company (and IsCompanyAnAccount cleared with it)."""

import pytest

from crm.models import Account, Contact

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["instance", "queryset"])
def test_deleting_an_account_detaches_its_contacts(path):
    account = Account.objects.create(name="Gone Ltd")
    other = Account.objects.create(name="Stays Ltd")
    leaving = Contact.objects.create(last_name="Left", parent_account=account)
    staying = Contact.objects.create(last_name="Kept", parent_account=other)

    if path == "instance":
        account.delete()
    else:
        Account.objects.filter(pk=account.pk).delete()

    leaving.refresh_from_db()
    staying.refresh_from_db()
    assert leaving.parent_account is None and not leaving.is_company_an_account
    assert staying.parent_account == other and staying.is_company_an_account
