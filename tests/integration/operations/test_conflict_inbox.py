"""The conflict inbox (docs/features.md I5, I7; docs/decisions.md#the-conflict-inbox): the engine merges field by field
with the values kept per coupling, records the conflicts it cannot decide, and the resolution operation settles them
through the engine."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from crm.models import Account, StateCode
from erp.models import Customer
from integration.configuration.apply import configuration_import
from integration.configuration.export import configuration_data
from integration.engine.conflicts import field_key, synced_value, value_plain
from integration.engine.sync import mapping_synchronize
from integration.models import Coupling, SyncConflict, SyncJob, SyncJobError
from integration.operations.conflicts import conflicts_resolve
from p2c.outcomes import OperationRefused

pytestmark = pytest.mark.django_db

TO, FROM = "to_integration", "from_integration"


@pytest.fixture
def pair(customer_mapping, salesperson_pair):
    """One ERP customer and the Sales account the first run made, in step."""
    salesperson, _ = salesperson_pair
    customer = Customer.objects.create(name="Adatum", email="a@example.com", salesperson=salesperson,
                                       phone_no="+46 8 000")
    mapping_synchronize(mapping=customer_mapping)
    coupling = Coupling.objects.get(erp_model="erp.Customer", erp_id=customer.pk)
    return customer, Account.objects.get(pk=coupling.crm_id)


def edit(record, **values):
    record.refresh_from_db()
    for name, value in values.items():
        setattr(record, name, value)
    record.save()


def sync(mapping):
    mapping.refresh_from_db()
    return {job.direction: job for job in mapping_synchronize(mapping=mapping)}


def both(customer, account):
    customer.refresh_from_db()
    account.refresh_from_db()
    return customer, account


def conflict_made(mapping, customer, account):
    edit(customer, phone_no="+46 8 111", fax_no="+46 8 900")  # fax: the ERP only
    edit(account, telephone1="+46 8 222", emailaddress1="sales@example.com")  # email: Sales only
    sync(mapping)
    return SyncConflict.objects.get()


def kept(mapping, erp_field, crm_field):
    """The (ERP, Sales) values the customers' coupling keeps for a field mapping, as last synchronised."""
    key = field_key(mapping.field_mappings.get(erp_field=erp_field, crm_field=crm_field))
    values = Coupling.objects.get(erp_model="erp.Customer").synced_values
    return synced_value(values, "erp", key, erp_field)[1], synced_value(values, "crm", key, crm_field)[1]


def test_the_coupling_keeps_the_values_both_sides_had(customer_mapping, pair):
    customer, account = pair
    assert kept(customer_mapping, "phone_no", "telephone1") == ("+46 8 000", "+46 8 000")
    assert kept(customer_mapping, "name", "name") == ("Adatum", "Adatum")
    # A reference keeps each side's own value: the salesperson's code in the ERP, the user's key in Sales.
    assert kept(customer_mapping, "salesperson", "owner") == (customer.salesperson_id, str(account.owner_id))
    # Most values are the same on both sides: kept once, less than half the size of both sides by attribute name.
    values = Coupling.objects.get(erp_model="erp.Customer").synced_values
    assert values["fields"]["name"] == "Adatum"


def test_a_value_is_kept_as_text_that_compares_the_same_next_time():
    keys = [uuid.uuid4() for _ in range(5000)]  # more keys than the texts of keys remembered
    assert [value_plain(key) for key in keys + keys] == [str(key) for key in keys + keys]
    assert value_plain(Decimal("5000.00")) == value_plain(Decimal("5000")) == "5000"
    amounts = [Decimal(n).scaleb(-2) for n in range(-5000, 5000)]  # more amounts than the texts remembered
    for value in [Decimal("0.00"), Decimal("-0.00"), *amounts, Decimal("0"), Decimal("-0"), *amounts]:
        assert value_plain(value) == format(value.normalize(), "f")
    assert value_plain(datetime(2026, 11, 27, 8, 30, tzinfo=UTC)) == "2026-11-27T08:30:00+00:00"
    assert value_plain(date(2026, 11, 27)) == "2026-11-27"
    assert (value_plain(None), value_plain(True), value_plain(7), value_plain("a")) == (None, True, 7, "a")
    assert value_plain(StateCode.ACTIVE) == "active"  # an option: text


def older_form(mapping, values):
    """``values`` as couplings kept them formerly: each side by attribute name."""
    older = {"erp": {}, "crm": {}}
    for fm in mapping.field_mappings.all():
        for side, model, name in (("erp", Customer, fm.erp_field), ("crm", Account, fm.crm_field)):
            found, value = synced_value(values, side, field_key(fm), name)
            if found and name:
                older[side][model._meta.get_field(name).attname] = value
    return older


@pytest.mark.parametrize("fields", ["phone", "different"])
def test_values_kept_in_the_older_form_still_tell_which_side_changed(customer_mapping, pair, fields):
    customer, account = pair
    coupling = Coupling.objects.get(erp_model="erp.Customer")
    Coupling.objects.filter(pk=coupling.pk).update(synced_values=older_form(customer_mapping, coupling.synced_values))
    edit(customer, phone_no="+46 8 111")
    if fields == "phone":
        edit(account, telephone1="+46 8 222")
    else:
        edit(account, emailaddress1="sales@example.com")

    jobs = sync(customer_mapping)

    if fields == "phone":  # the same field on both sides: a conflict, nobody overwritten
        assert SyncConflict.objects.get().fields == ["phone_no"]
    else:  # different fields: merged without conflict, and kept in the new form
        sync(customer_mapping)
        customer, account = both(customer, account)
        assert (customer.phone_no, account.emailaddress1) == ("+46 8 111", "sales@example.com")
        assert (account.telephone1, customer.email) == ("+46 8 111", "sales@example.com")
        assert not SyncConflict.objects.exists() and all(job.failed == 0 for job in jobs.values())
        assert kept(customer_mapping, "phone_no", "telephone1") == ("+46 8 111", "+46 8 111")
        assert "fields" in Coupling.objects.get(erp_model="erp.Customer").synced_values


def test_values_kept_outlive_field_mappings_imported_again(customer_mapping, pair):
    """An import that changes one field mapping writes the mapping's field mappings anew (new pks): the values the
    couplings keep still tell which side changed which field."""
    customer, account = pair
    data = configuration_data(mappings=[customer_mapping.name])
    fields = data["mappings"][0]["fields"]
    fax = next(row for row in fields if row["erp_field"] == "fax_no")
    fax["validate_field"] = not fax["validate_field"]
    before = set(customer_mapping.field_mappings.values_list("pk", flat=True))
    configuration_import(data=data)
    assert before.isdisjoint(customer_mapping.field_mappings.values_list("pk", flat=True))
    edit(customer, phone_no="+46 8 111")
    edit(account, emailaddress1="sales@example.com")

    sync(customer_mapping)
    jobs = sync(customer_mapping)  # the ERP change in the next run, as without the import

    customer, account = both(customer, account)
    assert all(job.failed == 0 for job in jobs.values()) and not SyncConflict.objects.exists()
    assert (customer.phone_no, customer.email) == ("+46 8 111", "sales@example.com")
    assert (account.telephone1, account.emailaddress1) == ("+46 8 111", "sales@example.com")


def test_changes_of_different_fields_on_both_sides_merge_without_conflict(customer_mapping, pair):
    """The Sales change goes first (a Sales row the ERP → Sales pass wrote as the integration user would not be
    read back), the ERP change in the next scheduled run."""
    customer, account = pair
    edit(customer, phone_no="+46 8 111")
    edit(account, emailaddress1="sales@example.com")

    jobs = sync(customer_mapping)
    assert both(customer, account)[0].email == "sales@example.com"
    jobs = sync(customer_mapping)

    customer, account = both(customer, account)
    assert (customer.phone_no, account.telephone1) == ("+46 8 111", "+46 8 111")
    assert (customer.email, account.emailaddress1) == ("sales@example.com", "sales@example.com")
    assert all(job.failed == 0 for job in jobs.values()) and not SyncConflict.objects.exists()
    settled = sync(customer_mapping)
    assert all(job.modified == job.failed == 0 for job in settled.values())


def test_the_same_field_changed_on_both_sides_is_an_inbox_conflict(customer_mapping, pair):
    customer, account = pair
    conflict = conflict_made(customer_mapping, customer, account)

    assert conflict.kind == "update" and conflict.fields == ["phone_no"]
    assert conflict.table_mapping == customer_mapping and conflict.job is not None
    assert "bi-directional" in SyncJobError.objects.filter(job=conflict.job).get().message
    customer, account = both(customer, account)
    assert (customer.phone_no, account.telephone1) == ("+46 8 111", "+46 8 222")  # nobody overwritten
    since = conflict.since
    sync(customer_mapping)  # still in conflict: one row, since when it was first seen
    assert SyncConflict.objects.get().since == since


def test_a_coupling_without_kept_values_keeps_the_whole_record_rule(customer_mapping, pair):
    customer, account = pair
    Coupling.objects.filter(erp_model="erp.Customer").update(synced_values=None)  # made before the values were kept
    edit(customer, phone_no="+46 8 111")
    edit(account, emailaddress1="sales@example.com")

    jobs = sync(customer_mapping)

    assert jobs[TO].failed == 1
    assert SyncConflict.objects.get().fields == ["email", "phone_no"]


def test_a_deletion_conflict_is_recorded_with_its_side(customer_mapping, pair):
    customer, account = pair
    edit(customer, phone_no="+46 8 111")
    account.delete()

    sync(customer_mapping)

    conflict = SyncConflict.objects.get()
    assert (conflict.kind, conflict.deleted_side) == ("deletion", "crm")


@pytest.mark.parametrize(("resolution", "fields", "phone"), [
    ("erp", None, "+46 8 111"), ("crm", None, "+46 8 222"), ("fields", {"phone_no": "crm"}, "+46 8 222"),
])
def test_a_resolution_writes_both_sides_merges_the_rest_and_settles(customer_mapping, pair, resolution, fields, phone):
    customer, account = pair
    conflict = conflict_made(customer_mapping, customer, account)

    outcome = conflicts_resolve(ids=[conflict.pk], resolution=resolution, fields=fields, decided_by="alice")

    assert outcome.counts["done"] == 1 and outcome.level == "success", outcome.summary()
    customer, account = both(customer, account)
    assert (customer.phone_no, account.telephone1) == (phone, phone)
    assert (customer.fax_no, account.fax) == ("+46 8 900", "+46 8 900")  # undisputed changes merged
    assert (customer.email, account.emailaddress1) == ("sales@example.com", "sales@example.com")
    assert not SyncConflict.objects.exists()
    assert all("decided by alice" in job.message for job in outcome.jobs)
    # the synchronised values moved: no ping-pong
    assert kept(customer_mapping, "phone_no", "telephone1") == (phone, phone)
    settled = sync(customer_mapping)
    assert all(job.modified == job.failed == 0 for job in settled.values()), [j.message for j in settled.values()]


def test_restore_recreates_the_deleted_record_and_remove_drops_the_coupling(customer_mapping, pair):
    customer, account = pair
    account.delete()
    sync(customer_mapping)
    conflict = SyncConflict.objects.get()

    outcome = conflicts_resolve(ids=[conflict.pk], resolution="restore", decided_by="alice")

    assert outcome.counts["done"] == 1, outcome.summary()
    coupling = Coupling.objects.get(erp_model="erp.Customer", erp_id=customer.pk)
    assert Account.objects.get(pk=coupling.crm_id).name == "Adatum"
    assert not SyncConflict.objects.exists()

    Account.objects.filter(pk=coupling.crm_id).delete()
    sync(customer_mapping)
    outcome = conflicts_resolve(ids=[SyncConflict.objects.get().pk], resolution="remove", decided_by="alice")
    assert outcome.counts["done"] == 1 and not Coupling.objects.filter(erp_model="erp.Customer").exists()
    assert SyncJob.objects.filter(type="uncoupling", message__contains="decided by alice").exists()


def test_resolutions_are_refused_per_conflict_or_as_a_whole(customer_mapping, pair):
    customer, account = pair
    conflict = conflict_made(customer_mapping, customer, account)

    wrong_kind = conflicts_resolve(ids=[conflict.pk, 999999], resolution="restore")
    assert wrong_kind.counts["refused"] == 2 and wrong_kind.level == "error"
    assert "update conflict" in wrong_kind.reasons_text() and "not in the inbox" in wrong_kind.reasons_text()
    missing_side = conflicts_resolve(ids=[conflict.pk], resolution="fields", fields={"email": "erp"})
    assert "choose a side for phone_no" in missing_side.reasons_text()
    for kwargs, says in [({"resolution": "left"}, "Unknown resolution"),
                         ({"resolution": "fields", "fields": {"nope": "erp"}}, "Unknown field 'nope'"),
                         ({"resolution": "fields", "fields": {"phone_no": "up"}}, "unknown side 'up'")]:
        with pytest.raises(OperationRefused, match=says) as refused:
            conflicts_resolve(ids=[conflict.pk], **kwargs)
        assert refused.value.status == 400
    customer_mapping.is_enabled = False
    customer_mapping.save()
    assert "disabled" in conflicts_resolve(ids=[conflict.pk], resolution="erp").reasons_text()
    assert SyncConflict.objects.filter(pk=conflict.pk).exists()
