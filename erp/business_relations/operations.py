"""The business-relation operations the doors call (docs/features.md B2, B3, B4, B7): link, unlink, create a record from
a contact or a contact from a record, documents and interactions from a contact, and ``records_each``, which runs one
of them on the records a user picked, each on its own.
"""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext, gettext_lazy

from erp.models import (
    Contact,
    ContactBusinessRelation,
    Customer,
    InteractionLogEntry,
    MarketingSetup,
    PurchaseHeader,
    SalesHeader,
)
from p2c.outcomes import DONE, REFUSED, OperationRefused, Outcome, Refusal

from .links import (
    LINK_BY_MODEL,
    LINKS,
    PROPAGATION_CHUNK_SIZE,
    LinkToTable,
    _attname,
    _contact_attnames,
    _record_attnames,
    business_relation_code,
    contact_linked_record,
    contact_relation_holder,
    record_linked_contact,
)
from .propagation import _push_from_contacts, _push_from_records, _records_create_contacts


# Creating contacts from records (B4) ------------------------------------------------------------------------------
def _create_contact(link, record):
    if ContactBusinessRelation.objects.filter(link_to_table=link.kind, no=record.no).exists():
        contact = record_linked_contact(record=record)
        raise ValidationError(
            {
                "no": gettext("%(link_label)s %(record_no)s is already linked to contact %(contact_no)s.")
                % {"link_label": link.label, "record_no": record.no, "contact_no": contact.no}
            }
        )
    with transaction.atomic():
        return _records_create_contacts(link=link, records=[record], auto=False)[0]


def customer_create_contact(*, customer):
    """B4: make the company (or person, for a person customer) contact of ``customer`` and link them."""
    return _create_contact(LINKS[LinkToTable.CUSTOMER], customer)


def vendor_create_contact(*, vendor):
    """B4: make the company contact of ``vendor`` and link them."""
    return _create_contact(LINKS[LinkToTable.VENDOR], vendor)


def bank_account_create_contact(*, bank_account):
    """B4: make the company contact of ``bank_account`` and link them."""
    return _create_contact(LINKS[LinkToTable.BANK_ACCOUNT], bank_account)


def customers_create_contacts(*, customers):
    """B4 in batch (BC report 5195): contacts for the customers not linked yet. Returns the new contacts."""
    with transaction.atomic():
        return _records_create_contacts(link=LINKS[LinkToTable.CUSTOMER], records=list(customers), auto=False)


def vendors_create_contacts(*, vendors):
    """B4 in batch: contacts for the vendors not linked yet. Returns the new contacts."""
    with transaction.atomic():
        return _records_create_contacts(link=LINKS[LinkToTable.VENDOR], records=list(vendors), auto=False)


def bank_accounts_create_contacts(*, bank_accounts):
    """B4 in batch: contacts for the bank accounts not linked yet. Returns the new contacts."""
    with transaction.atomic():
        return _records_create_contacts(link=LINKS[LinkToTable.BANK_ACCOUNT], records=list(bank_accounts), auto=False)


# Linking and creating from a contact (B2, B3) ---------------------------------------------------------------------------------
class Master:
    """Which side's common information wins when linking (BC's "Current Master Fields")."""

    CONTACT = "contact"
    RECORD = "record"
    CHOICES = [(CONTACT, gettext_lazy("Contact")), (RECORD, gettext_lazy("Customer / vendor / bank account"))]


def _check_not_blocked(contact):
    if contact.privacy_blocked:
        raise ValidationError(
            {
                "contact": gettext("Contact %(contact_no)s is blocked due to privacy: it cannot be used for this.")
                % {"contact_no": contact.no}
            }
        )


def _check_can_link(link, holder, record=None):
    existing = ContactBusinessRelation.objects.filter(contact=holder, link_to_table=link.kind).first()
    if existing is not None:
        raise ValidationError(
            {
                "contact": (
                    gettext(
                        "Contact %(holder_no)s already has a business relation with %(link_label)s %(existing_no)s."
                    )
                    % {"holder_no": holder.no, "link_label": link.label.lower(), "existing_no": existing.no}
                )
            }
        )
    if record is not None:
        other = ContactBusinessRelation.objects.select_related("contact").filter(
            link_to_table=link.kind, no=record.no
        ).first()
        if other is not None:
            raise ValidationError(
                {
                    "no": gettext("%(link_label)s %(record_no)s is already linked to contact %(contact_no)s.")
                    % {"link_label": link.label, "record_no": record.no, "contact_no": other.contact.no}
                }
            )


def _contact_link(link, contact, record, master):
    if master not in (Master.CONTACT, Master.RECORD):
        raise ValidationError(
            {
                "master": gettext("Current master fields must be %(contact)s or %(record)s.")
                % {"contact": repr(Master.CONTACT), "record": repr(Master.RECORD)}
            }
        )
    if not isinstance(record, link.model):
        raise ValidationError(
            gettext("Expected a %(link_label)s, got %(record)s.")
            % {"link_label": link.label.lower(), "record": repr(record)}
        )
    holder = contact_relation_holder(contact=contact, kind=link.kind)
    _check_not_blocked(holder)
    code = business_relation_code(kind=link.kind)
    with transaction.atomic():
        _check_can_link(link, holder, record)
        relation = ContactBusinessRelation.objects.create(
            contact=holder, business_relation=code, link_to_table=link.kind, no=record.no
        )
        all_fields = _record_attnames(link)
        if master == Master.CONTACT:
            _push_from_contacts([(holder, _contact_attnames())], exclude=None)
        else:
            _push_from_records(link, [(record, all_fields)])
        record.refresh_from_db()
        holder.refresh_from_db()
    return relation


def contact_link_customer(*, contact, customer, master=Master.CONTACT):
    """B2: link ``contact`` (its company, for a person of a company) with an existing customer.

    ``master`` says whose common information is copied to the other side: the contact's or the customer's.
    Refuses when the setup code is blank, the contact already has a customer or the customer already a contact.
    """
    return _contact_link(LINKS[LinkToTable.CUSTOMER], contact, customer, master)


def contact_link_vendor(*, contact, vendor, master=Master.CONTACT):
    """B2: link a company contact (or a person's company) with an existing vendor."""
    return _contact_link(LINKS[LinkToTable.VENDOR], contact, vendor, master)


def contact_link_bank_account(*, contact, bank_account, master=Master.CONTACT):
    """B2: link a company contact (or a person's company) with an existing bank account."""
    return _contact_link(LINKS[LinkToTable.BANK_ACCOUNT], contact, bank_account, master)


def contact_link(*, contact, record, master=Master.CONTACT):
    """B2 for any kind of record: dispatches on the record's model."""
    link = LINK_BY_MODEL.get(type(record))
    if link is None:
        raise ValidationError(
            gettext("%(record)s is not a customer, vendor or bank account.") % {"record": repr(record)}
        )
    return _contact_link(link, contact, record, master)


def contact_unlink(*, contact, kind):
    """Remove the relation of ``kind`` from ``contact`` (or its company) and return it as it was; the records stay."""
    holder = contact.company if contact.company_id else contact
    relation = ContactBusinessRelation.objects.filter(contact=holder, link_to_table=kind).first()
    if relation is None:
        raise ValidationError(
            {
                "link_to_table": gettext("Contact %(holder_no)s has no business relation with a %(label)s.")
                % {"holder_no": holder.no, "label": LINKS[kind].label.lower()}
            }
        )
    ContactBusinessRelation.objects.filter(pk=relation.pk).delete()
    return relation


def _new_record_from_contact(link, holder, no):
    record = link.model(no=no or "")
    for contact_field, record_field in link.pairs:
        setattr(record, _attname(link.model, record_field), getattr(holder, _attname(Contact, contact_field)))
    record._br_from_contact = True  # BC's SetInsertFromContact: the record's insert makes no other contact
    return record


def customer_template_for(*, contact):
    """The default customer template of Marketing Setup for the contact's type, or None."""
    setup = MarketingSetup.get_solo()
    if contact.type == Contact.Type.PERSON:
        return setup.cust_template_person
    return setup.cust_template_company


TEMPLATE_FIELDS = (
    "customer_group", "payment_terms", "customer_price_group", "shipment_method", "shipping_agent",
    "credit_limit_lcy", "gen_bus_posting_group", "customer_posting_group", "site", "warehouse",
)
# Template fields the contact has too: the contact's value wins, the template fills a blank.
TEMPLATE_SHARED_FIELDS = ("currency", "language_code")


def customer_template_apply(*, customer, template):
    """Copy a customer template's billing, posting and F&O fields onto an (unsaved or saved) customer."""
    for field in TEMPLATE_FIELDS:
        attname = _attname(Customer, field)
        setattr(customer, attname, getattr(template, attname))
    for field in TEMPLATE_SHARED_FIELDS:
        attname = _attname(Customer, field)
        if not getattr(customer, attname):
            setattr(customer, attname, getattr(template, attname))


def contact_create_customer(*, contact, template=None, no=""):
    """B3: make a customer from ``contact`` (for its company when it is a person of a company) and link them.

    The customer gets the contact's common information and, from ``template`` (default: Marketing Setup's
    template for the contact type), its billing and posting information (B9). Template values for fields the
    contact shares (currency, language) only fill blanks, and are then written back to the contact.
    """
    link = LINKS[LinkToTable.CUSTOMER]
    holder = contact_relation_holder(contact=contact, kind=link.kind)
    _check_not_blocked(holder)
    code = business_relation_code(kind=link.kind)
    template = template or customer_template_for(contact=holder)
    if template is not None and template.contact_type and template.contact_type != holder.type:
        raise ValidationError(
            {
                "template": (
                    gettext(
                        "Customer template %(code)s is for %(get_contact_type_display)s contacts; contact %(holder_no)s is a "
                        "%(get_type_display)s."
                    )
                    % {
                        "code": template.code,
                        "get_contact_type_display": template.get_contact_type_display().lower(),
                        "holder_no": holder.no,
                        "get_type_display": holder.get_type_display().lower(),
                    }
                )
            }
        )
    with transaction.atomic():
        _check_can_link(link, holder)
        customer = _new_record_from_contact(link, holder, no)
        customer.contact_type = holder.type
        if contact.pk != holder.pk:
            customer.primary_contact = contact
            customer.contact = contact.name
        if template is not None:
            customer_template_apply(customer=customer, template=template)
        customer.save()
        ContactBusinessRelation.objects.create(
            contact=holder, business_relation=code, link_to_table=link.kind, no=customer.no
        )
        filled = {
            _attname(Customer, f) for f in TEMPLATE_SHARED_FIELDS
            if getattr(customer, _attname(Customer, f)) != getattr(holder, _attname(Contact, f))
        }
        if filled:
            _push_from_records(link, [(customer, filled)])
    return customer


def _contact_create_simple(link, contact, no, **extra):
    holder = contact_relation_holder(contact=contact, kind=link.kind)
    _check_not_blocked(holder)
    code = business_relation_code(kind=link.kind)
    with transaction.atomic():
        _check_can_link(link, holder)
        record = _new_record_from_contact(link, holder, no)
        for attname, value in extra.items():
            setattr(record, attname, value)
        record.save()
        ContactBusinessRelation.objects.create(
            contact=holder, business_relation=code, link_to_table=link.kind, no=record.no
        )
    return record


def contact_create_vendor(*, contact, no=""):
    """B3: make a vendor from a company contact (or a person's company) and link them."""
    holder = contact.company if contact.company_id else contact
    return _contact_create_simple(LINKS[LinkToTable.VENDOR], contact, no, purchaser_id=holder.salesperson_id)


def contact_create_bank_account(*, contact, no=""):
    """B3: make a bank account from a company contact (or a person's company) and link them."""
    return _contact_create_simple(LINKS[LinkToTable.BANK_ACCOUNT], contact, no)


# Documents and interactions (B7) ------------------------------------------------------------------------------------------------
def interaction_log_entry_create(*, contact, kind, description, document_no="", salesperson=None):
    """Record an interaction with ``contact``."""
    _check_not_blocked(contact)
    return InteractionLogEntry.objects.create(
        contact=contact, kind=kind, description=description[:250], document_no=document_no,
        salesperson=salesperson or contact.salesperson,
    )


def contact_log_email(*, contact, subject, salesperson=None):
    """Log an e-mail sent to or received from ``contact`` as an interaction."""
    return interaction_log_entry_create(
        contact=contact, kind=InteractionLogEntry.Kind.EMAIL, description=subject or "E-mail", salesperson=salesperson
    )


def _linked_or_refuse(contact, kind, document):
    link = LINKS[kind]
    record = contact_linked_record(contact=contact, kind=kind)
    if record is None:
        where = (
            gettext(" or its company %(company_no)s") % {"company_no": contact.company.no} if contact.company_id else ""
        )
        raise ValidationError(
            {
                "contact": (
                    gettext(
                        "Contact %(contact_no)s%(where)s is not linked to a %(link_label)s: create or link the "
                        "%(link_label)s before making a %(document)s."
                    )
                    % {"contact_no": contact.no, "where": where, "link_label": link.label.lower(), "document": document}
                )
            }
        )
    return record


def _contact_create_sales_document(contact, document_type):
    _check_not_blocked(contact)
    label = SalesHeader.DocumentType(document_type).label
    customer = _linked_or_refuse(contact, LinkToTable.CUSTOMER, f"sales {label.lower()}")
    with transaction.atomic():
        header = SalesHeader.objects.create(
            document_type=document_type,
            sell_to_customer=customer, sell_to_customer_name=customer.name, sell_to_contact=contact,
            bill_to_name=customer.name, bill_to_address=customer.address, bill_to_address_2=customer.address_2,
            bill_to_city=customer.city, bill_to_post_code=customer.post_code, bill_to_county=customer.county,
            bill_to_country_region_code=customer.country_region_code,
            ship_to_name=customer.name, ship_to_address=customer.address, ship_to_address_2=customer.address_2,
            ship_to_city=customer.city, ship_to_post_code=customer.post_code, ship_to_county=customer.county,
            ship_to_country_region_code=customer.country_region_code,
            salesperson_id=customer.salesperson_id or contact.salesperson_id, currency_id=customer.currency_id,
            payment_terms_id=customer.payment_terms_id, shipment_method_id=customer.shipment_method_id,
            shipping_agent_id=customer.shipping_agent_id, order_date=date.today(),
        )
        kind = InteractionLogEntry.Kind.SALES_QUOTE if document_type == SalesHeader.DocumentType.QUOTE \
            else InteractionLogEntry.Kind.SALES_ORDER
        interaction_log_entry_create(
            contact=contact, kind=kind, description=f"Sales {label} {header.no} for {customer.no} {customer.name}",
            document_no=header.no, salesperson=header.salesperson,
        )
    return header


def contact_create_sales_quote(*, contact):
    """B7: a sales quote for the contact's customer (a person's company's), with the contact as sell-to contact."""
    return _contact_create_sales_document(contact, SalesHeader.DocumentType.QUOTE)


def contact_create_sales_order(*, contact):
    """B7: a sales order for the contact's customer (a person's company's), with the contact as sell-to contact."""
    return _contact_create_sales_document(contact, SalesHeader.DocumentType.ORDER)


def _contact_create_purchase_document(contact, document_type):
    _check_not_blocked(contact)
    label = PurchaseHeader.DocumentType(document_type).label
    vendor = _linked_or_refuse(contact, LinkToTable.VENDOR, f"purchase {label.lower()}")
    with transaction.atomic():
        header = PurchaseHeader.objects.create(
            document_type=document_type, buy_from_vendor=vendor, buy_from_contact=contact,
            purchaser_id=vendor.purchaser_id, currency_id=vendor.currency_id, order_date=date.today(),
        )
        kind = InteractionLogEntry.Kind.PURCHASE_QUOTE if document_type == PurchaseHeader.DocumentType.QUOTE \
            else InteractionLogEntry.Kind.PURCHASE_ORDER
        interaction_log_entry_create(
            contact=contact, kind=kind, description=f"Purchase {label} {header.no} from {vendor.no} {vendor.name}",
            document_no=header.no, salesperson=header.purchaser,
        )
    return header


def contact_create_purchase_quote(*, contact):
    """B7: a purchase quote from the contact's vendor (a person's company's)."""
    return _contact_create_purchase_document(contact, PurchaseHeader.DocumentType.QUOTE)


def contact_create_purchase_order(*, contact):
    """B7: a purchase order from the contact's vendor (a person's company's)."""
    return _contact_create_purchase_document(contact, PurchaseHeader.DocumentType.ORDER)


# Operations on many records, as every door runs them (p2c.outcomes) ----------------------------------------------------
@dataclass
class EachResult:
    """What ``records_each`` did with one record: ``made`` (the record made) or ``error`` (the refusal)."""

    key: str
    record: object
    made: object = None
    error: ValidationError | None = None


NO_RECORD = gettext_lazy("No record {}.")  # a default argument: translated when read

def records_each(*, records, run, verb, keys=None, missing=NO_RECORD):
    """Run one business-relation operation ``run(record)`` (``contact_create_customer``, ``contact_log_email`` …) on
    each of ``records``, each in its own savepoint: a record refused (ValidationError, or a write the stored data
    refuses) is counted *refused* with its message naming the record, the others go through (*done*).

    ``keys``: what each record is called in the request, where the door has names for records it did not find
    (``None`` in ``records``: refused with ``missing``, e.g. "No contact {}."). Returns ``(outcome, results)``: the Outcome, and per record
    in the order given an EachResult, for the doors that show each record made.
    """
    outcome = Outcome(verb=verb)
    results = []
    for index, record in enumerate(records):
        key = keys[index] if keys is not None else record.no
        result = EachResult(key=key, record=record)
        try:
            if record is None:
                raise ValidationError({"no": missing.format(key)})
            with transaction.atomic():
                result.made = run(record)
        except ValidationError as exc:
            result.error = exc
        except IntegrityError as exc:
            result.error = ValidationError(gettext("The change conflicts with stored data: %(exc)s") % {"exc": exc})
        if result.error is None:
            outcome.add(DONE)
        else:
            outcome.record(REFUSED, key, " ".join(result.error.messages), key=key)
        results.append(result)
    return outcome, results


def record_create_contact(record):
    """B4 for one customer, vendor or bank account, whichever ``record`` is (refused when it is linked already)."""
    return _create_contact(LINK_BY_MODEL[type(record)], record)


def records_create_contacts(*, model):
    """B4 in bulk as one operation (BC's report 5195, ``create_contacts``): the contacts of every customer, vendor or
    bank account (``model``) not linked yet, read in chunks, a constant number of queries each. Refused as a whole
    (OperationRefused, 409, ``setup_incomplete``) when Marketing Setup lacks what B4 needs (a contact number series, the business
    relation code), naming the field. Returns the Outcome (the contacts made, *done*)."""
    link = LINK_BY_MODEL[model]
    outcome = Outcome(
        verb=gettext("Create contacts from %(verbose_name_plural)s")
        % {"verbose_name_plural": model._meta.verbose_name_plural.lower()}
    )
    linked = ContactBusinessRelation.objects.filter(link_to_table=link.kind).values("no")
    pending = model.objects.exclude(no__in=linked).order_by("pk")
    last_pk = 0
    try:
        while chunk := list(pending.filter(pk__gt=last_pk)[:PROPAGATION_CHUNK_SIZE]):
            with transaction.atomic():
                outcome.add(DONE, len(_records_create_contacts(link=link, records=chunk, auto=False)))
            last_pk = chunk[-1].pk
    except ValidationError as exc:
        raise OperationRefused(" ".join(exc.messages), code=Refusal.SETUP_INCOMPLETE, status=409) from None
    return outcome
