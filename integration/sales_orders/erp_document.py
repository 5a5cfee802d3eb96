"""What an ERP sales order gets from a Sales order (docs/features.md I9), as Business Central's
``CreateSalesOrderHeader`` / ``CreateSalesOrderLines`` do; the operations that write it are in
`integration.sales_orders.creation`.

- the Sales order must be *submitted*; the sell-to customer is the customer coupled to the order's account (a
  contact as the customer: its parent account);
- *external document no.* = the Sales order name (truncated to the field), *your reference* = the order number;
- the currency through the ISO code (the local currency's ISO code gives a blank currency code);
- payment terms, shipment method and shipping agent from the order's options only where a value map entry maps
  the option to an ERP code; otherwise the customer's defaults stand;
- bill-to and ship-to addresses from the order when it has any, else the customer's;
- a line per Sales order line, numbered in steps of 10000: a coupled product gives an item or resource line; a
  write-in product gives a line of the setup's write-in product type and no. (none set: the order is refused);
  a description longer than the ERP's 100 characters goes on in comment lines of 100 characters, nothing cut off.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from erp.models import (
    Currency,
    Customer,
    GeneralLedgerSetup,
    Item,
    PaymentTerms,
    Resource,
    SalesHeader,
    SalesLine,
    SalesReceivablesSetup,
    ShipmentMethod,
    ShippingAgent,
    UnitOfMeasure,
)
from integration.binder import counterpart, counterpart_query, counterparts
from integration.labels import sales_order_label_said
from integration.models import ValueMapEntry
from integration.sales_orders.products import product_erp_records
from p2c.said import Joined, counted, said, said_choice, said_name

ERP_ORDER, CRM_ORDER = "erp.SalesHeader", "crm.SalesOrder"
LINE_NO_STEP = 10000
MAX_LINE_ERRORS = 10
CENT = Decimal("0.01")

# Sales option field of the order → (value map / option mapping name, ERP header field).
OPTION_FIELDS = (
    ("payment_terms_code", "PAYMENT TERMS", "payment_terms"),
    ("freight_terms_code", "SHIPMENT METHOD", "shipment_method"),
    ("shipping_method_code", "SHIPPING AGENT", "shipping_agent"),
)


class SalesOrderError(Exception):
    """The Sales order cannot be created in the ERP; the message names the order and the cause. ``said``: the
    message as what it means (p2c.said), stored with the job's error and told in the reader's language."""

    def __init__(self, message):
        super().__init__(str(message))
        self.said = message


@dataclass
class _Lookups:
    """What the lines need, read in bulk (a constant number of queries whatever the number of lines)."""

    products: dict = field(default_factory=dict)  # product id -> ("item" | "resource", Item | Resource)
    units: dict = field(default_factory=dict)  # Sales unit id -> ERP unit of measure code
    write_in: tuple | None = None  # ("item" | "resource", record) or None



def _check_submitted(order):
    if order.state_code != order.State.SUBMITTED:
        raise SalesOrderError(said(
            gettext_noop(
                "%(sales_order_label)s must be submitted to be created in the ERP; its status is "
                "%(get_state_code_display)s."
            ),
            sales_order_label=sales_order_label_said(order), get_state_code_display=said_choice(order, "state_code"),
        ))


def _customer(order):
    """The ERP customer coupled to the order's account (a contact as the customer: its parent account)."""
    account = order.customer_account
    if account is None and order.customer_contact is not None:
        account = order.customer_contact.parent_account
    if account is None:
        raise SalesOrderError(said(
            gettext_noop(
                "There is no potential customer defined on the Sales order %(number)s: its customer must be an "
                "account, or a contact whose company is an account."
            ),
            number=order.number,
        ))
    coupled = counterpart_query("crm.Account", [account.pk], to="erp.Customer")
    customer = Customer.objects.filter(pk__in=coupled).first()
    if customer is None:
        raise SalesOrderError(said(
            gettext_noop(
                "There is no customer coupled to Sales account %(account)s (%(account_number)s): couple the account "
                "to an ERP customer first."
            ),
            account=account.name, account_number=account.account_number,
        ))
    if customer.blocked == Customer.Blocked.ALL:
        raise SalesOrderError(said(
            gettext_noop("Customer %(customer_no)s (%(customer)s) is blocked for all transactions."),
            customer_no=customer.no, customer=customer.name,
        ))
    return customer


def _header(order, customer):
    today = timezone.localdate()
    header = SalesHeader(
        document_type=SalesHeader.DocumentType.ORDER,
        status=SalesHeader.Status.OPEN,
        sell_to_customer=customer,
        sell_to_customer_name=_fit(SalesHeader, "sell_to_customer_name", customer.name),
        sell_to_contact_id=_sell_to_contact_id(order) or customer.primary_contact_id,
        order_date=today,
        posting_date=today,
        # BC's Requested Delivery Date: the ERP order has no such field; its shipment date is the closest one.
        shipment_date=order.requested_delivery_by,
        external_document_no=_fit(SalesHeader, "external_document_no", order.name),
        your_reference=_fit(SalesHeader, "your_reference", order.number),
        salesperson_id=customer.salesperson_id,
        currency_id=_currency_id(order, customer),
        opportunity_id=_coupled_id("erp.Opportunity", "crm.Opportunity", order.opportunity_id),
        invoice_discount_amount=order.discount_amount or Decimal(0),
    )
    _addresses(header, order, customer)
    _options(header, order, customer)
    return header


def _sell_to_contact_id(order):
    if order.customer_contact_id is None:
        return None
    return _coupled_id("erp.Contact", "crm.Contact", order.customer_contact_id)


def _coupled_id(erp_model, crm_model, crm_id):
    return counterpart(crm_model, crm_id, to=erp_model)


def _currency_id(order, customer):
    """The ERP currency of the order's Sales currency, through its ISO code; the local currency is blank (BC)."""
    currency = order.transaction_currency
    if currency is None:
        return customer.currency_id
    iso = currency.iso_currency_code.upper()
    coupled = _coupled_id("erp.Currency", "crm.TransactionCurrency", currency.pk)
    if coupled is not None:
        return coupled
    if iso == (GeneralLedgerSetup.get_solo().lcy_code or "").upper():
        return None
    erp_currency = Currency.objects.filter(iso_code__iexact=iso).order_by("code").first()
    if erp_currency is None:
        raise SalesOrderError(said(
            gettext_noop(
                "%(sales_order_label)s: currency %(iso)s is not coupled to an ERP currency, and no ERP currency has "
                "ISO code %(iso)s."
            ),
            sales_order_label=sales_order_label_said(order), iso=iso,
        ))
    return erp_currency.pk


_ADDRESS_PARTS = (  # (Sales suffix, ERP suffix, customer field)
    ("name", "name", "name"),
    ("line1", "address", "address"),
    ("line2", "address_2", "address_2"),
    ("city", "city", "city"),
    ("postalcode", "post_code", "post_code"),
    ("stateorprovince", "county", "county"),
    ("country", "country_region_code", "country_region_code"),
)


def _addresses(header, order, customer):
    """Bill-to and ship-to from the order when it has any address field, else the customer's (BC)."""
    for crm_prefix, erp_prefix in (("billto", "bill_to"), ("shipto", "ship_to")):
        from_order = any(getattr(order, f"{crm_prefix}_{part}") for part, _, _ in _ADDRESS_PARTS)
        for crm_part, erp_part, customer_field in _ADDRESS_PARTS:
            value = getattr(order, f"{crm_prefix}_{crm_part}") if from_order else getattr(customer, customer_field)
            name = f"{erp_prefix}_{erp_part}"
            setattr(header, name, _fit(type(header), name, value or ""))


def _options(header, order, customer):
    """Payment terms, shipment method, shipping agent: mapped from the order's options, else the customer's."""
    models = {"payment_terms": PaymentTerms, "shipment_method": ShipmentMethod, "shipping_agent": ShippingAgent}
    for _, _, erp_field in OPTION_FIELDS:
        setattr(header, f"{erp_field}_id", getattr(customer, f"{erp_field}_id"))
    wanted = {(name, getattr(order, crm_field)) for crm_field, name, _ in OPTION_FIELDS if getattr(order, crm_field)}
    if not wanted:
        return
    condition = Q()
    for name, value in wanted:
        condition |= Q(value_map__name=name, crm_value=value)
    codes = {}
    for name, crm_value, erp_value in ValueMapEntry.objects.filter(condition).order_by("pk").values_list(
        "value_map__name", "crm_value", "erp_value"
    ):
        codes.setdefault((name, crm_value), erp_value)  # first entry wins, as in the engine
    for crm_field, name, erp_field in OPTION_FIELDS:
        code = codes.get((name, getattr(order, crm_field)))
        if code is None:
            continue  # no option mapping: the customer's default stands
        pk = models[erp_field].objects.filter(code=code).values_list("pk", flat=True).first()
        if pk is not None:
            setattr(header, f"{erp_field}_id", pk)


def _lookups(order, lines):
    """Products → coupled items/resources, Sales units → ERP units of measure, the write-in product: in bulk."""
    lookups = _Lookups()
    product_ids = {line.product_id for line in lines if line.product_id}
    if product_ids:
        couplings, items, resources = product_erp_records(product_ids)
        services = {line.product_id for line in lines
                    if line.product_id and line.product.product_type_code == "services"}
        for model, erp_id, crm_id in couplings:
            record = (items if model == "erp.Item" else resources).get(erp_id)
            if record is None:
                continue
            kind = "item" if model == "erp.Item" else "resource"
            # A product coupled both ways: a service is a resource, anything else an item.
            if crm_id in lookups.products and (kind == "resource") != (crm_id in services):
                continue
            lookups.products[crm_id] = (kind, record)
    units = {line.uom_id: line.uom for line in lines if line.uom_id}
    if units:
        group_ids = {unit.unit_group_id for unit in units.values()}
        coupled_groups = counterparts("crm.UnitGroup", group_ids, to="erp.UnitOfMeasure")
        names = {unit.name.upper() for unit in units.values()}
        erp_units = list(UnitOfMeasure.objects.filter(
            Q(pk__in=coupled_groups.values()) | Q(code__in=names | {n.lower() for n in names})
        ).values_list("pk", "code"))
        code_by_pk = dict(erp_units)
        code_by_code = {code.upper(): code for _, code in erp_units}
        for unit_id, unit in units.items():
            group = unit.unit_group
            code = None
            # A unit group synchronised from the ERP has one unit, its base unit: the coupled unit of measure.
            if unit_id and group.pk in coupled_groups and unit.name == group.base_uom_name:
                code = code_by_pk.get(coupled_groups[group.pk])
            code = code or code_by_code.get(unit.name.upper())
            if code is not None:
                lookups.units[unit_id] = code
    if any(line.product_id is None for line in lines):
        setup = SalesReceivablesSetup.get_solo()
        if not setup.write_in_product_type or not setup.write_in_product_no:
            raise SalesOrderError(said(
                gettext_noop(
                    "Sales order %(number)s contains a write-in product. You must choose the default write-in product in "
                    "Sales & Receivables Setup window (Write-in Product Type and Write-in Product No.)."
                ),
                number=order.number,
            ))
        model = Item if setup.write_in_product_type == "item" else Resource
        record = model.objects.select_related("base_unit_of_measure").filter(no=setup.write_in_product_no).first()
        if record is None:
            raise SalesOrderError(said(
                gettext_noop(
                    "Sales order %(number)s contains a write-in product, but the write-in product %(verbose_name)s "
                    "%(write_in_product_no)s set in Sales & Receivables Setup does not exist."
                ),
                number=order.number, verbose_name=said_name(model._meta.verbose_name),
                write_in_product_no=setup.write_in_product_no,
            ))
        lookups.write_in = (setup.write_in_product_type, record)
    return lookups


def _lines(order, header, lines, lookups):
    """The ERP lines, in memory; raises SalesOrderError listing the lines that cannot be created."""
    max_description = SalesLine._meta.get_field("description").max_length
    erp_lines, errors = [], []
    line_no = 0
    for line in lines:
        try:
            kind, record = _line_product(line, lookups)
            unit_code = _line_unit(line, record, lookups)
        except SalesOrderError as exc:
            if line.line_number:
                # Translators: a Sales order line that cannot be created in the ERP, then why.
                errors.append(said(gettext_noop("Line %(line)s: %(error)s"), line=str(line.line_number),
                                   error=exc.said))
            else:
                # Translators: a Sales order line without a number that cannot be created in the ERP, then why.
                errors.append(said(gettext_noop("A line: %(error)s"), error=exc.said))
            continue
        description = line.description or line.product_description or _record_name(record)
        amount = (line.quantity * line.price_per_unit - (line.manual_discount_amount or 0)).quantize(
            CENT, ROUND_HALF_UP)
        line_no += LINE_NO_STEP
        erp_lines.append(SalesLine(
            line_no=line_no, type=kind, no=record.no, description=description[:max_description],
            unit_of_measure_code=unit_code, quantity=line.quantity, unit_price=line.price_per_unit,
            line_discount_amount=(line.manual_discount_amount or Decimal(0)).quantize(CENT, ROUND_HALF_UP),
            amount=amount, amount_including_vat=(amount + (line.tax or 0)).quantize(CENT, ROUND_HALF_UP),
        ))
        # BC's CreateExtendedDescriptionOrderLines: the rest of a long description, in comment lines.
        for start in range(max_description, len(description), max_description):
            line_no += LINE_NO_STEP
            erp_lines.append(SalesLine(line_no=line_no, type=SalesLine.Type.COMMENT,
                                       description=description[start:start + max_description]))
    if errors:
        shown = errors[:MAX_LINE_ERRORS]
        if len(errors) > len(shown):
            # Translators: after the first lines' errors, how many other lines cannot be created either.
            shown.append(counted("(and %(count)s more)", "(and %(count)s more)", count=len(errors) - len(shown)))
        # ``more``: told within ``shown`` now (counted), kept empty so the catalogues' sentence stays as it was.
        raise SalesOrderError(said(
            gettext_noop("%(sales_order_label)s cannot be created in the ERP. %(shown)s%(more)s"),
            sales_order_label=sales_order_label_said(order), shown=Joined(tuple(shown), " "), more="",
        ))
    return erp_lines


def _line_product(line, lookups):
    if line.product_id is None:
        kind, record = lookups.write_in
    else:
        product = line.product
        if product.state_code != "active":
            raise SalesOrderError(said(
                gettext_noop("product %(product_number)s (%(product)s) is not active (%(get_state_code_display)s)."),
                product_number=product.product_number, product=product.name,
                get_state_code_display=said_choice(product, "state_code"),
            ))
        found = lookups.products.get(line.product_id)
        if found is None:
            # One whole sentence per kind: the article before the noun agrees with it (une ressource, un article).
            if product.product_type_code == "services":
                sentence = gettext_noop(
                    "the Sales product %(product_number)s (%(product)s) is not coupled to an ERP resource.")
            else:
                sentence = gettext_noop(
                    "the Sales product %(product_number)s (%(product)s) is not coupled to an ERP item.")
            raise SalesOrderError(said(sentence, product_number=product.product_number, product=product.name))
        kind, record = found
    if record.blocked:
        raise SalesOrderError(said(
            gettext_noop("%(kind)s %(record_no)s (%(record_name)s) is blocked."),
            kind=said_name(type(record)._meta.verbose_name), record_no=record.no, record_name=_record_name(record),
        ))
    return kind, record


def _line_unit(line, record, lookups):
    if line.uom_id is None:
        return record.base_unit_of_measure.code if record.base_unit_of_measure_id else ""
    code = lookups.units.get(line.uom_id)
    if code is None:
        raise SalesOrderError(said(
            gettext_noop(
                "the unit %(uom)s (unit group %(unit_group)s) is unknown in the ERP: couple its unit group to a unit "
                "of measure, or use a unit named like an ERP unit of measure code."
            ),
            uom=line.uom.name, unit_group=line.uom.unit_group.name,
        ))
    return code


def _record_name(record):
    return getattr(record, "description", None) or getattr(record, "name", "") or record.no


def _fit(model, name, value):
    return (value or "")[: model._meta.get_field(name).max_length]
