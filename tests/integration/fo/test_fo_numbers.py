"""docs/features.md P3: account and contact numbers are the natural keys of the integration; p2c_upgrade fills the
missing ones from the same sequences and sets Is Active Customer, idempotently, in batches, also while others write."""

import re

import pytest
from django.core.management import call_command

from crm.models import Account, Contact, Invoice, Quote, SalesOrder
from erp.models import Contact as ErpContact
from erp.models import Customer
from integration.fo.projects import project_run_execute, project_run_start
from integration.fo.upgrade import p2c_upgrade
from tests.concurrency import run_in_processes
from tests.integration.fo_helpers import make_account, make_contact

NUMBER = re.compile(r"^(ACC|CON)-\d{5,}-[A-Z]{6}$")

pytestmark = pytest.mark.django_db


def run(project, **kwargs):
    return project_run_execute(run_id=project_run_start(project=project, **kwargs).pk)


def test_erp_numbers_are_the_sales_numbers(fo_projects):
    account = make_account("Keyed AB")
    person = make_contact("Person", account=account)
    buyer = make_contact("Buyer", active=True)
    for name in ("accounts", "contacts", "contact_to_customer"):
        run(fo_projects[name])
    for number in (account.account_number, person.contact_number, buyer.contact_number):
        assert NUMBER.fullmatch(number)
    assert Customer.objects.filter(no=account.account_number).exists()
    assert ErpContact.objects.filter(no=person.contact_number, type="person").exists()
    assert Customer.objects.filter(no=buyer.contact_number, contact_type="person").exists()


def test_a_sales_record_without_its_number_fails_with_the_upgrade_hint(fo_projects):
    account = make_account("Unnumbered")
    Account.objects.filter(pk=account.pk).update(account_number="")
    result = run(fo_projects["accounts"]).task_runs.get()
    assert result.failed == 1
    assert "Account Number is blank" in result.sync_job.errors.get().message
    assert "p2c_upgrade" in result.sync_job.errors.get().message


def test_upgrade_fills_missing_numbers_and_sets_active_customers_idempotently(db):
    account = make_account("Old Co")
    with_quote = make_contact("Quoted", account=account)
    with_order = make_contact("Ordered")
    with_invoice = make_contact("Invoiced")
    idle = make_contact("Idle", account=account)
    Quote.objects.create(name="Q", customer_contact=with_quote)
    SalesOrder.objects.create(name="O", customer_contact=with_order)
    Invoice.objects.create(name="I", customer_contact=with_invoice)
    # As before the solution was installed: no numbers (blank or NULL: both are numbered), no flags.
    Account.objects.filter(pk=account.pk).update(account_number="")
    Contact.objects.filter(pk=idle.pk).update(contact_number="")
    Contact.objects.update(is_active_customer=False)
    Contact.objects.filter(pk=idle.pk).update(is_active_customer=True)  # a stale flag is cleared too

    result = p2c_upgrade(batch_size=2)
    assert result["accounts_numbered"] == 1 and result["contacts_numbered"] == 1
    assert NUMBER.fullmatch(Account.objects.get(pk=account.pk).account_number)
    idle.refresh_from_db()
    assert NUMBER.fullmatch(idle.contact_number) and not idle.is_active_customer
    assert set(Contact.objects.filter(is_active_customer=True).values_list("pk", flat=True)) == {
        with_quote.pk, with_order.pk, with_invoice.pk
    }
    numbers = list(Contact.objects.values_list("contact_number", flat=True))
    assert len(set(numbers)) == len(numbers)

    modified = dict(Contact.objects.values_list("pk", "modifiedon"))
    again = p2c_upgrade(batch_size=2)
    assert again == {"accounts_numbered": 0, "contacts_numbered": 0, "active_customers": 3,
                     "active_customers_changed": 0}
    assert dict(Contact.objects.values_list("pk", "modifiedon")) == modified  # nothing written the second time


def test_upgrade_command_prints_a_summary(db, capsys):
    make_contact("Someone")
    call_command("p2c_upgrade", "--batch-size", "10")
    assert "0 account(s) and 0 contact(s) numbered" in capsys.readouterr().out


def test_upgrade_queries_stay_constant_per_batch(db, django_assert_max_num_queries):
    Contact.objects.bulk_create([Contact(last_name=f"C{i}") for i in range(300)])
    # 300 contacts in batches of 100: 3 pages; per page one id read and the refresh (3 reads, 2 updates).
    with django_assert_max_num_queries(40):
        p2c_upgrade(batch_size=100)


# Concurrency (PostgreSQL, two OS processes) ------------------------------------------------------------------------

SCRIPT = """
import os
from crm.models import Contact
from integration.fo.upgrade import p2c_upgrade
numbers = []
for i in range(20):
    p2c_upgrade(batch_size=50)
    made = Contact.objects.bulk_create([Contact(last_name=f"New {os.getpid()} {i} {j}") for j in range(25)])
    numbers.extend(c.contact_number for c in made)
    numbers.append(Contact.objects.create(last_name=f"One {os.getpid()} {i}").contact_number)
print("\\n".join(numbers))
"""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_upgrade_and_new_contacts_in_two_processes_give_unique_numbers(tmp_path):
    make_account("Shared")
    Contact.objects.bulk_create([Contact(last_name=f"Existing {i}") for i in range(200)])
    Contact.objects.filter(pk=Contact.objects.order_by("pk").values("pk")[:1]).update(contact_number="")
    Account.objects.update(account_number="")
    outputs = run_in_processes(SCRIPT, processes=2, tmp_path=tmp_path)
    created = [n for out in outputs for n in out]
    assert len(created) == 2 * 20 * 26
    numbers = list(Contact.objects.values_list("contact_number", flat=True))
    assert len(numbers) == 200 + len(created)
    assert all(NUMBER.fullmatch(n) for n in numbers), [n for n in numbers if not NUMBER.fullmatch(n)][:5]
    assert len(set(numbers)) == len(numbers)
    values = [int(n.split("-")[1]) for n in numbers]
    assert len(set(values)) == len(values)  # the sequence part alone is unique too
    assert NUMBER.fullmatch(Account.objects.get().account_number)
