"""The coupling column and filter tell each record's state (integration/coupling/state.py, admin_coupling_state.py):
not coupled, queued, coupled, failed (also an uncoupled record whose creation failed, and a job that failed as a
whole after a green "queued"), skipped with Restore; the filter offers the same states; the list keeps a constant
number of queries with every state on the page. Runs on SQLite and, with DATABASE_URL, on PostgreSQL."""

import itertools

import pytest
from django.utils import timezone

from crm.models import Account, TransactionCurrency
from erp.models import Customer, SalespersonPurchaser
from integration.coupling.couplings import coupling_create, coupling_for
from integration.coupling.state import CONFLICT, COUPLED, FAILED, NOT_COUPLED, QUEUED, SKIPPED, STATES
from integration.models import (
    Direction,
    FailedInsert,
    IntegrationTableMapping,
    SyncConflict,
    SyncJob,
    SyncJobError,
    SyncJobRecord,
)
from integration.operations.queued_runs import queued_jobs_give_up
from integration.queue import mapping_synchronize_enqueue
from tests.admin_helpers import admin_url, changelist_queries
from tests.integration.helpers import ACTIVE

pytestmark = pytest.mark.django_db

TO_SALES, TO_ERP = Direction.TO_INTEGRATION, Direction.FROM_INTEGRATION
_serial = itertools.count(1)


@pytest.fixture
def superuser_client(client, db):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_superuser("root", "root@example.com", None))
    return client


@pytest.fixture
def later(mappings, django_capture_on_commit_callbacks):
    """Queue a synchronisation of ``records`` as the admin actions do; ``run``: and let the worker run it."""

    def queue(records, direction, *, run=True, create_new=None):
        with django_capture_on_commit_callbacks(execute=run):
            return mapping_synchronize_enqueue(mapping=mappings["CUSTOMER"], direction=direction,
                                             only_ids=[r.pk for r in records], full=True, create_new=create_new,
                                             skip_coupled=bool(create_new))

    return queue


def stranger():
    """A salesperson not coupled to any Sales user: a customer of theirs cannot be written to Sales."""
    n = next(_serial)
    return SalespersonPurchaser.objects.create(code=f"X{n}", name=f"Nobody {n}")


def customers_in_every_state(later, salesperson, tag):
    """{state: [customers]} with every state of the column on the ERP customers list, made by real runs."""
    good = {"salesperson": salesperson}
    made = {state: [] for state, _label in STATES}
    made[NOT_COUPLED].append(Customer.objects.create(name=f"{tag} plain", **good))
    coupled = Customer.objects.create(name=f"{tag} coupled", **good)
    coupling_create(erp_record=coupled, crm_record=Account.objects.create(name=f"{tag} coupled", **ACTIVE))
    made[COUPLED].append(coupled)

    waiting = Customer.objects.create(name=f"{tag} waiting", **good)
    later([waiting], TO_SALES, run=False, create_new=True)  # no worker yet
    made[QUEUED].append(waiting)

    refused = Customer.objects.create(name=f"{tag} refused", salesperson=stranger())
    later([refused], TO_SALES, create_new=True)  # "Create in Sales": its creation fails
    broken = Customer.objects.create(name=f"{tag} broken", **good)
    coupling_create(erp_record=broken, crm_record=Account.objects.create(name=f"{tag} broken", **ACTIVE))
    broken.salesperson = stranger()
    broken.save()
    later([broken], TO_SALES)  # "Synchronise now": its update fails
    gave_up = Customer.objects.create(name=f"{tag} gave up", **good)
    jobs = later([gave_up], TO_SALES, run=False, create_new=True)
    queued_jobs_give_up(mapping_id=jobs[0].table_mapping_id, job_ids=[j.pk for j in jobs], tries=20)
    made[FAILED] += [refused, broken, gave_up]

    stubborn = Customer.objects.create(name=f"{tag} stubborn", salesperson=stranger())
    later([stubborn], TO_SALES, create_new=True)
    later([stubborn], TO_SALES, create_new=True)  # the same failure twice: skipped until restored
    made[SKIPPED].append(stubborn)

    disputed = Customer.objects.create(name=f"{tag} disputed", **good)
    coupling = coupling_create(erp_record=disputed, crm_record=Account.objects.create(name=f"{tag} disputed",
                                                                                      **ACTIVE))
    SyncConflict.objects.create(coupling=coupling, table_mapping=IntegrationTableMapping.objects.get(name="CUSTOMER"),
                                since=timezone.now())  # changed on both sides: in the conflict inbox
    made[CONFLICT].append(disputed)
    return made


def page_states(client, model, **params):
    queries, response, _sql = changelist_queries(client, model, **params)
    return queries, {row.pk: row._p2c_state for row in response.context["cl"].result_list}, response


def test_every_state_shows_in_the_column_and_the_filter_of_the_erp_list(superuser_client, later, salesperson_pair):
    made = customers_in_every_state(later, salesperson_pair[0], "A")
    _n, states, response = page_states(superuser_client, Customer)
    html = response.content.decode()
    for state, customers in made.items():
        for customer in customers:
            assert states[customer.pk].state == state, customer.name
        _n, filtered, _response = page_states(superuser_client, Customer, coupling=state)
        assert set(filtered) == {c.pk for c in customers} | (
            {c.pk for c in Customer.objects.filter(salesperson=salesperson_pair[0]).exclude(name__startswith="A")}
            if state == NOT_COUPLED else set()), state

    refused, broken, gave_up = made[FAILED]
    # An uncoupled customer whose creation failed: the error's text, one click to that error.
    error = SyncJobError.objects.get(source_model="erp.Customer", source_id=str(refused.pk))
    assert states[refused.pk].error_id == error.pk and states[refused.pk].message == error.message
    assert admin_url(SyncJobError, "change", error.pk) in html
    assert "salesperson" in error.message.lower() or "Salesperson" in error.message
    # A coupled one whose update failed: its error, and its counterpart's link.
    assert states[broken.pk].error_id == SyncJobError.objects.get(source_id=str(broken.pk)).pk
    assert admin_url(Account, "change", coupling_for(broken).crm_id) in html
    # A job that failed as a whole: its message, one click to the job.
    job = SyncJob.objects.get(records__record_id=str(gave_up.pk))
    assert states[gave_up.pk].job_id == job.pk and "stayed busy" in states[gave_up.pk].message
    assert admin_url(SyncJob, "change", job.pk) in html
    # Queued: the job that will run it.
    waiting = made[QUEUED][0]
    assert admin_url(SyncJob, "change", states[waiting.pk].job_id) in html
    # Skipped: a Restore of that one record.
    stubborn = made[SKIPPED][0]
    assert admin_url(Customer, "coupling_restore", stubborn.pk) in html


def test_every_state_shows_on_the_sales_list_too(superuser_client, later, salesperson_pair):
    """Sales ids are UUIDs (kept as 32 hex digits by SQLite): the filter matches them with the job records and
    failed inserts as the engine writes them."""
    _salesperson, user = salesperson_pair
    plain = Account.objects.create(name="S plain", owner=user, **ACTIVE)
    coupled = Account.objects.create(name="S coupled", owner=user, **ACTIVE)
    coupling_create(erp_record=Customer.objects.create(name="S coupled"), crm_record=coupled)
    # Queued through its counterpart: a "Synchronise now" of its ERP customer to Sales.
    waiting = Account.objects.create(name="S waiting", owner=user, **ACTIVE)
    waiting_customer = Customer.objects.create(name="S waiting", salesperson=salesperson_pair[0])
    coupling_create(erp_record=waiting_customer, crm_record=waiting)
    later([waiting_customer], TO_SALES, run=False)
    # Failed: its creation in the ERP fails (its currency is not coupled to an ERP currency).
    odd = {"owner": user, "transaction_currency": TransactionCurrency.objects.create(iso_currency_code="XTS",
                                                                                    currency_name="Test")}
    refused = Account.objects.create(name="S refused", **odd, **ACTIVE)
    later([refused], TO_ERP, create_new=True)
    assert FailedInsert.objects.filter(source_id=str(refused.pk), skipped=False).exists()
    gave_up = Account.objects.create(name="S gave up", owner=user, **ACTIVE)
    jobs = later([gave_up], TO_ERP, run=False, create_new=True)
    queued_jobs_give_up(mapping_id=jobs[0].table_mapping_id, job_ids=[j.pk for j in jobs], tries=20)
    # Skipped: the same failure twice.
    stubborn = Account.objects.create(name="S stubborn", **odd, **ACTIVE)
    later([stubborn], TO_ERP, create_new=True)
    later([stubborn], TO_ERP, create_new=True)
    expected = {NOT_COUPLED: {plain.pk}, COUPLED: {coupled.pk}, QUEUED: {waiting.pk}, FAILED: {refused.pk, gave_up.pk},
                SKIPPED: {stubborn.pk}}

    _n, states, _response = page_states(superuser_client, Account)
    for state, pks in expected.items():
        assert {pk for pk in states if states[pk].state == state} == pks, state
        _n, filtered, _response = page_states(superuser_client, Account, coupling=state)
        assert set(filtered) == pks, state


def test_the_list_keeps_its_query_count_with_every_state_on_the_page(superuser_client, later, salesperson_pair):
    customers_in_every_state(later, salesperson_pair[0], "A")
    few, states, _response = page_states(superuser_client, Customer)
    assert {s.state for s in states.values()} == {state for state, _label in STATES}
    for tag in "BCD":
        customers_in_every_state(later, salesperson_pair[0], tag)
    many, states, _response = page_states(superuser_client, Customer)
    assert len(states) == 32
    assert many == few


def test_a_later_success_outranks_a_job_that_failed_as_a_whole(superuser_client, later, salesperson_pair):
    customer = Customer.objects.create(name="Second try", salesperson=salesperson_pair[0])
    jobs = later([customer], TO_SALES, run=False, create_new=True)
    queued_jobs_give_up(mapping_id=jobs[0].table_mapping_id, job_ids=[j.pk for j in jobs], tries=20)
    _n, states, _response = page_states(superuser_client, Customer)
    assert states[customer.pk].state == FAILED

    later([customer], TO_SALES, create_new=True)  # tried again: created and coupled
    assert coupling_for(customer) is not None
    _n, states, _response = page_states(superuser_client, Customer)
    assert states[customer.pk].state == COUPLED
    _n, failed, _response = page_states(superuser_client, Customer, coupling=FAILED)
    assert customer.pk not in failed


def test_job_records_are_written_in_bulk_and_go_when_the_job_ends_with_results(later, salesperson_pair):
    customers = [Customer.objects.create(name=f"R{i}", salesperson=salesperson_pair[0]) for i in range(3)]
    jobs = later(customers, TO_SALES, run=False, create_new=True)
    assert SyncJobRecord.objects.filter(job=jobs[0]).count() == 3
    later(customers, TO_SALES, create_new=True)
    assert not SyncJobRecord.objects.filter(job__status__in=["success", "error"]).exists()
    assert SyncJobRecord.objects.filter(job=jobs[0]).count() == 3  # never run: still queued


def test_restore_from_the_list_restores_that_one_record(superuser_client, later, salesperson_pair):
    stubborn = [Customer.objects.create(name=f"Stubborn {i}", salesperson=stranger()) for i in range(2)]
    later(stubborn, TO_SALES, create_new=True)
    later(stubborn, TO_SALES, create_new=True)
    _n, states, _response = page_states(superuser_client, Customer)
    assert [states[c.pk].state for c in stubborn] == [SKIPPED, SKIPPED]

    url = admin_url(Customer, "coupling_restore", stubborn[0].pk)
    page = superuser_client.get(url)
    assert page.status_code == 200 and "Restore" in page.content.decode()
    done = superuser_client.post(url)
    assert done.status_code == 302 and done.url == admin_url(Customer, "changelist")
    _n, states, _response = page_states(superuser_client, Customer)
    assert [states[c.pk].state for c in stubborn] == [FAILED, SKIPPED]  # tried again by the next run
    assert not FailedInsert.objects.get(source_id=str(stubborn[0].pk)).skipped


def test_restore_needs_the_coupling_permission(client, later, mappings, salesperson_pair):
    from django.contrib.auth.models import Permission, User

    stubborn = Customer.objects.create(name="Stubborn", salesperson=stranger())
    later([stubborn], TO_SALES, create_new=True)
    later([stubborn], TO_SALES, create_new=True)
    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_customer", "view_coupling"]))
    client.force_login(user)
    response = client.get(admin_url(Customer, "changelist"))
    assert "Skipped" in response.content.decode()
    assert admin_url(Customer, "coupling_restore", stubborn.pk) not in response.content.decode()
    assert client.post(admin_url(Customer, "coupling_restore", stubborn.pk)).status_code == 403
    assert FailedInsert.objects.get(source_id=str(stubborn.pk)).skipped
