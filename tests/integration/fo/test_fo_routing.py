"""docs/features.md P2: which Sales contacts become ERP customers, which ERP contact persons, which neither (and
why)."""

import pytest

from erp.models import Contact, ContactBusinessRelation, Customer
from integration.fo.projects import project_run_execute, project_run_start, task_run_skip_reasons
from integration.models import Coupling
from integration.rules.fo_contact import ACTIVE_CUSTOMER, COMPANY_IS_CONTACT, NO_COMPANY
from integration.rules.fo_contact_customer import NOT_ACTIVE
from tests.integration.fo_helpers import make_account, make_contact

pytestmark = pytest.mark.django_db


def run(project, **kwargs):
    return project_run_execute(run_id=project_run_start(project=project, **kwargs).pk)


def task_run(run_, name):
    return run_.task_runs.get(task_name=name)


def coupled(erp_model, sales_contact):
    return Coupling.objects.filter(erp_model=erp_model, crm_model="crm.Contact", crm_id=sales_contact.pk).first()


@pytest.mark.parametrize(
    ("active", "company", "expected"),
    [
        (True, "account", "customer"),
        (True, "contact", "customer"),
        (True, "none", "customer"),
        (False, "account", "contact"),
        (False, "contact", None),
        (False, "none", None),
    ],
)
def test_routing_truth_table(fo_projects, active, company, expected):
    account = make_account()
    boss = make_contact("Boss", account=account)
    kwargs = {"account": account} if company == "account" else {"parent_contact": boss} if company == "contact" else {}
    contact = make_contact("Routed", active=active, **kwargs)
    assert contact.is_active_customer is active
    assert contact.is_company_an_account is (company == "account")

    run(fo_projects["accounts"])
    contacts_run = run(fo_projects["contacts"])
    customers_run = run(fo_projects["contact_to_customer"])

    customer_coupling = coupled("erp.Customer", contact)
    contact_coupling = coupled("erp.Contact", contact)
    if expected == "customer":
        customer = Customer.objects.get(pk=customer_coupling.erp_id)
        assert customer.no == contact.contact_number
        assert customer.contact_type == "person" and customer.externally_maintained
        assert contact_coupling is None
    elif expected == "contact":
        person = Contact.objects.get(pk=contact_coupling.erp_id)
        assert person.no == contact.contact_number
        assert person.type == "person" and person.externally_maintained
        # Under the company contact of the customer coupled to the account.
        account_customer = Customer.objects.get(no=account.account_number)
        relation = ContactBusinessRelation.objects.get(link_to_table="customer", no=account_customer.no)
        assert person.company_id == relation.contact_id
        assert customer_coupling is None
    else:
        assert customer_coupling is None and contact_coupling is None
        assert not Customer.objects.filter(no=contact.contact_number).exists()
        assert not Contact.objects.filter(no=contact.contact_number).exists()

    # The runs say how many contacts each task left out, and why.
    contacts_reasons = task_run_skip_reasons(task_run(contacts_run, "Contacts"))
    customers_reasons = task_run_skip_reasons(task_run(customers_run, "ContactToCustomer"))
    if active:
        assert contacts_reasons.get(ACTIVE_CUSTOMER) == 1
    elif company == "contact":
        assert contacts_reasons == {COMPANY_IS_CONTACT: 1}
    elif company == "none":
        assert contacts_reasons == {NO_COMPANY: 1}
    # Boss is never an active customer; the routed contact only when not active.
    assert customers_reasons == {NOT_ACTIVE: 1 + (0 if active else 1)}


def test_contact_that_becomes_an_active_customer_gets_its_customer_once(fo_projects):
    from crm.models import Quote

    account = make_account()
    contact = make_contact("Later", account=account)
    run(fo_projects["accounts"])
    run(fo_projects["contacts"])
    run(fo_projects["contact_to_customer"])
    contact_coupling = coupled("erp.Contact", contact)
    assert contact_coupling is not None and coupled("erp.Customer", contact) is None

    Quote.objects.create(name="First quote", customer_contact=contact)
    contact.refresh_from_db()
    assert contact.is_active_customer
    second = run(fo_projects["contact_to_customer"])
    assert task_run(second, "ContactToCustomer").inserted == 1
    assert coupled("erp.Customer", contact) is not None
    # The contact keeps its contact coupling, and the Contacts task leaves it alone now.
    assert coupled("erp.Contact", contact).pk == contact_coupling.pk
    contacts_again = run(fo_projects["contacts"], full=True)
    assert task_run_skip_reasons(task_run(contacts_again, "Contacts")).get(ACTIVE_CUSTOMER) == 1

    # Repeated runs write no duplicate.
    for _ in range(2):
        run(fo_projects["accounts"], full=True)
        run(fo_projects["contacts"], full=True)
        again = run(fo_projects["contact_to_customer"], full=True)
        assert task_run(again, "ContactToCustomer").inserted == 0
    assert Customer.objects.filter(no=contact.contact_number).count() == 1
    assert Contact.objects.filter(no=contact.contact_number).count() == 1
    assert Customer.objects.filter(no=account.account_number).count() == 1


def test_reruns_write_no_duplicates_and_count_unchanged(fo_projects):
    account = make_account()
    for i in range(5):
        make_contact(f"P{i}", account=account)
    make_contact("Buyer", account=account, active=True)
    first = [run(fo_projects[name]) for name in ("accounts", "contacts", "contact_to_customer")]
    counts = (Customer.objects.count(), Contact.objects.count(), Coupling.objects.count())
    assert task_run(first[1], "Contacts").inserted == 5
    assert task_run(first[2], "ContactToCustomer").inserted == 1
    again = [run(fo_projects[name], full=True) for name in ("accounts", "contacts", "contact_to_customer")]
    assert (Customer.objects.count(), Contact.objects.count(), Coupling.objects.count()) == counts
    assert task_run(again[1], "Contacts").upserted == 0
    assert task_run(again[1], "Contacts").unchanged == 5
    assert task_run(again[1], "Contacts").read == 5


def test_couplings_lost_still_no_duplicates_thanks_to_the_natural_key(fo_projects):
    account = make_account()
    contact = make_contact("Keyed", account=account)
    run(fo_projects["accounts"])
    run(fo_projects["contacts"])
    Coupling.objects.filter(crm_model="crm.Contact").delete()
    again = run(fo_projects["contacts"], full=True)
    assert task_run(again, "Contacts").coupled == 1
    assert task_run(again, "Contacts").inserted == 0
    assert Contact.objects.filter(no=contact.contact_number).count() == 1


def test_contact_of_an_account_not_synchronised_fails_naming_the_account(fo_projects):
    synced = make_account("Synced")
    run(fo_projects["accounts"])
    late = make_account("Late Inc")
    make_contact("Orphan", account=late)
    result = run(fo_projects["contacts"])
    contacts = task_run(result, "Contacts")
    assert contacts.failed == 1 and contacts.status == "warning"
    messages = [e.message for e in contacts.sync_job.errors.all()]
    assert any("Late Inc" in m and "not coupled to an ERP customer" in m for m in messages), messages
    assert synced


def test_customer_without_company_contact_names_the_marketing_setup(fo_projects):
    from erp.models import MarketingSetup

    setup = MarketingSetup.get_solo()
    setup.contact_nos = None  # no contact number series: the ERP makes no company contact for new customers
    setup.save()
    account = make_account("No Contacts Inc")
    make_contact("Person", account=account)
    run(fo_projects["accounts"])
    contacts = task_run(run(fo_projects["contacts"]), "Contacts")
    message = contacts.sync_job.errors.get().message
    assert "has no company contact" in message and "Marketing Setup" in message
