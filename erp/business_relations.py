"""ERP contacts with customers, vendors and bank accounts (SPEC B1-B9, BC's business relations).

A *contact business relation* says which company contact a customer, vendor or bank account is (one of each kind
per contact, one contact per linked record). This module is the only place that makes, follows or removes those
links, and the only place that keeps the linked records' common information identical:

- B2 ``contact_link_customer`` / ``_vendor`` / ``_bank_account``: link with an existing record;
- B3 ``contact_create_customer`` (from a customer template) / ``_vendor`` / ``_bank_account``;
- B4 ``customer_create_contact`` / ``vendor_create_contact`` / ``bank_account_create_contact`` and their batch
  forms ``customers_create_contacts`` ... (BC's report 5195 "Create Conts. from Customers");
- B5 ``records_after_write``: the model hook (save, bulk_create, bulk_update) that makes the contact of every new
  customer, vendor or bank account when Marketing Setup has a contact number series, and
- B6 propagates changed common fields to the other side (``contacts_propagate``, ``customers_propagate`` ...),
  and keeps a relation on its record when the record's number changes (``records_renumber`` for ``update()``);
- B7 ``contact_create_sales_quote`` / ``_order``, ``contact_create_purchase_quote`` / ``_order``,
  ``contact_log_email``: documents and interactions from a contact;
- B8 ``records_unlink_before_delete``: deleting a customer, vendor or bank account removes only its relation.

The doors (admin actions, API) run an operation on the records a user picked through ``records_each`` (one record
at a time, a refusal fails only its record); ``create_contacts`` runs ``records_create_contacts`` (B4 for every
record not linked yet, in bulk). Both return an Outcome (p2c.outcomes) that each door tells the same way.

A refusal is a ``ValidationError`` keyed by the field in question (``contact``, ``no`` of the linked record,
``template``, ``link_to_table``, or the blank Marketing Setup field), its message naming the record, so every
door can say which record and which field.

No loop, no double write: a propagation compares before writing, writes only the records that differ, and writes
them through ``bulk_update`` with a per-object mark that the model hook reads as "this write *is* a propagation:
do not propagate it again" (BC's ``Modify()`` without trigger). It is otherwise a normal write: ``modified_at``
moves, so the integration sends the change on once. Every batch costs a constant number of queries per chunk of
``PROPAGATION_CHUNK_SIZE`` records, whatever the batch size.
"""

import functools
import logging
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When

from p2c.outcomes import DONE, REFUSED, OperationRefused, Outcome
from p2c.utils import chunked

from .models import (
    BankAccount,
    Contact,
    ContactBusinessRelation,
    Customer,
    CustomerTemplate,
    InteractionLogEntry,
    MarketingSetup,
    PurchaseHeader,
    SalesHeader,
    Vendor,
)

logger = logging.getLogger(__name__)

PROPAGATION_CHUNK_SIZE = 500
LinkToTable = ContactBusinessRelation.LinkToTable

# The address and communication block every side has (BC's shared field numbers 2-103, 5061), by field name.
COMMON_FIELDS = (
    "name", "name_2", "address", "address_2", "city", "post_code", "county", "country_region_code",
    "phone_no", "mobile_phone_no", "fax_no", "email", "home_page", "language_code", "currency",
)

SAME_NAMED = tuple((f, f) for f in COMMON_FIELDS)


@dataclass(frozen=True)
class Link:
    """One kind of linked record: its model, its setup field, and the (contact field, record field) pairs."""

    kind: str
    model: type
    setup_field: str
    pairs: tuple[tuple[str, str], ...]
    # Vendors and bank accounts always hang on a company contact (BC: TestField "Company No.").
    needs_company: bool

    @property
    def label(self):
        return self.model._meta.verbose_name


LINKS = {
    LinkToTable.CUSTOMER: Link(
        LinkToTable.CUSTOMER, Customer, "bus_rel_code_for_customers",
        (*SAME_NAMED, ("salesperson", "salesperson"), ("privacy_blocked", "privacy_blocked")),
        needs_company=False,
    ),
    # The vendor's purchaser and the bank's "our contact" are not the contact's salesperson: they stay (BC).
    LinkToTable.VENDOR: Link(
        LinkToTable.VENDOR, Vendor, "bus_rel_code_for_vendors",
        (*SAME_NAMED, ("privacy_blocked", "privacy_blocked")),
        needs_company=True,
    ),
    LinkToTable.BANK_ACCOUNT: Link(
        LinkToTable.BANK_ACCOUNT, BankAccount, "bus_rel_code_for_bank_accounts",
        SAME_NAMED,
        needs_company=True,
    ),
}
LINK_BY_MODEL = {link.model: link for link in LINKS.values()}


def _attname(model, name):
    return model._meta.get_field(name).attname


@functools.cache
def _attname_pairs(kind):
    """(contact attname, record attname) of every shared field of ``kind``."""
    link = LINKS[kind]
    return tuple((_attname(Contact, c), _attname(link.model, r)) for c, r in link.pairs)


def _contact_attnames():
    return {_attname(Contact, c) for link in LINKS.values() for c, _ in link.pairs}


def _record_attnames(link):
    return {_attname(link.model, r) for _, r in link.pairs}


def shared_fields_in(*, model, names):
    """The attnames among ``names`` (field names or attnames of ``model``) that some linked record shares."""
    if model is Contact:
        shared = _contact_attnames()
    elif model in LINK_BY_MODEL:
        shared = _record_attnames(LINK_BY_MODEL[model])
    else:
        return set()
    result = set()
    for name in names:
        try:
            attname = _attname(model, name)
        except FieldDoesNotExist:
            continue  # Django's update() will say so
        if attname in shared:
            result.add(attname)
    # A person's name is derived from its name parts.
    if model is Contact and result & {"first_name", "middle_name", "surname"}:
        result.add("name")
    return result


# Setup (B1) --------------------------------------------------------------------------------------------------------------
def business_relation_code(*, kind, setup=None):
    """The business relation of ``kind`` from Marketing Setup; refuses, naming the setup field, when it is blank."""
    link = LINKS[kind]
    setup = setup or MarketingSetup.get_solo()
    code = getattr(setup, link.setup_field)
    if code is None:
        field = MarketingSetup._meta.get_field(link.setup_field).verbose_name
        raise ValidationError({link.setup_field: (
            f"{field} must have a value in Marketing Setup: it is the business relation used when a contact "
            f"is linked with a {link.label.lower()}."
        )})
    return code


# Selectors -----------------------------------------------------------------------------------------------------------------
def contact_relation_holder(*, contact, kind):
    """The contact that carries the relations of ``contact``: its company when it is a person of a company."""
    if contact.company_id:
        return contact.company
    if contact.type == Contact.Type.PERSON and LINKS[kind].needs_company:
        raise ValidationError({"contact": (
            f"Contact {contact.no} is a person without a company: a {LINKS[kind].label.lower()} can only be "
            f"linked to a company contact. Fill in its Company No. first."
        )})
    return contact


def contact_linked_record(*, contact, kind):
    """The customer, vendor or bank account ``contact`` (or the company of a person) is linked to, or None."""
    holders = [contact.pk] + ([contact.company_id] if contact.company_id else [])
    # A person's own relation (a person customer) wins over its company's.
    relations = {r.contact_id: r for r in ContactBusinessRelation.objects.filter(contact_id__in=holders, link_to_table=kind)}
    relation = relations.get(contact.pk) or relations.get(contact.company_id)
    if relation is None:
        return None
    return LINKS[kind].model.objects.filter(no=relation.no).first()


def record_linked_contact(*, record):
    """The company contact a customer, vendor or bank account is linked to, or None."""
    link = LINK_BY_MODEL[type(record)]
    relation = ContactBusinessRelation.objects.select_related("contact").filter(
        link_to_table=link.kind, no=record.no
    ).first()
    return relation.contact if relation else None


# Write hooks (B5, B6) -------------------------------------------------------------------------------------------------------
def record_snapshot(obj):
    """Remember the values just read or written, to tell later which shared fields a write changes."""
    deferred = obj.get_deferred_fields()
    obj._br_saved = {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if f.attname not in deferred}


def _changed_fields(obj, tracked):
    """Shared attnames whose value differs from the one last read or written; all of them when unknown."""
    written = obj.__dict__.pop("_br_written_fields", None)
    saved = getattr(obj, "_br_saved", None)
    candidates = tracked
    if written is not None:
        written_attnames = set()
        for name in written:
            try:
                written_attnames.add(_attname(type(obj), name))
            except FieldDoesNotExist:
                continue
        candidates = tracked & written_attnames
    candidates = candidates - obj.get_deferred_fields()
    if saved is None:
        return set(candidates)
    return {a for a in candidates if a not in saved or saved[a] != getattr(obj, a)}


def records_after_write(*, model, objs):
    """Model hook, after save() / bulk_create / bulk_update of contacts, customers, vendors, bank accounts.

    New customers, vendors and bank accounts get their contact (B5) unless made from a contact; changed shared
    fields go to the other side (B6) unless the write is itself a propagation. Constant queries per chunk.
    """
    created, changed = [], []
    tracked = _contact_attnames() if model is Contact else _record_attnames(LINK_BY_MODEL[model])
    if model is Contact:
        _check_no_linked_company_became_a_person(objs)
    for obj in objs:
        is_new = obj.__dict__.pop("_br_created", False)
        from_contact = obj.__dict__.pop("_br_from_contact", False)
        is_propagation = obj.__dict__.pop("_br_propagation", False)
        old_no = (getattr(obj, "_br_saved", None) or {}).get("no")
        fields = _changed_fields(obj, tracked)
        if is_new:
            if model is not Contact and not from_contact:
                created.append(obj)
        elif not is_propagation:
            if old_no and old_no != obj.no and model is not Contact:
                ContactBusinessRelation.objects.filter(link_to_table=LINK_BY_MODEL[model].kind, no=old_no).update(
                    no=obj.no
                )
            if fields:
                changed.append((obj, fields))
        record_snapshot(obj)
    if created:
        _records_create_contacts(link=LINK_BY_MODEL[model], records=created, auto=True)
    if changed:
        if model is Contact:
            _push_from_contacts(changed)
        else:
            _push_from_records(LINK_BY_MODEL[model], changed)


def _check_no_linked_company_became_a_person(contacts):
    """BC: a company contact with business relations cannot become a person (one query, only on a type change)."""
    turned = [
        c.pk for c in contacts
        if c.type == Contact.Type.PERSON and (getattr(c, "_br_saved", None) or {}).get("type") == Contact.Type.COMPANY
    ]
    if not turned:
        return
    linked = sorted(
        ContactBusinessRelation.objects.filter(contact_id__in=turned).values_list("contact__no", flat=True).distinct()
    )
    if linked:
        raise ValidationError(
            f"Contact {', '.join(linked)} has business relations with customers, vendors or bank accounts: "
            f"a company contact with business relations cannot become a person."
        )


def records_propagate(*, model, pks, fields, refresh_derived=False):
    """Propagate ``fields`` (attnames) of the rows ``pks`` of ``model`` to the other side, chunk by chunk.

    What ``update()`` on a contact/customer/vendor/bank account queryset calls; also usable after raw writes.
    ``refresh_derived`` first recomputes and writes the rows' derived fields (a person's name from its parts,
    the search name), which an SQL update cannot. Per chunk: one read, one write of the derived fields that
    changed, then the propagation's queries.
    """
    if not fields and not refresh_derived:
        return
    for chunk in chunked(pks, PROPAGATION_CHUNK_SIZE):
        rows = list(model._base_manager.filter(pk__in=chunk))
        if refresh_derived:
            model.derived_fields_refresh(rows)
        if not fields:
            continue
        pairs = [(row, set(fields)) for row in rows]
        if model is Contact:
            _push_from_contacts(pairs)
        else:
            _push_from_records(LINK_BY_MODEL[model], pairs)


def records_renumber(*, model, old_nos, new_no):
    """After ``update(no=new_no)`` of customers, vendors or bank accounts: point their relations at the new numbers.

    ``old_nos``: {pk: number before the update}; ``new_no``: the value or expression the update wrote. Per chunk
    one read of the new numbers (only when they were computed by an expression) and one UPDATE of the relations,
    then one UPDATE for all. The relations pass through a parking value of ``link_to_table``, so a chain of new
    numbers (A → B while B → C, in one update) never meets the unique (link to table, No.) on the way, whatever
    order the database takes the rows in.
    """
    link = LINK_BY_MODEL.get(model)
    if link is None or not old_nos:
        return
    parked = f"~{link.kind}"  # not a choice: no relation ever holds it outside this function's transaction
    moved = 0
    with transaction.atomic():
        for chunk in chunked(list(old_nos.items()), PROPAGATION_CHUNK_SIZE):
            if hasattr(new_no, "resolve_expression"):
                new_by_pk = dict(model._base_manager.filter(pk__in=[pk for pk, _ in chunk]).values_list("pk", "no"))
            else:
                new_by_pk = {pk: new_no for pk, _ in chunk}
            renames = {old: new_by_pk[pk] for pk, old in chunk if pk in new_by_pk and new_by_pk[pk] != old}
            if not renames:
                continue
            moved += ContactBusinessRelation.objects.filter(link_to_table=link.kind, no__in=list(renames)).update(
                link_to_table=parked,
                no=Case(*[When(no=old, then=Value(new)) for old, new in renames.items()], default=F("no")),
            )
        if moved:
            ContactBusinessRelation.objects.filter(link_to_table=parked).update(link_to_table=link.kind)


def contacts_propagate(*, contacts, fields=None):
    """Write the shared ``fields`` (default: all) of ``contacts`` to their linked customers, vendors, banks."""
    fields = _contact_attnames() if fields is None else shared_fields_in(model=Contact, names=fields)
    _push_from_contacts([(c, set(fields)) for c in contacts])


def customers_propagate(*, customers, fields=None):
    """Write the shared ``fields`` (default: all) of ``customers`` to their contacts (and those contacts' links)."""
    _records_propagate(LINKS[LinkToTable.CUSTOMER], customers, fields)


def vendors_propagate(*, vendors, fields=None):
    """Write the shared ``fields`` of ``vendors`` to their contacts (and those contacts' other links)."""
    _records_propagate(LINKS[LinkToTable.VENDOR], vendors, fields)


def bank_accounts_propagate(*, bank_accounts, fields=None):
    """Write the shared ``fields`` of ``bank_accounts`` to their contacts (and those contacts' other links)."""
    _records_propagate(LINKS[LinkToTable.BANK_ACCOUNT], bank_accounts, fields)


def _records_propagate(link, records, fields):
    fields = _record_attnames(link) if fields is None else shared_fields_in(model=link.model, names=fields)
    _push_from_records(link, [(r, set(fields)) for r in records])


def _set_contact_value(contact, attname, value):
    if attname == "name" and contact.type == Contact.Type.PERSON:
        _set_person_name(contact, value)
    setattr(contact, attname, value)


def _set_person_name(contact, name):
    """Break a person's full name into its parts (BC's NameBreakdown), so prepare_for_write() keeps it."""
    parts = name.split()
    first = parts[0] if parts else ""
    surname = parts[-1] if len(parts) > 1 else ""
    middle = " ".join(parts[1:-1])
    if max(len(first), len(middle), len(surname)) > 30 or " ".join(p for p in (first, middle, surname) if p) != name:
        first = middle = surname = ""  # cannot be split faithfully: the name is kept as it is
    contact.first_name, contact.middle_name, contact.surname = first, middle, surname


def _bulk_write(model, objs, attnames):
    """Write ``objs`` as a propagation: a normal bulk_update (modified_at moves) that is not propagated back."""
    if not objs:
        return
    for obj in objs:
        obj._br_propagation = True
    names = [model._meta.get_field(a).name for a in sorted(attnames)]
    if model is Contact and "name" in attnames:
        names += ["first_name", "middle_name", "surname"]
    model.objects.bulk_update(objs, names)


def _push_from_contacts(pairs, *, exclude=None):
    """Contacts → their linked records. ``pairs``: (contact, changed attnames). ``exclude``: (kind, no) not to write.

    Per chunk: one query for the relations, one load and one bulk_update per kind that has differences.
    """
    for chunk in chunked(pairs, PROPAGATION_CHUNK_SIZE):
        by_id = {c.pk: (c, fields) for c, fields in chunk}
        relations = list(ContactBusinessRelation.objects.filter(contact_id__in=list(by_id)))
        by_kind = {}
        for relation in relations:
            if exclude and (relation.link_to_table, relation.no) in exclude:
                continue
            by_kind.setdefault(relation.link_to_table, []).append(relation)
        for kind, kind_relations in by_kind.items():
            link = LINKS[kind]
            targets = {r.no: r for r in link.model._base_manager.filter(no__in=[rel.no for rel in kind_relations])}
            to_write, written = [], set()
            for relation in kind_relations:
                target = targets.get(relation.no)
                if target is None:
                    continue
                contact, fields = by_id[relation.contact_id]
                diff = False
                for c_att, r_att in _attname_pairs(kind):
                    if c_att in fields and getattr(target, r_att) != getattr(contact, c_att):
                        setattr(target, r_att, getattr(contact, c_att))
                        written.add(r_att)
                        diff = True
                if diff:
                    to_write.append(target)
            _bulk_write(link.model, to_write, written)


def _push_from_records(link, pairs):
    """Customers/vendors/bank accounts → their contacts, then those contacts → their *other* linked records."""
    for chunk in chunked(pairs, PROPAGATION_CHUNK_SIZE):
        by_no = {r.no: (r, fields) for r, fields in chunk}
        relations = list(ContactBusinessRelation.objects.filter(link_to_table=link.kind, no__in=list(by_no)))
        if not relations:
            continue
        contacts = {c.pk: c for c in Contact._base_manager.filter(pk__in=[r.contact_id for r in relations])}
        to_write, written, onward = [], set(), []
        for relation in relations:
            contact = contacts.get(relation.contact_id)
            if contact is None:
                continue
            record, fields = by_no[relation.no]
            changed = set()
            for c_att, r_att in _attname_pairs(link.kind):
                if r_att in fields and getattr(contact, c_att) != getattr(record, r_att):
                    _set_contact_value(contact, c_att, getattr(record, r_att))
                    changed.add(c_att)
            if changed:
                to_write.append(contact)
                written |= changed
                onward.append((contact, changed))
        _bulk_write(Contact, to_write, written)
        if onward:
            # BC: the contact's DoModify runs for its other relations; the originating records are left alone.
            _push_from_contacts(onward, exclude={(link.kind, no) for no in by_no})


# Creating contacts from records (B4, B5) ---------------------------------------------------------------------------------
def _contact_from_record(link, record):
    contact = Contact(type=Contact.Type.COMPANY)
    if link.kind == LinkToTable.CUSTOMER and record.contact_type == Contact.Type.PERSON:
        contact.type = Contact.Type.PERSON
    for contact_field, record_field in link.pairs:
        _set_contact_value(contact, _attname(Contact, contact_field), getattr(record, _attname(link.model, record_field)))
    if link.kind == LinkToTable.VENDOR:
        contact.salesperson_id = record.purchaser_id  # BC's TransferFields: Purchaser Code is field 29 too
    return contact


def _records_create_contacts(*, link, records, auto):
    """Make the contact and the relation of every record not linked yet. Constant queries per chunk.

    ``auto`` (B5, on insert): nothing happens without a contact number series, and a blank business relation
    code only logs a warning (BC: "blank code = that synchronisation is off"), so no door is blocked by a
    half-filled setup. Explicitly (B4) both are required and refused with the missing setup field.
    """
    setup = MarketingSetup.get_solo()
    if auto and setup.contact_nos_id is None:
        return []
    try:
        code = business_relation_code(kind=link.kind, setup=setup)
    except ValidationError:
        if auto:
            logger.warning("No contact made for %d new %s: %s is blank in Marketing Setup.", len(records),
                           link.model._meta.verbose_name_plural, link.setup_field)
            return []
        raise
    made = []
    for chunk in chunked(records, PROPAGATION_CHUNK_SIZE):
        linked = set(
            ContactBusinessRelation.objects.filter(link_to_table=link.kind, no__in=[r.no for r in chunk])
            .values_list("no", flat=True)
        )
        todo = [r for r in chunk if r.no not in linked]
        if not todo:
            continue
        contacts = Contact.objects.bulk_create([_contact_from_record(link, r) for r in todo])
        ContactBusinessRelation.objects.bulk_create([
            ContactBusinessRelation(contact=c, business_relation=code, link_to_table=link.kind, no=r.no)
            for r, c in zip(todo, contacts, strict=True)
        ])
        made.extend(contacts)
    return made


def _create_contact(link, record):
    if ContactBusinessRelation.objects.filter(link_to_table=link.kind, no=record.no).exists():
        contact = record_linked_contact(record=record)
        raise ValidationError({"no": f"{link.label} {record.no} is already linked to contact {contact.no}."})
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
    CHOICES = [(CONTACT, "Contact"), (RECORD, "Customer / vendor / bank account")]


def _check_not_blocked(contact):
    if contact.privacy_blocked:
        raise ValidationError({"contact": f"Contact {contact.no} is blocked due to privacy: it cannot be used for this."})


def _check_can_link(link, holder, record=None):
    existing = ContactBusinessRelation.objects.filter(contact=holder, link_to_table=link.kind).first()
    if existing is not None:
        raise ValidationError({"contact": (
            f"Contact {holder.no} already has a business relation with {link.label.lower()} {existing.no}."
        )})
    if record is not None:
        other = ContactBusinessRelation.objects.select_related("contact").filter(
            link_to_table=link.kind, no=record.no
        ).first()
        if other is not None:
            raise ValidationError({"no": f"{link.label} {record.no} is already linked to contact {other.contact.no}."})


def _contact_link(link, contact, record, master):
    if master not in (Master.CONTACT, Master.RECORD):
        raise ValidationError({"master": f"Current master fields must be {Master.CONTACT!r} or {Master.RECORD!r}."})
    if not isinstance(record, link.model):
        raise ValidationError(f"Expected a {link.label.lower()}, got {record!r}.")
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
        raise ValidationError(f"{record!r} is not a customer, vendor or bank account.")
    return _contact_link(link, contact, record, master)


def contact_unlink(*, contact, kind):
    """Remove the relation of ``kind`` from ``contact`` (or its company) and return it as it was; the records stay."""
    holder = contact.company if contact.company_id else contact
    relation = ContactBusinessRelation.objects.filter(contact=holder, link_to_table=kind).first()
    if relation is None:
        raise ValidationError(
            {"link_to_table": f"Contact {holder.no} has no business relation with a {LINKS[kind].label.lower()}."}
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
        raise ValidationError({"template": (
            f"Customer template {template.code} is for {template.get_contact_type_display().lower()} contacts; "
            f"contact {holder.no} is a {holder.get_type_display().lower()}."
        )})
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
        ContactBusinessRelation.objects.create(contact=holder, business_relation=code, link_to_table=link.kind, no=record.no)
    return record


def contact_create_vendor(*, contact, no=""):
    """B3: make a vendor from a company contact (or a person's company) and link them."""
    holder = contact.company if contact.company_id else contact
    return _contact_create_simple(LINKS[LinkToTable.VENDOR], contact, no, purchaser_id=holder.salesperson_id)


def contact_create_bank_account(*, contact, no=""):
    """B3: make a bank account from a company contact (or a person's company) and link them."""
    return _contact_create_simple(LINKS[LinkToTable.BANK_ACCOUNT], contact, no)


# Deleting (B8) ----------------------------------------------------------------------------------------------------------------------
def records_unlink_before_delete(*, queryset):
    """Before customers, vendors or bank accounts are deleted: delete their relations; their contacts stay.

    (Deleting a contact deletes its relations through the foreign key; the linked records stay.)
    """
    link = LINK_BY_MODEL.get(queryset.model)
    if link is None:
        return
    ContactBusinessRelation.objects.filter(
        link_to_table=link.kind, no__in=queryset.model._base_manager.filter(pk__in=queryset.values("pk")).values("no")
    ).delete()


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
        where = f" or its company {contact.company.no}" if contact.company_id else ""
        raise ValidationError({"contact": (
            f"Contact {contact.no}{where} is not linked to a {link.label.lower()}: create or link the "
            f"{link.label.lower()} before making a {document}."
        )})
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


__all__ = [
    "COMMON_FIELDS", "LINKS", "PROPAGATION_CHUNK_SIZE", "CustomerTemplate", "Master",
    "bank_account_create_contact", "bank_accounts_create_contacts", "bank_accounts_propagate",
    "business_relation_code", "contact_create_bank_account", "contact_create_customer",
    "contact_create_purchase_order", "contact_create_purchase_quote", "contact_create_sales_order",
    "contact_create_sales_quote", "contact_create_vendor", "contact_link", "contact_link_bank_account",
    "contact_link_customer", "contact_link_vendor", "contact_linked_record", "contact_log_email",
    "contact_relation_holder", "contact_unlink", "contacts_propagate", "customer_create_contact",
    "customer_template_apply", "customer_template_for", "customers_create_contacts", "customers_propagate",
    "interaction_log_entry_create", "record_linked_contact", "records_after_write", "records_propagate",
    "records_renumber", "records_unlink_before_delete", "shared_fields_in", "vendor_create_contact",
    "vendors_create_contacts", "vendors_propagate",
]


# Operations on many records, as every door runs them (p2c.outcomes) ----------------------------------------------------
@dataclass
class EachResult:
    """What ``records_each`` did with one record: ``made`` (the record made) or ``error`` (the refusal)."""

    key: str
    record: object
    made: object = None
    error: ValidationError | None = None


def records_each(*, records, run, verb, keys=None, missing="No record {}."):
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
            result.error = ValidationError(f"The change conflicts with stored data: {exc}")
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
    (OperationRefused, 400) when Marketing Setup lacks what B4 needs (a contact number series, the business
    relation code), naming the field. Returns the Outcome (the contacts made, *done*)."""
    link = LINK_BY_MODEL[model]
    outcome = Outcome(verb=f"Create contacts from {model._meta.verbose_name_plural.lower()}")
    linked = ContactBusinessRelation.objects.filter(link_to_table=link.kind).values("no")
    pending = model.objects.exclude(no__in=linked).order_by("pk")
    last_pk = 0
    try:
        while chunk := list(pending.filter(pk__gt=last_pk)[:PROPAGATION_CHUNK_SIZE]):
            with transaction.atomic():
                outcome.add(DONE, len(_records_create_contacts(link=link, records=chunk, auto=False)))
            last_pk = chunk[-1].pk
    except ValidationError as exc:
        raise OperationRefused(" ".join(exc.messages), code="setup_incomplete", status=400) from None
    return outcome
