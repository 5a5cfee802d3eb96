"""A list page costs a constant number of queries, whatever the page holds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Account, Contact, SystemUser, TransactionCurrency
from erp.models import Contact as ErpContact
from erp.models import Currency, Customer, PaymentTerms, SalespersonPurchaser

pytestmark = pytest.mark.django_db


def queries(api, url):
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url)
    assert response.status_code == 200
    return len(captured), len(response.data["results"])


def test_crm_accounts_and_contacts(api):
    owner = SystemUser.objects.create(fullname="Owner")
    currency = TransactionCurrency.objects.create(iso_currency_code="EUR", currency_name="Euro")
    for n in (3, 100):
        Contact.objects.all().delete()
        Account.objects.all().delete()
        accounts = Account.objects.bulk_create(
            [Account(name=f"A{i}", owner=owner, transaction_currency=currency) for i in range(n)]
        )
        Contact.objects.bulk_create([Contact(last_name=f"C{i}", parent_account=a) for i, a in enumerate(accounts)])
        counts = {url: queries(api, url) for url in ("/api/crm/accounts/", "/api/crm/contacts/")}
        if n == 3:
            few = counts
    assert {url: c for url, (c, _) in few.items()} == {url: c for url, (c, _) in counts.items()}
    assert all(rows == 100 for _, rows in counts.values())


def test_erp_customers_and_contacts(api):
    pat = SalespersonPurchaser.objects.create(code="PAT", name="Pat")
    terms = PaymentTerms.objects.create(code="14D")
    eur = Currency.objects.create(code="EUR")
    counts = {}
    for n in (3, 100):
        Customer.objects.all().delete()
        ErpContact.objects.filter(type="person").delete()
        ErpContact.objects.all().delete()
        companies = ErpContact.objects.bulk_create(
            [ErpContact(no=f"CT{n}-{i}", name=f"Co {i}", salesperson=pat) for i in range(n)]
        )
        ErpContact.objects.bulk_create(
            [ErpContact(no=f"P{n}-{i}", type="person", surname=f"P{i}", company=c) for i, c in enumerate(companies)]
        )
        Customer.objects.bulk_create([
            Customer(no=f"C{n}-{i}", name=f"C{i}", salesperson=pat, payment_terms=terms, currency=eur,
                     primary_contact=c)
            for i, c in enumerate(companies)
        ])
        counts[n] = [queries(api, url) for url in ("/api/erp/customers/", "/api/erp/contacts/")]
    assert [c for c, _ in counts[3]] == [c for c, _ in counts[100]]
    assert [rows for _, rows in counts[100]] == [100, 100]


def test_page_numbered_list(api):
    counts = {}
    for n in (3, 100):
        PaymentTerms.objects.all().delete()
        PaymentTerms.objects.bulk_create([PaymentTerms(code=f"T{n}-{i}") for i in range(n)])
        counts[n] = queries(api, "/api/erp/payment-terms/")
    assert counts[3][0] == counts[100][0]
