"""Sales orders from Sales into the ERP (docs/features.md I9): header and line rules, write-in products, long
descriptions, failures naming their cause, all-or-nothing writes, constant queries, retries, the doors (command,
admin action, automatic creation on commit) and the ERP status flowing back."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.models import Contact, SalesOrder, SalesOrderDetail, TransactionCurrency, Unit, UnitGroup
from erp.models import Currency, GeneralLedgerSetup, NoSeries, SalesHeader, SalesLine, SalesReceivablesSetup
from integration import task_names
from integration.models import ConnectionSetup, Coupling, IntegrationTableMapping, SyncJob, SyncJobError
from integration.sales_orders.creation import (
    sales_order_create_in_erp,
    sales_order_statuses_update,
    sales_orders_create_in_erp,
    sales_orders_uncouple_deleted,
)
from integration.sales_orders.erp_document import SalesOrderError
from tests.integration.sales_orders_world import couple, world_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(mappings, salesperson_pair):
    return world_build(salesperson_pair=salesperson_pair)


def coupled_header(order):
    coupling = Coupling.objects.get(erp_model="erp.SalesHeader", crm_model="crm.SalesOrder", crm_id=order.pk)
    return SalesHeader.objects.get(pk=coupling.erp_id)


def nothing_written(order):
    order.refresh_from_db()
    return (not SalesHeader.objects.exists() and not SalesLine.objects.exists()
            and not Coupling.objects.filter(crm_model="crm.SalesOrder").exists()
            and order.sent_to_back_office_on is None
            and NoSeries.objects.get(code="S-ORD").last_no_used == "")


# -- header -------------------------------------------------------------------------------------------------------------
def test_a_submitted_order_becomes_a_coupled_erp_order(world):
    order = world.order(lines=3, name="Spring refill for the Atlanta warehouse, second delivery")
    header = sales_order_create_in_erp(sales_order=order)

    assert header.no == "S-ORD101001" and header.document_type == "order" and header.status == "open"
    assert header.sell_to_customer == world.customer
    assert header.external_document_no == order.name[:35] and len(order.name) > 35
    assert header.your_reference == order.number
    assert header.salesperson == world.customer.salesperson
    assert coupled_header(order) == header
    order.refresh_from_db()
    assert order.sent_to_back_office_on is not None
    lines = list(header.lines.order_by("line_no"))
    assert [(line.line_no, line.type, line.no, line.unit_of_measure_code) for line in lines] == [
        (10000, "item", "1000-A", "PCS"), (20000, "item", "1001-A", "PCS"), (30000, "item", "1002-A", "PCS")]
    assert [line.description for line in lines] == ["Atlanta Desk", "Paris Chair", "Oslo Lamp"]
    assert lines[1].quantity == 2 and lines[1].unit_price == Decimal("12.50") and lines[1].amount == Decimal("25.00")
    assert header.amount == Decimal("75.00") and header.amount_including_vat == Decimal("78.00")


def test_the_order_must_be_submitted(world):
    order = world.order(state="active")
    with pytest.raises(SalesOrderError, match=r"must be submitted.*its status is Active"):
        sales_order_create_in_erp(sales_order=order)
    assert nothing_written(order)


def test_a_contact_as_customer_sells_to_the_customer_of_its_account(world):
    contact = Contact.objects.create(last_name="Svensson", parent_account=world.account)
    order = world.order(account=None)
    order.customer_account, order.customer_contact = None, contact
    order.save()
    assert sales_order_create_in_erp(sales_order=order).sell_to_customer == world.customer


def test_an_account_not_coupled_to_a_customer_is_named(world):
    Coupling.objects.filter(crm_model="crm.Account").delete()
    order = world.order()
    with pytest.raises(SalesOrderError, match="There is no customer coupled to Sales account Adatum Corporation"):
        sales_order_create_in_erp(sales_order=order)
    assert nothing_written(order)


def test_an_order_without_customer_is_refused(world):
    contact = Contact.objects.create(last_name="Loner", parent_account=None)
    order = world.order()
    order.customer_account, order.customer_contact = None, contact
    order.save()
    with pytest.raises(SalesOrderError, match="no potential customer"):
        sales_order_create_in_erp(sales_order=order)


def test_currency_goes_through_the_iso_code(world):
    eur = Currency.objects.create(code="EURO", iso_code="EUR", description="Euro")
    order = world.order(transaction_currency=TransactionCurrency.objects.create(iso_currency_code="EUR",
                                                                                currency_name="Euro"))
    assert sales_order_create_in_erp(sales_order=order).currency == eur
    GeneralLedgerSetup.objects.update_or_create(pk=1, defaults={"lcy_code": "USD"})
    usd = TransactionCurrency.objects.create(iso_currency_code="USD", currency_name="US Dollar")
    assert sales_order_create_in_erp(sales_order=world.order(transaction_currency=usd)).currency is None
    chf = world.order(transaction_currency=TransactionCurrency.objects.create(iso_currency_code="CHF",
                                                                              currency_name="Swiss Franc"))
    with pytest.raises(SalesOrderError, match="currency CHF is not coupled"):
        sales_order_create_in_erp(sales_order=chf)


def test_options_come_from_the_order_only_where_a_value_map_entry_exists(world):
    order = world.order(payment_terms_code="net30", freight_terms_code="fob")
    header = sales_order_create_in_erp(sales_order=order)
    assert header.payment_terms == world.net30  # mapped: net30 ↔ NET30
    assert header.shipment_method == world.customer_shipment  # fob has no entry: the customer's default stands
    plain = sales_order_create_in_erp(sales_order=world.order())
    assert plain.payment_terms == world.customer_terms


def test_addresses_come_from_the_order_when_it_has_any_else_from_the_customer(world):
    with_address = sales_order_create_in_erp(sales_order=world.order(shipto_name="Dock 4", shipto_city="Savannah"))
    assert (with_address.ship_to_name, with_address.ship_to_city) == ("Dock 4", "Savannah")
    assert with_address.bill_to_name == world.customer.name  # no bill-to on the order
    assert with_address.bill_to_city == world.customer.city


# -- lines ------------------------------------------------------------------------------------------------------------
def test_a_service_product_becomes_a_resource_line(world):
    order = world.order(lines=0)
    SalesOrderDetail.objects.create(sales_order=order, line_number=10, product=world.service, quantity=3,
                                    price_per_unit=Decimal(80))
    line = sales_order_create_in_erp(sales_order=order).lines.get()
    assert (line.type, line.no, line.description, line.quantity) == ("resource", "R0001", "Installer", 3)


def test_write_in_products_become_lines_of_the_setup_write_in_product(world):
    order = world.order(lines=1)
    SalesOrderDetail.objects.create(sales_order=order, line_number=20, product=None,
                                    product_description="Custom engraving", quantity=2, price_per_unit=Decimal(15))
    lines = list(sales_order_create_in_erp(sales_order=order).lines.order_by("line_no"))
    assert (lines[1].type, lines[1].no, lines[1].description, lines[1].unit_of_measure_code) == (
        "item", "WRITE-IN", "Custom engraving", "PCS")


def test_a_write_in_product_without_the_setup_fails_saying_where_to_set_it(world):
    SalesReceivablesSetup.objects.filter(pk=1).update(write_in_product_no="")
    order = world.order(lines=1)
    SalesOrderDetail.objects.create(sales_order=order, line_number=20, product_description="Custom engraving")
    with pytest.raises(SalesOrderError, match=r"contains a write-in product.*Sales & Receivables Setup"):
        sales_order_create_in_erp(sales_order=order)
    assert nothing_written(order)


def test_a_long_description_goes_on_in_comment_lines_nothing_cut_off(world):
    text = "".join(f"{i:03d} word, " for i in range(29))  # 290 characters
    order = world.order(lines=0)
    SalesOrderDetail.objects.create(sales_order=order, line_number=10, product=world.products[0], description=text)
    SalesOrderDetail.objects.create(sales_order=order, line_number=20, product=world.products[1])
    lines = list(sales_order_create_in_erp(sales_order=order).lines.order_by("line_no"))
    assert [(line.line_no, line.type) for line in lines] == [
        (10000, "item"), (20000, ""), (30000, ""), (40000, "item")]
    assert [len(line.description) for line in lines[:3]] == [100, 100, 90]
    assert "".join(line.description for line in lines[:3]) == text
    assert lines[1].no == "" and lines[1].quantity == 0


def test_a_product_not_coupled_is_named(world):
    order = world.order(lines=2)
    Coupling.objects.filter(crm_model="crm.Product", crm_id=world.products[1].pk).delete()
    with pytest.raises(SalesOrderError, match=r"Line 20: the Sales product 1001-A \(Paris Chair\) is not coupled"):
        sales_order_create_in_erp(sales_order=order)
    assert nothing_written(order)


def test_an_unknown_unit_is_named(world):
    group = UnitGroup.objects.create(name="Default Unit", base_uom_name="Primary Unit")
    dozen = Unit.objects.create(unit_group=group, name="Dozen", quantity=12)
    order = world.order(lines=2)
    SalesOrderDetail.objects.filter(sales_order=order, line_number=20).update(uom=dozen)
    with pytest.raises(SalesOrderError, match=r"Line 20: the unit Dozen \(unit group Default Unit\) is unknown"):
        sales_order_create_in_erp(sales_order=order)


# -- all or nothing, queries, retries -------------------------------------------------------------------------------
def test_a_failure_in_line_150_leaves_nothing_behind(world):
    order = world.order(lines=200)
    SalesOrderDetail.objects.filter(sales_order=order, line_number=1500).update(product=None, product_description="X")
    SalesReceivablesSetup.objects.filter(pk=1).update(write_in_product_no="")
    with pytest.raises(SalesOrderError):
        sales_order_create_in_erp(sales_order=order)
    assert nothing_written(order)


def test_a_database_failure_while_writing_the_lines_leaves_nothing_behind(world, monkeypatch):
    order = world.order(lines=200)

    def boom(objs, *args, **kwargs):
        raise DatabaseError("disk full at line 150")

    monkeypatch.setattr(SalesLine.objects, "bulk_create", boom)
    job = sales_orders_create_in_erp(sales_orders=[order])
    assert job.failed == 1 and "disk full at line 150" in job.errors.get().message
    assert nothing_written(order)


def test_200_lines_are_created_in_a_constant_number_of_queries(world, settings):
    settings.P2C_REALTIME_CONFIG_SECONDS = 3600
    few, many = world.order(lines=20), world.order(lines=200)
    counts = {}
    for name, order in (("few", few), ("many", many)):
        with CaptureQueriesContext(connection) as queries:
            sales_order_create_in_erp(sales_order=order)
        counts[name] = len(queries)
    print(f"queries to create an ERP order: 20 lines {counts['few']}, 200 lines {counts['many']}")
    assert counts["many"] == counts["few"]
    assert counts["many"] <= 30
    assert SalesLine.objects.filter(header=coupled_header(many)).count() == 200


def test_a_retry_after_fixing_the_cause_works_and_never_creates_twice(world):
    order = world.order(lines=3)
    coupling = Coupling.objects.get(crm_model="crm.Product", crm_id=world.products[2].pk)
    coupling.delete()
    first = sales_orders_create_in_erp(sales_orders=[order])
    assert (first.failed, first.inserted) == (1, 0)
    assert "1002-A (Oslo Lamp) is not coupled" in first.errors.get().message
    couple(world.items[2], world.products[2])
    second = sales_orders_create_in_erp(sales_orders=[order])
    assert (second.failed, second.inserted) == (0, 1)
    third = sales_orders_create_in_erp(sales_orders=[order.pk])
    assert (third.inserted, third.unchanged) == (0, 1)
    assert SalesHeader.objects.count() == 1 and SalesLine.objects.count() == 3


def test_runs_are_logged_as_jobs_of_the_salesorder_order_mapping(world, mappings):
    good, bad = world.order(), world.order(state="active")
    job = sales_orders_create_in_erp(sales_orders=[good, bad])
    assert job.table_mapping == mappings["SALESORDER-ORDER"] and job.direction == "from_integration"
    assert (job.inserted, job.failed, job.status) == (1, 1, SyncJob.Status.ERROR)
    error = SyncJobError.objects.get(job=job)
    assert error.source_id == str(bad.pk) and "must be submitted" in error.message


# -- doors ------------------------------------------------------------------------------------------------------------
def test_command_creates_named_orders_and_all_submitted(world, capsys):
    one, two = world.order(), world.order()
    world.order(state="active")
    call_command("create_sales_orders", one.number)
    assert "created" in capsys.readouterr().out
    call_command("create_sales_orders", "--all-submitted")
    assert SalesHeader.objects.count() == 2 and coupled_header(two)
    with pytest.raises(CommandError, match="No Sales order numbered ORD-NOPE"):
        call_command("create_sales_orders", "ORD-NOPE")


def test_admin_action_create_in_erp(world, client):
    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(admin)
    good, bad = world.order(), world.order(state="active")
    choices = [name for name, _ in client.get(reverse("admin:crm_salesorder_changelist")).context[
        "action_form"].fields["action"].choices]
    assert "create_in_erp" in choices and "create_in_counterpart" not in choices  # one "Create in ERP": ours
    response = client.post(reverse("admin:crm_salesorder_changelist"),
                           {"action": "create_in_erp", "_selected_action": [str(good.pk), str(bad.pk)]}, follow=True)
    [message] = list(response.context["messages"])  # one message, a warning: one created, one failed
    assert message.level_tag == "warning" and "Create in ERP: 1 done, 1 failed." in message.message
    assert "must be submitted" in message.message
    assert coupled_header(good)


def test_automatic_creation_on_commit_when_the_switch_is_on(world, django_capture_on_commit_callbacks):
    order = world.order(state="active")
    with django_capture_on_commit_callbacks(execute=True):
        SalesOrder.objects.filter(pk=order.pk).update(state_code="submitted")
    assert not SalesHeader.objects.exists()  # switch off: nothing happens

    ConnectionSetup.objects.filter(pk=1).update(create_sales_orders_automatically=True)
    with django_capture_on_commit_callbacks(execute=True):
        order.refresh_from_db()
        order.description = "submitted again"
        order.save()
    assert coupled_header(order).your_reference == order.number
    with django_capture_on_commit_callbacks(execute=True):
        SalesOrder.objects.filter(pk=order.pk).update(description="touched")
    assert SalesHeader.objects.count() == 1


def test_the_periodic_task_picks_up_pending_orders(world):
    from integration.tasks import create_sales_orders_task

    order = world.order()
    assert create_sales_orders_task.delay().get() == {"skipped": "Create Sales Orders Automatically is off"}
    ConnectionSetup.objects.filter(pk=1).update(create_sales_orders_automatically=True)
    assert create_sales_orders_task.delay().get()["created"] == 1
    assert coupled_header(order)


# -- status back to Sales ----------------------------------------------------------------------------------------------
def test_erp_status_flows_back_and_never_moves_an_order_back(world):
    order, invoiced = world.order(), world.order()
    headers = [sales_order_create_in_erp(sales_order=o) for o in (order, invoiced)]
    for header in headers:
        header.status = "released"
        header.save()
    SalesOrder.objects.filter(pk=invoiced.pk).update(state_code="invoiced")
    jobs = sales_order_statuses_update()
    assert jobs[0].modified == 1
    order.refresh_from_db()
    invoiced.refresh_from_db()
    assert (order.state_code, order.status_reason) == ("submitted", "In Progress")
    assert invoiced.state_code == "invoiced"



def test_a_renamed_sales_order_mapping_is_still_the_one_used(world, mappings):
    """The sales orders find their mapping by its declared key, not by the name an administrator may change."""
    IntegrationTableMapping.objects.filter(name="SALESORDER-ORDER").update(name="ORDERS")
    order = world.order()
    job = sales_orders_create_in_erp(sales_orders=[order])
    assert (job.table_mapping.name, job.mapping_name, job.inserted) == ("ORDERS", "ORDERS", 1)
    header = coupled_header(order)
    header.status = "released"
    header.save()
    jobs = sales_order_statuses_update()
    assert [job.mapping_name for job in jobs] == ["ORDERS"] and jobs[0].modified == 1

def test_erp_orders_not_from_sales_are_not_created_in_sales(world, mappings):
    from integration.engine.sync import mapping_synchronize
    from tests.factories import SalesHeaderFactory

    SalesHeaderFactory(sell_to_customer=world.customer)
    job = mapping_synchronize(mapping=mappings["SALESORDER-ORDER"], direction="to_integration", create_new=True,
                              full=True)[0]
    assert (job.inserted, job.failed) == (0, 0)  # only coupled ERP orders are read
    assert not SalesOrder.objects.exists()


def test_match_based_coupling_finds_the_sales_order_by_your_reference(world, mappings):
    from integration.coupling.couplings import mapping_couple_by_match

    order = world.order()
    header = sales_order_create_in_erp(sales_order=order)
    Coupling.objects.filter(crm_model="crm.SalesOrder").delete()  # the coupling got lost
    job = mapping_couple_by_match(mapping=mappings["SALESORDER-ORDER"], create_new=False, sync_after=False)
    assert job.coupled == 1 and coupled_header(order) == header
    order.refresh_from_db()
    assert order.number == header.your_reference


def test_a_deleted_erp_order_uncouples_and_the_sales_order_may_be_sent_again(world):
    order = world.order()
    sales_order_create_in_erp(sales_order=order).delete()
    assert sales_orders_uncouple_deleted() == 1
    order.refresh_from_db()
    assert order.sent_to_back_office_on is None and order.state_code == "submitted"
    assert sales_order_create_in_erp(sales_order=order).your_reference == order.number


CONCURRENT_SCRIPT = """
from crm.models import SalesOrder
from integration.sales_orders.creation import sales_orders_create_in_erp
job = sales_orders_create_in_erp(sales_orders=list(SalesOrder.objects.values_list("pk", flat=True)))
print(job.inserted, job.unchanged, job.failed)
"""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_creating_the_same_orders_create_each_once(world, tmp_path):
    from tests.concurrency import run_in_processes

    for _ in range(5):
        world.order(lines=20)
    outputs = run_in_processes(CONCURRENT_SCRIPT, processes=2, tmp_path=tmp_path)
    counts = [tuple(int(n) for n in out[-3:]) for out in outputs]  # each child's output, split on white space
    assert sum(inserted for inserted, _, _ in counts) == 5
    assert sum(unchanged for _, unchanged, _ in counts) == 5 and all(failed == 0 for _, _, failed in counts)
    assert SalesHeader.objects.count() == 5 and SalesLine.objects.count() == 100
    assert NoSeries.objects.get(code="S-ORD").last_no_used == "S-ORD101005"


def test_the_switch_keeps_the_recurring_jobs_in_step(world, django_capture_on_commit_callbacks):
    from django_celery_beat.models import PeriodicTask

    setup = ConnectionSetup.get_solo()
    setup.create_sales_orders_automatically = True
    with django_capture_on_commit_callbacks(execute=True):
        setup.save()
    jobs = {t.name: t for t in PeriodicTask.objects.filter(name__in=["Auto Create Sales Orders", "Sales Order Status"])}
    assert jobs["Auto Create Sales Orders"].task == task_names.CREATE_SALES_ORDERS
    assert jobs["Auto Create Sales Orders"].interval.every == 30 and jobs["Sales Order Status"].interval.every == 7
    assert all(job.enabled for job in jobs.values())
    setup.create_sales_orders_automatically = False
    with django_capture_on_commit_callbacks(execute=True):
        setup.save()
    assert not PeriodicTask.objects.get(name="Auto Create Sales Orders").enabled
    assert not PeriodicTask.objects.get(name="Sales Order Status").enabled
