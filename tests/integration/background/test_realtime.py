"""Near-real-time synchronisation: a committed change to a coupled record is enqueued within seconds, once per
mapping and direction per transaction; never for the integration's own writes, never when switched off, and in a
constant number of queries for bulk writes."""

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.models import Account
from erp.models import Customer
from integration import tasks
from integration.background import realtime
from integration.engine.sync import mapping_synchronize
from integration.models import Coupling, IntegrationTableMapping, RealtimeChange, SyncJob
from integration.operations import queued_runs
from p2c.records import writing_as
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

TO, FROM = "to_integration", "from_integration"


class Sent(list):
    """The keyword arguments of the tasks sent, in order; ``countdowns``: each one's countdown."""

    def __init__(self):
        super().__init__()
        self.countdowns = []

    def apply_async(self, kwargs=None, countdown=None, **options):
        self.append(kwargs)
        self.countdowns.append(countdown)


@pytest.fixture
def sent(monkeypatch):
    calls = Sent()
    monkeypatch.setattr(tasks.synchronize_mapping_task, "apply_async", calls.apply_async)
    return calls


@pytest.fixture
def coupled(mappings, salesperson_pair, django_capture_on_commit_callbacks):
    """Five customers synchronised to Sales (coupled), with the CUSTOMER mapping switched to near-real-time."""
    salesperson, _ = salesperson_pair
    mapping = mappings["CUSTOMER"]
    customers = [CustomerFactory(no=f"K{i}", name=f"Customer {i}", email=f"c{i}@example.com", salesperson=salesperson)
                 for i in range(5)]
    mapping_synchronize(mapping=mapping, direction=TO, create_new=True)
    mapping.realtime_sync = True
    mapping.save()  # clears the cached configuration
    realtime.config_clear()
    accounts = {c.crm_id: c.erp_id for c in Coupling.objects.filter(erp_model="erp.Customer")}
    assert len(accounts) == 5
    return mapping, customers, list(Account.objects.filter(pk__in=accounts))


def test_a_committed_change_enqueues_its_synchronisation(coupled, sent, django_capture_on_commit_callbacks):
    mapping, customers, _ = coupled
    with django_capture_on_commit_callbacks(execute=True):
        customers[0].phone_no = "+46 8 123"
        customers[0].save()
        assert sent == []  # not before the commit
    assert sent == [{"mapping_id": mapping.pk, "direction": TO, "only_ids": [str(customers[0].pk)]}]


def test_a_sales_change_goes_the_other_way(coupled, sent, django_capture_on_commit_callbacks):
    mapping, _, accounts = coupled
    with django_capture_on_commit_callbacks(execute=True):
        accounts[0].telephone1 = "+1 555 0000"
        accounts[0].save()
    assert sent == [{"mapping_id": mapping.pk, "direction": FROM, "only_ids": [str(accounts[0].pk)]}]


def test_many_writes_in_one_transaction_make_one_task(coupled, sent, django_capture_on_commit_callbacks):
    _mapping, customers, _ = coupled
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for customer in customers[:3]:
            customer.phone_no = "+46 8 999"
            customer.save()
        customers[0].save()
    assert len(sent) == 1
    assert sorted(sent[0]["only_ids"]) == sorted(str(c.pk) for c in customers[:3])


def test_rolled_back_change_enqueues_nothing(coupled, sent, django_capture_on_commit_callbacks):
    _, customers, _ = coupled
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            customers[0].phone_no = "+46 8 999"
            customers[0].save()
            raise RuntimeError
        customers[1].phone_no = "+46 8 111"
        customers[1].save()
    assert [call["only_ids"] for call in sent] == [[str(customers[1].pk)]]


def test_switched_off_or_uncoupled_enqueues_nothing(coupled, sent, django_capture_on_commit_callbacks):
    mapping, customers, _ = coupled
    with django_capture_on_commit_callbacks(execute=True):
        CustomerFactory(no="NEW").save()  # created, and not coupled anyway
        uncoupled = CustomerFactory(no="NEW2")
        uncoupled.phone_no = "1"
        uncoupled.save()
    assert sent == []

    mapping.realtime_sync = False
    mapping.save()
    with django_capture_on_commit_callbacks(execute=True):
        customers[0].phone_no = "+46 8 999"
        customers[0].save()
    assert sent == []


def test_sales_writes_by_the_integration_user_are_never_enqueued(coupled, sent, integration_user,
                                                               django_capture_on_commit_callbacks):
    _mapping, _customers, accounts = coupled
    with django_capture_on_commit_callbacks(execute=True), writing_as(integration_user.pk):
        accounts[0].telephone1 = "+1 555 1111"
        accounts[0].save()
        Account.objects.filter(pk=accounts[1].pk).update(telephone1="+1 555 1112")
    assert sent == []


def test_engine_writes_into_sales_are_not_echoed(coupled, sent, django_capture_on_commit_callbacks):
    mapping, customers, _ = coupled
    with django_capture_on_commit_callbacks(execute=True):
        Customer.objects.filter(pk=customers[0].pk).update(phone_no="+46 8 777")
    assert [call["direction"] for call in sent] == [TO]
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        mapping_synchronize(mapping=mapping, direction=TO, only_ids=[customers[0].pk])
        account = Account.objects.get(pk=Coupling.objects.get(erp_id=customers[0].pk, erp_model="erp.Customer").crm_id)
        assert account.telephone1 == "+46 8 777"
        Account.objects.filter(pk=account.pk).update(telephone1="+46 8 000")  # a person's change, later
    # Only the person's change is enqueued, not the engine's write.
    assert sent == [{"mapping_id": mapping.pk, "direction": FROM, "only_ids": [str(account.pk)]}]


def test_engine_writes_into_the_erp_are_not_echoed(coupled, sent, django_capture_on_commit_callbacks):
    mapping, _customers, accounts = coupled
    with django_capture_on_commit_callbacks(execute=True):
        Account.objects.filter(pk=accounts[0].pk).update(telephone1="+1 555 2222")
    assert len(sent) == 1
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        mapping_synchronize(mapping=mapping, direction=FROM, only_ids=[accounts[0].pk])
    customer = Customer.objects.get(pk=Coupling.objects.get(crm_id=accounts[0].pk).erp_id)
    assert customer.phone_no == "+1 555 2222"
    assert sent == []  # the engine stored the customer's new modified-on in the coupling: no echo


def test_queryset_update_is_enqueued(coupled, sent, django_capture_on_commit_callbacks):
    _mapping, customers, _ = coupled
    with django_capture_on_commit_callbacks(execute=True):
        Customer.objects.filter(pk__in=[c.pk for c in customers[:2]]).update(phone_no="+46 8 222")
    assert len(sent) == 1
    assert sorted(sent[0]["only_ids"]) == sorted(str(c.pk) for c in customers[:2])


def test_bulk_writes_cost_a_constant_number_of_queries(mappings, salesperson_pair, sent,
                                                      django_capture_on_commit_callbacks):
    salesperson, _ = salesperson_pair
    mapping = mappings["CUSTOMER"]
    customers = Customer.objects.bulk_create([
        Customer(no=f"B{i:03d}", name=f"Bulk {i}", email=f"b{i}@example.com", salesperson=salesperson)
        for i in range(60)
    ])
    mapping_synchronize(mapping=mapping, direction=TO, create_new=True)
    IntegrationTableMapping.objects.filter(pk=mapping.pk).update(realtime_sync=True)
    realtime.config_clear()
    realtime.realtime_config()  # warm the cache, as a running process has it

    def queries_for(rows):
        for row in rows:
            row.phone_no = "+46 8 555"
        with CaptureQueriesContext(connection) as ctx, django_capture_on_commit_callbacks(execute=True):
            Customer.objects.bulk_update(rows, ["phone_no"])
        return len(ctx.captured_queries)

    sent.clear()
    few, many = queries_for(customers[:5]), queries_for(customers[5:60])
    assert few == many
    # The second commit finds the first's run on its way (its records noted, not taken yet): noted, not enqueued
    assert [len(call["only_ids"]) for call in sent] == [5]
    assert RealtimeChange.objects.filter(table_mapping=mapping, direction=TO).count() == 60


def test_changes_committed_while_a_run_is_on_its_way_go_in_that_one_run(coupled, sent,
                                                                         django_capture_on_commit_callbacks):
    """A steady stream of commits (someone editing customers one after the other) is synchronised a run for many:
    the commits after the first find its run on its way and enqueue nothing; the run takes all of them, in one job;
    a commit after that run enqueues a run of its own."""
    mapping, customers, _ = coupled
    for i, customer in enumerate(customers[:3]):
        with django_capture_on_commit_callbacks(execute=True):
            customer.phone_no = f"+46 8 70{i}"
            customer.save()
    assert sent == [{"mapping_id": mapping.pk, "direction": TO, "only_ids": [str(customers[0].pk)]}]
    jobs = SyncJob.objects.count()
    with django_capture_on_commit_callbacks(execute=True):  # what the run's own writes leave to the commit
        result = tasks.synchronize_mapping_task.apply(kwargs=sent[0]).get()
    assert result["records"] == 3 and SyncJob.objects.count() == jobs + 1
    phones = dict(Account.objects.values_list("pk", "telephone1"))
    couplings = dict(Coupling.objects.filter(erp_model="erp.Customer").values_list("erp_id", "crm_id"))
    assert [phones[couplings[c.pk]] for c in customers[:3]] == ["+46 8 700", "+46 8 701", "+46 8 702"]
    assert not RealtimeChange.objects.exists()
    # A task whose record an earlier run took does nothing, not even a job
    assert tasks.synchronize_mapping_task.apply(kwargs=sent[0]).get()["jobs"] == []
    assert SyncJob.objects.count() == jobs + 1
    with django_capture_on_commit_callbacks(execute=True):
        customers[3].phone_no = "+46 8 703"
        customers[3].save()
    assert sent[1:] == [{"mapping_id": mapping.pk, "direction": TO, "only_ids": [str(customers[3].pk)]}]


def test_a_record_changed_again_while_its_run_goes_on_is_taken_by_the_next(coupled, sent, monkeypatch,
                                                                            django_capture_on_commit_callbacks):
    """The run took the record, then it changed again before the run ended: it stays noted, and the run enqueues
    the next, which synchronises the later change after the countdown a commit waits (so that a steady stream of
    changes is taken a few seconds' worth a run)."""
    mapping, customers, _ = coupled
    with django_capture_on_commit_callbacks(execute=True):
        customers[0].phone_no = "+46 8 1"
        customers[0].save()
    run = queued_runs.mapping_synchronize

    def changed_meanwhile(request):
        results = run(request)
        # Committed in another process as the run ends: its flush notes it (here, in the test's one transaction, the
        # flush of the run's own writes would come first)
        Customer.objects.filter(pk=customers[0].pk).update(phone_no="+46 8 2", modified_at=timezone.now())
        assert realtime.changes_note(mapping, TO, [customers[0].pk]) is False  # its own record only: not on its way
        return results

    monkeypatch.setattr(queued_runs, "mapping_synchronize", changed_meanwhile)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.synchronize_mapping_task.apply(kwargs=sent[0]).get()
    monkeypatch.setattr(queued_runs, "mapping_synchronize", run)
    assert RealtimeChange.objects.get().record_id == str(customers[0].pk)
    # The next run is on its way (enqueued by the run that found the record noted again) and takes it
    follow_up = {"mapping_id": mapping.pk, "direction": TO, "only_ids": []}
    assert follow_up in sent[1:]
    assert sent.countdowns[sent.index(follow_up, 1)] == settings.P2C_REALTIME_DELAY_SECONDS
    assert tasks.synchronize_mapping_task.apply(kwargs=follow_up).get()["records"] == 1
    account = Coupling.objects.get(erp_model="erp.Customer", erp_id=customers[0].pk).crm_id
    assert Account.objects.get(pk=account).telephone1 == "+46 8 2"
    assert not RealtimeChange.objects.exists()


def test_noting_a_write_runs_no_query(coupled, django_assert_num_queries):
    _, customers, _ = coupled
    for cached in (False, True):
        if cached:
            realtime.realtime_config()
        else:
            realtime.config_clear()
        with django_assert_num_queries(0):  # the flush waits for the commit
            realtime.records_changed(model=Customer, instances=customers)
            realtime.records_changed(model=Customer, queryset=Customer.objects.filter(pk=customers[0].pk))


def test_end_to_end_eager_the_change_reaches_the_other_side(coupled, django_capture_on_commit_callbacks):
    _mapping, customers, _ = coupled
    with django_capture_on_commit_callbacks(execute=True):
        customers[2].phone_no = "+46 8 424242"
        customers[2].save()
    account = Account.objects.get(pk=Coupling.objects.get(erp_id=customers[2].pk, erp_model="erp.Customer").crm_id)
    assert account.telephone1 == "+46 8 424242"


def test_a_sales_in_this_database_is_not_polled_its_commits_tell_it(coupled, sent):
    """The poll of beat (P2C_SALES_POLL_SECONDS) is for a Sales over the Web API: here it does nothing."""
    from integration.models import SideCursor

    assert realtime.sales_changes_poll() == {}
    assert sent == [] and not SideCursor.objects.exists()
