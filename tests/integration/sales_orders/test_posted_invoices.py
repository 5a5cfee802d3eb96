"""Posted sales invoices flow to Sales (POSTEDSALESINV-INV and POSTEDSALESLINE-INV, docs/features.md I9): invoices with
their lines, naming the Sales order they invoice, which becomes *invoiced*; on demo-like data."""

from datetime import date
from decimal import Decimal

import pytest

from crm.models import Invoice, InvoiceDetail, SalesOrder, SalesOrderDetail
from erp.models import SalesInvoiceHeader, SalesInvoiceLine
from integration.engine.sync import mapping_synchronize
from integration.sales_orders.creation import sales_order_create_in_erp, sales_orders_uncouple_deleted
from tests.integration.sales_orders_world import world_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(mappings, salesperson_pair):
    return world_build(salesperson_pair=salesperson_pair)


def post_invoice(world, header, *, no="PS-INV103001", order_no=None, your_reference=""):
    """Post the ERP order ``header`` as BC would: a posted invoice copying its header and lines."""
    invoice = SalesInvoiceHeader.objects.create(
        no=no, order_no=header.no if order_no is None else order_no, sell_to_customer=header.sell_to_customer,
        sell_to_customer_name=header.sell_to_customer_name, salesperson=header.salesperson,
        your_reference=your_reference or header.your_reference, external_document_no=header.external_document_no,
        posting_date=date(2026, 11, 20), due_date=date(2026, 12, 20), amount=header.amount,
        amount_including_vat=header.amount_including_vat, payment_terms=header.payment_terms,
        bill_to_name=header.bill_to_name, bill_to_city=header.bill_to_city,
    )
    SalesInvoiceLine.objects.bulk_create([
        SalesInvoiceLine(invoice=invoice, line_no=line.line_no, type=line.type, no=line.no,
                         description=line.description, unit_of_measure_code=line.unit_of_measure_code,
                         quantity=line.quantity, unit_price=line.unit_price, amount=line.amount,
                         amount_including_vat=line.amount_including_vat)
        for line in header.lines.order_by("line_no")
    ])
    return invoice


def sync_invoices(mappings):
    jobs = mapping_synchronize(mapping=mappings["POSTEDSALESINV-INV"], direction="to_integration")
    return {job.mapping_name: job for job in jobs}


def test_a_posted_invoice_of_an_order_from_sales_arrives_with_its_lines_and_invoices_the_order(world, mappings):
    order = world.order(lines=2, payment_terms_code="net30")
    SalesOrderDetail.objects.create(sales_order=order, line_number=30, product=None,
                                    product_description="Custom engraving " + "x" * 120, quantity=1,
                                    price_per_unit=Decimal(20))
    header = sales_order_create_in_erp(sales_order=order)
    post_invoice(world, header)

    jobs = sync_invoices(mappings)
    assert (jobs["POSTEDSALESINV-INV"].inserted, jobs["POSTEDSALESINV-INV"].failed) == (1, 0)
    assert (jobs["POSTEDSALESLINE-INV"].inserted, jobs["POSTEDSALESLINE-INV"].failed) == (4, 0)
    invoice = Invoice.objects.get(number="PS-INV103001")
    assert invoice.sales_order == order
    assert invoice.customer_account == world.account
    assert invoice.owner == world.salesperson_user
    assert invoice.payment_terms_code == "net30"
    assert invoice.total_amount == header.amount_including_vat
    lines = list(InvoiceDetail.objects.filter(invoice=invoice).order_by("line_number"))
    assert [line.product for line in lines[:2]] == world.products[:2]
    # The write-in item's line is a write-in product again; the rest of its description a description-only line.
    assert (lines[2].product, lines[2].product_description) == (None, ("Custom engraving " + "x" * 120)[:100])
    assert lines[3].product is None and lines[3].quantity == 0
    order.refresh_from_db()
    assert (order.state_code, order.status_reason) == ("invoiced", "Invoiced")


def test_the_invoice_finds_its_sales_order_by_your_reference_once_the_erp_order_is_gone(world, mappings):
    order = world.order(lines=1)
    header = sales_order_create_in_erp(sales_order=order)
    post_invoice(world, header)
    header.delete()  # fully invoiced: BC deletes the order
    assert sync_invoices(mappings)["POSTEDSALESINV-INV"].inserted == 1
    order.refresh_from_db()
    assert order.state_code == "invoiced"
    assert Invoice.objects.get().sales_order == order
    assert sales_orders_uncouple_deleted() == 1
    order.refresh_from_db()
    assert order.state_code == "invoiced" and order.sent_to_back_office_on is not None


def test_an_invoice_not_from_sales_arrives_without_an_order_and_changes_no_order(world, mappings):
    order = world.order(lines=1)
    header = sales_order_create_in_erp(sales_order=order)
    post_invoice(world, header, order_no="S-ORD999999", your_reference="their PO 4711")
    assert sync_invoices(mappings)["POSTEDSALESINV-INV"].inserted == 1
    assert Invoice.objects.get().sales_order is None
    order.refresh_from_db()
    assert order.state_code == "submitted"


def test_a_canceled_sales_order_stays_canceled(world, mappings):
    order = world.order(lines=1)
    header = sales_order_create_in_erp(sales_order=order)
    SalesOrder.objects.filter(pk=order.pk).update(state_code="canceled")
    post_invoice(world, header)
    sync_invoices(mappings)
    order.refresh_from_db()
    assert order.state_code == "canceled"
    assert Invoice.objects.get().sales_order == order


def test_demo_data_invoices_flow_after_coupling(db, integration_user):
    """The demo seed, the default mappings and match-based coupling, then posted invoices: those of coupled
    customers arrive with their lines; the others fail naming the customer that is not coupled."""
    from integration.coupling.couplings import mapping_couple_by_match
    from integration.defaults import integration_setup_reset
    from integration.demo import demo_seed
    from integration.models import IntegrationTableMapping, SyncJobError

    demo_seed(scale=120)
    integration_setup_reset()
    mappings = {m.name: m for m in IntegrationTableMapping.objects.all()}
    for name in ("SALESPEOPLE", "CURRENCY", "UNIT OF MEASURE", "CUSTOMER", "ITEM-PRODUCT", "RESOURCE-PRODUCT"):
        mapping_couple_by_match(mapping=mappings[name], create_new=False, sync_after=False)
    for name in ("PAYMENT TERMS", "SHIPMENT METHOD", "SHIPPING AGENT"):
        mapping_synchronize(mapping=mappings[name])
    jobs = sync_invoices(mappings)
    header_job, line_job = jobs["POSTEDSALESINV-INV"], jobs["POSTEDSALESLINE-INV"]
    assert header_job.inserted > 0 and line_job.inserted > 0
    assert Invoice.objects.filter(number__startswith="PS-INV").count() == header_job.inserted
    assert InvoiceDetail.objects.filter(invoice__number__startswith="PS-INV").count() == line_job.inserted
    for message in SyncJobError.objects.filter(job=header_job).values_list("message", flat=True):
        assert "is not coupled" in message
    # Lines of the write-in item are write-in products in Sales, never "not coupled".
    assert not SyncJobError.objects.filter(job=line_job, message__contains="Item WRITE-IN").exists()
