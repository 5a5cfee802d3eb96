"""Sales orders from Sales become ERP sales orders (docs/features.md I9; BC's "CRM Sales Order to Sales Order"): the
operations, the ERP status carried back, the recurring jobs.

`sales_order_create_in_erp` creates the ERP order of one submitted Sales order and couples the two;
`sales_orders_create_in_erp` does it for many, each in its own transaction, and logs the run as a job of the
SALESORDER-ORDER mapping (one error per refused order, naming the cause). `sales_orders_create` is the operation
(the connection must be enabled) and tells its Outcome; the admin action, the ``create_sales_orders`` command and
the Celery task are thin doors onto it. What the ERP order holds is built in `integration.sales_orders.erp_document`.

Guarantees: the header, its lines, the coupling and the Sales order's *sent to back office on* are written in one
transaction, or nothing is (a refused line 150 of 200 leaves no header behind, nor a used order number); the
number of queries does not depend on the number of lines (lines are written with one ``bulk_create``, products,
items, resources and units are read in bulk); an order already created is never created twice (the Sales order row
is locked, the coupling is looked up inside the transaction and unique on the Sales side), so a retry after fixing
the cause simply works.
"""

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from crm.models import SalesOrder
from erp.models import SalesHeader, SalesInvoiceHeader, SalesLine
from integration import task_names
from integration.binder import counterpart_query, coupled_ids
from integration.engine.request import RunRequest
from integration.engine.sync import mapping_synchronize
from integration.engine.transfer import validation_said
from integration.labels import sales_order_label_said
from integration.mappings.sales_order import SalesOrderMapping
from integration.models import (
    ConnectionSetup,
    Coupling,
    Direction,
    IntegrationTableMapping,
    SyncJob,
    SyncJobError,
)
from integration.sales_orders.erp_document import (
    CRM_ORDER,
    ERP_ORDER,
    SalesOrderError,
    _check_submitted,
    _customer,
    _header,
    _lines,
    _lookups,
)
from p2c.databases import database_for
from p2c.outcomes import DONE, FAILED, SKIPPED, OperationRefused, Outcome, Refusal
from p2c.records import writing_as
from p2c.said import Joined, counted, said, said_columns, said_exception

logger = logging.getLogger("p2c.integration")



def _sales_order_mapping(**filters):
    """The SALESORDER-ORDER mapping, found by its declared key (an administrator may rename it), or None."""
    return (IntegrationTableMapping.objects.filter(definition_key=SalesOrderMapping.key, **filters)
            .order_by("sort_order", "pk").first())


@dataclass
class SalesOrderOutcome:
    sales_order: object
    header: object = None
    created: bool = False
    error: object = ""  # why it was refused: a `p2c.said.Said` (what it means) or a text




# -- selectors ---------------------------------------------------------------------------------------------------------
def sales_orders_pending():
    """Submitted Sales orders not yet sent to the ERP (what "create sales orders automatically" picks up)."""
    coupled = coupled_ids(CRM_ORDER, to=ERP_ORDER)
    return SalesOrder.objects.filter(
        state_code=SalesOrder.State.SUBMITTED, sent_to_back_office_on__isnull=True
    ).exclude(pk__in=coupled)


def sales_order_erp_order(*, sales_order):
    """The ERP order coupled to ``sales_order``, or None."""
    erp_id = counterpart_query(CRM_ORDER, [sales_order.pk], to=ERP_ORDER)
    return SalesHeader.objects.filter(pk__in=erp_id).first()


# -- services ----------------------------------------------------------------------------------------------------------
def sales_order_create_in_erp(*, sales_order):
    """Create the ERP sales order of ``sales_order`` (submitted) and couple the two; return the ERP order.

    An order already created returns its ERP order unchanged. Raises SalesOrderError naming the cause (the order
    is not submitted, its account is not coupled to a customer, a product is not coupled, a unit is unknown, no
    write-in product is set up, ...); then nothing was written.
    """
    return _create(sales_order).header


def sales_orders_create(*, sales_orders):
    """The operation "Create in ERP" on Sales orders, behind the admin action, ``create_sales_orders`` and the
    Celery task: create the ERP orders of ``sales_orders`` (Sales orders or their ids). Returns an Outcome whose
    ``jobs`` is the SALESORDER-ORDER job that logs the run: an order created is *done*, one already in the ERP
    *skipped* (saying which ERP order it is), one refused *failed* with the cause. Raises OperationRefused while the
    connection is not enabled (nothing is created then)."""
    if not ConnectionSetup.objects.filter(pk=1, is_enabled=True).exists():
        raise OperationRefused(gettext("The connection is not enabled: run the assisted set-up first."),
                               code=Refusal.CONNECTION_DISABLED)
    job = sales_orders_create_in_erp(sales_orders=sales_orders)
    outcome = Outcome(verb=gettext("Create in ERP"), jobs=[job])
    for result in job.outcomes:
        order = result.sales_order
        name = order.number if order is not None else "?"
        key = order.pk if order is not None else ""
        if result.error:
            outcome.record(FAILED, name, str(result.error), key=key)
        elif result.created:
            outcome.add(DONE)
        else:
            outcome.record(
                SKIPPED,
                name,
                gettext("already in the ERP as order %(header_no)s") % {"header_no": result.header.no},
                key=key,
            )
    return outcome


def sales_orders_create_in_erp(*, sales_orders, job=None):
    """Create the ERP orders of ``sales_orders`` (Sales orders or their ids), each in its own transaction.

    Returns the SyncJob of the SALESORDER-ORDER mapping that logs the run: ``inserted`` orders created,
    ``unchanged`` already created, ``failed`` refused, with one SyncJobError per refused order naming the cause.
    The job's ``outcomes`` attribute (not stored) lists a SalesOrderOutcome per order, in the order given.
    """
    to_pk = SalesOrder._meta.pk.to_python  # ids may come as text (a Celery task's JSON)
    ids = [to_pk(getattr(o, "pk", o)) for o in sales_orders]
    orders = SalesOrder.objects.in_bulk(ids)
    if job is None:
        mapping = _sales_order_mapping()
        job = SyncJob.objects.create(table_mapping=mapping, mapping_name=(mapping or SalesOrderMapping).name,
                                     direction=Direction.FROM_INTEGRATION)
    job.start()
    outcomes, errors = [], []
    for pk in dict.fromkeys(ids):
        order = orders.get(pk)
        if order is None:
            outcome = SalesOrderOutcome(
                sales_order=None, error=said(gettext_noop("Sales order %(pk)s does not exist."), pk=str(pk))
            )
        else:
            try:
                outcome = _create(order)
            except SalesOrderError as exc:
                outcome = SalesOrderOutcome(sales_order=order, error=exc.said)
            except Exception as exc:  # one order's unexpected failure (rolled back) must not stop the others
                logger.exception("Creating the ERP order of Sales order %s failed", pk)
                # Translators: a Sales order, then what went wrong when creating its ERP order.
                outcome = SalesOrderOutcome(sales_order=order, error=said(
                    gettext_noop("%(sales_order_label)s: %(error)s"), sales_order_label=sales_order_label_said(order),
                    error=said_exception(exc)))
        outcomes.append(outcome)
        if outcome.error:
            job.failed += 1
            errors.append(SyncJobError(job=job, source_model=CRM_ORDER, source_id=str(pk), destination_model=ERP_ORDER,
                                       **said_columns(outcome.error)))
        elif outcome.created:
            job.inserted += 1
            job.coupled += 1
        else:
            job.unchanged += 1
    SyncJobError.objects.bulk_create(errors)
    # As what it means (p2c.said), each count through the plural rules of the reader's language.
    job.finish(Joined((
        counted("%(count)s sales order created in the ERP", "%(count)s sales orders created in the ERP",
                count=job.inserted),
        counted("%(count)s already there", "%(count)s already there", count=job.unchanged),
        counted("%(count)s failed", "%(count)s failed", count=job.failed),
    )))
    job.outcomes = outcomes
    return job


# -- one order ---------------------------------------------------------------------------------------------------------
def _create(sales_order):
    # The Sales order locked in its database; the ERP order, its lines and its coupling committed together first,
    # then the Sales order marked sent: a run stopped in between leaves an order coupled (never sent twice) whose
    # mark a later status update sets. In one database, one transaction.
    try:
        with transaction.atomic(using=database_for(SalesOrder)):
            order = (
                SalesOrder.objects.select_for_update(of=("self",))
                .select_related("customer_account", "customer_contact__parent_account", "transaction_currency")
                .get(pk=sales_order.pk)
            )
            now = timezone.now()
            with transaction.atomic(using=database_for(Coupling)):
                existing = Coupling.objects.filter(erp_model=ERP_ORDER, crm_model=CRM_ORDER, crm_id=order.pk).first()
                if existing is not None:
                    header = SalesHeader.objects.filter(pk=existing.erp_id).first()
                    if header is not None:
                        return SalesOrderOutcome(sales_order=order, header=header, created=False)
                    existing.delete()  # the ERP order was deleted: the Sales order may be sent again (BC)
                _check_submitted(order)
                customer = _customer(order)
                lines = list(order.lines.select_related("product", "uom__unit_group")
                             .order_by("line_number", "createdon"))
                if not lines:
                    raise SalesOrderError(said(
                        gettext_noop("%(sales_order_label)s has no products: there is nothing to order."),
                        sales_order_label=sales_order_label_said(order)))
                header = _header(order, customer)
                erp_lines = _lines(order, header, lines, _lookups(order, lines))
                header.amount = sum((line.amount for line in erp_lines), Decimal(0))
                header.amount_including_vat = sum((line.amount_including_vat for line in erp_lines), Decimal(0))
                try:
                    header.save()
                except ValidationError as exc:  # no order number series, for one
                    refusals = exc.error_list if hasattr(exc, "error_list") else [
                        error for errors in exc.error_dict.values() for error in errors]
                    raise SalesOrderError(said(
                        gettext_noop("%(sales_order_label)s: %(error)s"), sales_order_label=sales_order_label_said(order),
                        error=Joined(tuple(validation_said(error) for error in refusals), " "))) from exc
                for line in erp_lines:
                    line.header = header
                SalesLine.objects.bulk_create(erp_lines)
                try:
                    with transaction.atomic(using=database_for(Coupling)):
                        Coupling.objects.create(
                            erp_model=ERP_ORDER, crm_model=CRM_ORDER, erp_id=header.pk, crm_id=order.pk,
                            last_synced_erp_modified=header.modified_at, last_synced_crm_modified=now,
                            last_erp_result="success",
                        )
                except IntegrityError as exc:
                    raise _CreatedMeanwhile from exc
            integration_user_id = ConnectionSetup.objects.filter(pk=1).values_list(
                "integration_user_id", flat=True).first()
            with writing_as(integration_user_id):
                SalesOrder.objects.filter(pk=order.pk).update(sent_to_back_office_on=now, modifiedon=now)
            order.sent_to_back_office_on = now
    except _CreatedMeanwhile:
        header = sales_order_erp_order(sales_order=sales_order)
        if header is None:
            raise SalesOrderError(said(
                gettext_noop("%(sales_order_label)s could not be coupled to its ERP order."),
                sales_order_label=sales_order_label_said(sales_order))) from None
        return SalesOrderOutcome(sales_order=sales_order, header=header, created=False)
    return SalesOrderOutcome(sales_order=order, header=header, created=True)


class _CreatedMeanwhile(Exception):
    """Another process created and coupled the ERP order first (the unique coupling refused ours)."""



# -- ERP order status back to Sales ------------------------------------------------------------------------------------
def sales_order_statuses_update(*, full=False, wait_seconds=30):
    """Carry the status of coupled ERP orders back to their Sales orders (BC's "Sales Order Status" job).

    Runs the SALESORDER-ORDER mapping from the ERP to Sales (rows changed since its last run; ``full``: all),
    then deals with coupled ERP orders that were deleted (`sales_orders_uncouple_deleted`). Returns the jobs.
    """
    mapping = _sales_order_mapping(is_enabled=True)
    jobs = []
    if mapping is not None:
        jobs = mapping_synchronize(RunRequest(mapping=mapping, direction=Direction.TO_INTEGRATION, full=full,
                                              wait_seconds=wait_seconds))
    sales_orders_uncouple_deleted()
    return jobs


def sales_orders_uncouple_deleted():
    """Couplings of deleted ERP orders: the Sales order is invoiced when a posted invoice names it (its number as
    *your reference*); a Sales order still submitted otherwise may be sent again (BC clears LastBackofficeSubmit
    and removes the coupling). Returns how many couplings were removed. A constant number of queries."""
    stale = list(Coupling.objects.filter(erp_model=ERP_ORDER, crm_model=CRM_ORDER).exclude(
        erp_id__in=SalesHeader.objects.values("pk")).values_list("pk", "crm_id"))
    if not stale:
        return 0
    submitted = dict(SalesOrder.objects.filter(
        pk__in=[crm_id for _, crm_id in stale], state_code=SalesOrder.State.SUBMITTED
    ).values_list("number", "pk"))
    invoiced_numbers = set(SalesInvoiceHeader.objects.filter(your_reference__in=submitted).values_list(
        "your_reference", flat=True))
    integration_user_id = ConnectionSetup.objects.filter(pk=1).values_list("integration_user_id", flat=True).first()
    # Sales first, then the couplings: a run stopped in between finds the same couplings again next time.
    with transaction.atomic(using=database_for(Coupling)):
        with transaction.atomic(using=database_for(SalesOrder)), writing_as(integration_user_id):
            SalesOrder.objects.filter(pk__in=[submitted[n] for n in invoiced_numbers]).update(
                state_code=SalesOrder.State.INVOICED, status_reason="Invoiced")
            SalesOrder.objects.filter(pk__in=[pk for n, pk in submitted.items() if n not in invoiced_numbers]).update(
                sent_to_back_office_on=None)
        Coupling.objects.filter(pk__in=[pk for pk, _ in stale]).delete()
    return len(stale)


def sales_orders_create_automatically_enabled():
    """Whether "Create Sales Orders Automatically" is on (and the connection enabled)."""
    return ConnectionSetup.objects.filter(pk=1, is_enabled=True, create_sales_orders_automatically=True).exists()


# -- recurring jobs (BC's "Auto Create Sales Orders", every 30 minutes, and "Sales Order Status", every 7) -------------
AUTO_CREATE_SCHEDULE = ("Auto Create Sales Orders", task_names.CREATE_SALES_ORDERS, 30)
STATUS_SCHEDULE = ("Sales Order Status", task_names.UPDATE_SALES_ORDER_STATUSES, 7)


def sales_order_schedules_update():
    """Create, enable or disable the two recurring jobs after the connection setup (idempotent).

    "Auto Create Sales Orders" runs while *Create Sales Orders Automatically* is on: it retries what the on-commit
    creation could not do. "Sales Order Status" runs while sales order integration or automatic creation is on.
    Returns the PeriodicTask rows.
    """
    setup = ConnectionSetup.objects.filter(pk=1).first()
    enabled = bool(setup and setup.is_enabled)
    wanted = {
        AUTO_CREATE_SCHEDULE: enabled and setup.create_sales_orders_automatically,
        STATUS_SCHEDULE: enabled and (setup.sales_order_integration_enabled or setup.create_sales_orders_automatically),
    }
    tasks = []
    with transaction.atomic():
        for (name, task, minutes), on in wanted.items():
            existing = PeriodicTask.objects.filter(name=name).first()
            if existing is None and not on:
                continue
            interval, _ = IntervalSchedule.objects.get_or_create(every=minutes, period=IntervalSchedule.MINUTES)
            periodic, _ = PeriodicTask.objects.update_or_create(
                name=name,
                defaults={
                    "task": task,
                    "interval": interval,
                    "crontab": None,
                    "solar": None,
                    "clocked": None,
                    "kwargs": "{}",
                    "enabled": on,
                    "expire_seconds": minutes * 60,
                    "description": gettext(
                        "%(name)s: every %(minutes)s minutes while switched on in the connection setup."
                    )
                    % {"name": name, "minutes": minutes},
                },
            )
            tasks.append(periodic)
    return tasks
