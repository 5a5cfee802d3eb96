"""Newer data on the destination vs. update conflicts, Merge of selected records, and the integration user's rows
(docs/features.md I5; docs/decisions.md#the-conflict-inbox; as Business Central resolves update conflicts)."""

from decimal import Decimal

import pytest

from crm.models import Account
from erp.models import Customer
from integration.engine.sync import mapping_synchronize
from integration.models import Coupling, IntegrationFieldMapping, SyncJob, SyncJobError
from integration.tasks import synchronize_mapping_task
from p2c.records import writing_as

pytestmark = pytest.mark.django_db

TO, FROM = "to_integration", "from_integration"


@pytest.fixture
def coupled(customer_mapping, salesperson_pair):
    """Three ERP customers, coupled to the Sales accounts the first run made, everything in step."""
    salesperson, _ = salesperson_pair
    created = [Customer.objects.create(name=f"Customer {i}", email=f"c{i}@example.com", salesperson=salesperson,
                                       phone_no=f"+46 8 555 000{i}") for i in range(3)]
    mapping_synchronize(mapping=customer_mapping)
    return [(customer, account_of(customer)) for customer in created]


def account_of(customer):
    coupling = Coupling.objects.get(erp_model="erp.Customer", crm_model="crm.Account", erp_id=customer.pk)
    return Account.objects.get(pk=coupling.crm_id)


def sync(mapping, direction=None, **kwargs):
    mapping.refresh_from_db()
    return {job.direction: job for job in mapping_synchronize(mapping=mapping, direction=direction, **kwargs)}


def scheduled_run(mapping):
    """What the scheduler runs: the mapping's task with its id only (both directions, changed records)."""
    synchronize_mapping_task.apply(kwargs={"mapping_id": mapping.pk}).get()


def test_a_send_skips_the_newer_sales_record_and_the_scheduled_runs_bring_its_change_to_the_erp(
    customer_mapping, coupled
):
    (first, _), (customer, account), (third, third_account) = coupled
    account.telephone1 = "+46 8 999 9999"  # changed in Sales by a person after the last synchronisation
    account.save()
    third.phone_no = "+46 8 333 3333"  # changed in the ERP: this one the Send is for
    third.save()

    # Synchronise now → Send (ERP → Sales) of the three customers.
    send = sync(customer_mapping, TO, only_ids=[first.pk, customer.pk, third.pk])[TO]

    assert send.status == SyncJob.Status.SUCCESS, send.message
    assert (send.failed, send.skipped, send.modified, send.unchanged) == (0, 1, 1, 1), send.counts()
    assert "1 the Sales record holds newer data (Customer" in send.message
    assert customer.no in send.message
    assert not SyncJobError.objects.exists()
    account.refresh_from_db()
    assert account.telephone1 == "+46 8 999 9999"  # not overwritten
    coupling = Coupling.objects.get(erp_model="erp.Customer", erp_id=customer.pk)
    assert (coupling.last_crm_result, coupling.skipped) != ("failure", False) and not coupling.skipped
    third_account.refresh_from_db()
    assert third_account.telephone1 == "+46 8 333 3333"

    scheduled_run(customer_mapping)
    scheduled_run(customer_mapping)

    customer.refresh_from_db()
    assert customer.phone_no == "+46 8 999 9999"  # the Sales change reached the ERP
    assert not Coupling.objects.filter(skipped=True).exists()
    assert not Coupling.objects.filter(last_erp_result="failure").exists()
    assert not Coupling.objects.filter(last_crm_result="failure").exists()
    assert not SyncJobError.objects.exists()
    assert not SyncJob.objects.filter(failed__gt=0).exists()
    # And it settles: a further run finds nothing to do.
    last = sync(customer_mapping)
    assert all(job.modified == job.inserted == job.failed == job.skipped == 0 for job in last.values())


def test_a_full_run_skips_newer_targets_in_each_direction_and_both_changes_arrive(customer_mapping, coupled):
    (customer, account), (other, other_account), _ = coupled
    account.telephone1 = "+46 8 111 1111"
    account.save()
    other.phone_no = "+46 8 222 2222"
    other.save()

    jobs = sync(customer_mapping, full=True)

    assert (jobs[TO].modified, jobs[TO].skipped, jobs[TO].failed) == (1, 1, 0)
    assert (jobs[FROM].modified, jobs[FROM].failed) == (1, 0)
    customer.refresh_from_db()
    other_account.refresh_from_db()
    assert (customer.phone_no, other_account.telephone1) == ("+46 8 111 1111", "+46 8 222 2222")


def change_both(customer, account, erp_phone="111", crm_phone="222"):
    customer.refresh_from_db()
    customer.phone_no = erp_phone
    customer.save()
    account.refresh_from_db()
    account.telephone1 = crm_phone
    account.save()


@pytest.mark.parametrize(("resolution", "winner"), [("", None), ("send_update", "111"), ("get_update", "222")])
def test_a_send_of_a_record_changed_on_both_sides_follows_the_update_conflict_resolution(
    customer_mapping, coupled, resolution, winner
):
    customer_mapping.update_conflict_resolution = resolution
    customer_mapping.save()
    (customer, account), _, _ = coupled
    change_both(customer, account)

    send = sync(customer_mapping, TO, only_ids=[customer.pk])[TO]

    customer.refresh_from_db()
    account.refresh_from_db()
    coupling = Coupling.objects.get(erp_model="erp.Customer", erp_id=customer.pk)
    if winner is None:  # a real conflict: failed, with BC's message, the coupling marked failed
        assert send.failed == 1 and coupling.last_crm_result == "failure"
        assert "bi-directional" in SyncJobError.objects.get(job=send).message
        assert (customer.phone_no, account.telephone1) == ("111", "222")
    elif winner == "111":  # Send Update to Integration: the ERP wins
        assert send.modified == 1 and account.telephone1 == "111"
    else:  # Get Update from Integration: the Sales data is kept, skipped here, and goes the other way
        assert send.skipped == 1 and "the mapping keeps the Sales data" in send.message
        assert account.telephone1 == "222"
        sync(customer_mapping, FROM)
        customer.refresh_from_db()
        assert customer.phone_no == "222"


@pytest.mark.parametrize(("resolution", "winner"), [("", None), ("send_update", "111"), ("get_update", "222")])
def test_merge_of_selected_records_takes_each_change_where_it_belongs(customer_mapping, coupled, resolution, winner):
    """Synchronise now → Merge: both directions for the selected records; a conflict follows the resolution."""
    customer_mapping.update_conflict_resolution = resolution
    customer_mapping.save()
    (sales_changed, sales_account), (erp_changed, erp_account), (both, both_account) = coupled
    sales_account.telephone1 = "+46 8 100"
    sales_account.save()
    erp_changed.phone_no = "+46 8 200"
    erp_changed.save()
    change_both(both, both_account)

    jobs = sync(customer_mapping, "bidirectional", only_ids=[c.pk for c, _ in coupled], ids_side="erp")

    for record in (sales_changed, erp_changed, both, sales_account, erp_account, both_account):
        record.refresh_from_db()
    assert (sales_changed.phone_no, sales_account.telephone1) == ("+46 8 100", "+46 8 100")
    assert (erp_changed.phone_no, erp_account.telephone1) == ("+46 8 200", "+46 8 200")
    if winner is None:
        assert jobs[TO].failed == jobs[FROM].failed == 1
        assert (both.phone_no, both_account.telephone1) == ("111", "222")
    else:
        assert jobs[TO].failed == jobs[FROM].failed == 0
        assert (both.phone_no, both_account.telephone1) == (winner, winner)
    assert not Coupling.objects.filter(skipped=True).exists()


def test_merge_of_selected_records_leaves_the_others_alone(customer_mapping, coupled):
    (customer, account), (other, other_account), _ = coupled
    account.telephone1 = "+46 8 100"
    account.save()
    other_account.telephone1 = "+46 8 200"
    other_account.save()

    sync(customer_mapping, "bidirectional", only_ids=[account.pk], ids_side="crm")

    customer.refresh_from_db()
    other.refresh_from_db()
    assert customer.phone_no == "+46 8 100"
    assert other.phone_no != "+46 8 200"


def test_selected_records_in_both_directions_need_their_side(customer_mapping, coupled):
    with pytest.raises(ValueError, match="ids_side"):
        mapping_synchronize(mapping=customer_mapping, only_ids=[coupled[0][0].pk])


def test_both_sides_changed_on_different_fields_merge_over_the_two_passes(customer_mapping, coupled):
    """No bidirectional field conflicts: the ERP change (a field only the ERP writes) goes to Sales, and the Sales
    change (a field only Sales writes) still goes to the ERP in the other pass, although the first pass wrote the
    Sales record."""
    IntegrationFieldMapping.objects.create(table_mapping=customer_mapping, erp_field="mobile_phone_no",
                                           crm_field="telephone2", direction=FROM)
    (customer, account), _, _ = coupled
    customer.refresh_from_db()
    customer.credit_limit_lcy = Decimal("5000.00")
    customer.save()
    account.refresh_from_db()
    account.telephone2 = "+46 70 123"
    account.save()

    jobs = sync(customer_mapping)

    customer.refresh_from_db()
    account.refresh_from_db()
    assert account.credit_limit == Decimal("5000")
    assert customer.mobile_phone_no == "+46 70 123"
    assert jobs[TO].failed == jobs[FROM].failed == 0
    settled = sync(customer_mapping)
    assert all(job.modified == job.failed == 0 for job in settled.values()), [j.counts() for j in settled.values()]


@pytest.mark.parametrize("sales_only_field", [False, True])
def test_rows_written_by_the_integration_user_are_read_only_with_a_sales_to_erp_only_field(
    customer_mapping, coupled, integration_user, sales_only_field
):
    """A Sales-side process running as the integration user fills a field only Sales writes: with an enabled
    Sales → ERP only field mapping the row is read (as BC), otherwise it is the integration's own echo."""
    IntegrationFieldMapping.objects.create(table_mapping=customer_mapping, erp_field="mobile_phone_no",
                                           crm_field="telephone2", direction=FROM,
                                           status="enabled" if sales_only_field else "disabled")
    (customer, account), _, _ = coupled
    with writing_as(integration_user.pk):
        account.telephone2 = "+46 70 555"
        account.save()
    account.refresh_from_db()
    assert account.modifiedby_id == integration_user.pk

    job = sync(customer_mapping, FROM)[FROM]

    customer.refresh_from_db()
    if sales_only_field:
        assert job.modified == 1 and customer.mobile_phone_no == "+46 70 555"
    else:
        assert job.counts() == dict.fromkeys(SyncJob.COUNTERS, 0)
        assert customer.mobile_phone_no == ""


def test_which_side_changed_gives_the_direction_to_preselect(customer_mapping, coupled):
    from integration.engine.changes import coupled_changes

    (neither, _), (sales_changed, sales_account), (both, both_account) = coupled
    sales_account.telephone1 = "+46 8 100"
    sales_account.save()
    change_both(both, both_account)
    uncoupled = Customer.objects.create(name="Uncoupled Ltd")

    changes = coupled_changes(mapping=customer_mapping, side="erp",
                              ids=[neither.pk, sales_changed.pk, both.pk, uncoupled.pk])

    assert set(changes) == {neither.pk, sales_changed.pk, both.pk}
    assert (changes[neither.pk].erp, changes[neither.pk].crm) == (False, False)
    assert changes[neither.pk].direction == "bidirectional"  # Merge
    assert changes[sales_changed.pk].direction == FROM  # Get
    assert changes[both.pk].direction == "bidirectional"
    assert coupled_changes(mapping=customer_mapping, side="crm", ids=[sales_account.pk])[sales_account.pk].crm
