"""Keeping linked records in step (docs/features.md B5, B6, B8): what the ERP models' writes call on every path.

``erp.models`` cannot import this module (it imports the models): each of their write paths sends a signal
(``erp.models.linked_records_written`` and the others), which the receivers at the end of this module take to
``records_after_write``, ``record_snapshot``, ``records_propagate``, ``records_renumber`` and
``records_unlink_before_delete``. ``ErpConfig.ready()`` imports this module, which connects them.
"""

import logging

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.dispatch import receiver
from django.utils.translation import gettext

from erp.models import (
    Contact,
    ContactBusinessRelation,
    MarketingSetup,
    linked_record_refreshed,
    linked_records_deleting,
    linked_records_updated,
    linked_records_written,
    shared_fields_in,
)
from p2c.utils import chunked

from .links import (
    LINK_BY_MODEL,
    LINKS,
    PROPAGATION_CHUNK_SIZE,
    LinkToTable,
    _attname,
    _attname_pairs,
    _contact_attnames,
    _record_attnames,
    business_relation_code,
)

logger = logging.getLogger(__name__)


# Write hooks (B5, B6) -------------------------------------------------------------------------------------------------------
def record_snapshot(obj):
    """Remember the values just read or written, to tell later which shared fields a write changes."""
    # A loaded field's value is in the instance's dict under its attname; a deferred one is not there at all. The
    # dict is copied whole (picking out the fields cost a first load 13 µs a row); its other keys are never compared.
    obj.__dict__.pop("_br_loaded", None)  # the row as read (`saved_values`): this snapshot replaces it
    saved = obj.__dict__.copy()
    saved.pop("_br_saved", None)  # not a chain of every earlier snapshot
    obj._br_saved = saved


def saved_values(obj):
    """The values ``obj`` last read from or wrote to the database (attname → value), None when unknown."""
    attrs = obj.__dict__
    if "_br_saved" not in attrs and "_br_loaded" in attrs:  # read (`LinkedToContact.loaded`), not written since
        field_names, values = attrs.pop("_br_loaded")
        attrs["_br_saved"] = dict(zip(field_names, values, strict=True))
    return attrs.get("_br_saved")


def _changed_fields(obj, tracked):
    """Shared attnames whose value differs from the one last read or written; all of them when unknown."""
    written = obj.__dict__.pop("_br_written_fields", None)
    saved = saved_values(obj)
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
        if is_new:  # nothing to compare: no changed fields to look for
            obj.__dict__.pop("_br_written_fields", None)
            if model is not Contact and not from_contact:
                created.append(obj)
            record_snapshot(obj)
            continue
        fields = _changed_fields(obj, tracked)
        if not is_propagation:
            old_no = (saved_values(obj) or {}).get("no")
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
        if c.type == Contact.Type.PERSON and (saved_values(c) or {}).get("type") == Contact.Type.COMPANY
    ]
    if not turned:
        return
    linked = sorted(
        ContactBusinessRelation.objects.filter(contact_id__in=turned).values_list("contact__no", flat=True).distinct()
    )
    if linked:
        raise ValidationError(
            gettext("Contact %(linked)s has business relations with customers, vendors or bank accounts: a company "
                     "contact with business relations cannot become a person.") % {"linked": ', '.join(linked)}
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


# Creating contacts from records (B5 on insert; B4 in operations) ---------------------------------------------------------------------------------
def _contact_from_record(link, record):
    contact = Contact(type=Contact.Type.COMPANY)
    if link.kind == LinkToTable.CUSTOMER and record.contact_type == Contact.Type.PERSON:
        contact.type = Contact.Type.PERSON
    for contact_field, record_field in link.pairs:
        _set_contact_value(
            contact, _attname(Contact, contact_field), getattr(record, _attname(link.model, record_field))
        )
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


# The models' signals (erp.models), to the hooks above -------------------------------------------------------------------
@receiver(linked_records_written, dispatch_uid="erp.business_relations.written")
def _written(sender, objs, **kwargs):
    records_after_write(model=sender, objs=objs)


@receiver(linked_records_updated, dispatch_uid="erp.business_relations.updated")
def _updated(sender, pks, fields, refresh_derived, old_nos, new_no, **kwargs):
    if old_nos is not None:
        records_renumber(model=sender, old_nos=old_nos, new_no=new_no)
    records_propagate(model=sender, pks=pks, fields=fields, refresh_derived=refresh_derived)


@receiver(linked_records_deleting, dispatch_uid="erp.business_relations.deleting")
def _deleting(sender, queryset, **kwargs):
    records_unlink_before_delete(queryset=queryset)


@receiver(linked_record_refreshed, dispatch_uid="erp.business_relations.refreshed")
def _refreshed(sender, instance, **kwargs):
    record_snapshot(instance)
