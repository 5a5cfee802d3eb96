"""What links a contact with a customer, vendor or bank account (docs/features.md B1), and the reads that follow a link.

``LINKS`` holds, per kind of linked record, its model, its Marketing Setup field and the (contact field, record
field) pairs the two sides share; ``business_relation_code`` is the setup code of a kind; the selectors answer
which record a contact is linked to and which contact a record is.
"""

import functools
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from erp.models import (
    BankAccount,
    Contact,
    ContactBusinessRelation,
    Customer,
    MarketingSetup,
    Vendor,
    contact_shared_attnames,
)

PROPAGATION_CHUNK_SIZE = 500
LinkToTable = ContactBusinessRelation.LinkToTable

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
        LinkToTable.CUSTOMER, Customer, "bus_rel_code_for_customers", Customer.CONTACT_SHARED_FIELDS,
        needs_company=False,
    ),
    LinkToTable.VENDOR: Link(
        LinkToTable.VENDOR, Vendor, "bus_rel_code_for_vendors", Vendor.CONTACT_SHARED_FIELDS, needs_company=True,
    ),
    LinkToTable.BANK_ACCOUNT: Link(
        LinkToTable.BANK_ACCOUNT, BankAccount, "bus_rel_code_for_bank_accounts", BankAccount.CONTACT_SHARED_FIELDS,
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
    return contact_shared_attnames(Contact)


def _record_attnames(link):
    return contact_shared_attnames(link.model)


# Setup (B1) --------------------------------------------------------------------------------------------------------------
def business_relation_code(*, kind, setup=None):
    """The business relation of ``kind`` from Marketing Setup; refuses, naming the setup field, when it is blank."""
    link = LINKS[kind]
    setup = setup or MarketingSetup.get_solo()
    code = getattr(setup, link.setup_field)
    if code is None:
        field = MarketingSetup._meta.get_field(link.setup_field).verbose_name
        raise ValidationError(
            {
                link.setup_field: (
                    gettext(
                        "%(field)s must have a value in Marketing Setup: it is the business relation used when a contact is "
                        "linked with a %(link_label)s."
                    )
                    % {"field": field, "link_label": link.label.lower()}
                )
            }
        )
    return code


# Selectors -----------------------------------------------------------------------------------------------------------------
def contact_relation_holder(*, contact, kind):
    """The contact that carries the relations of ``contact``: its company when it is a person of a company."""
    if contact.company_id:
        return contact.company
    if contact.type == Contact.Type.PERSON and LINKS[kind].needs_company:
        raise ValidationError(
            {
                "contact": (
                    gettext(
                        "Contact %(contact_no)s is a person without a company: a %(label)s can only be linked to a company "
                        "contact. Fill in its Company No. first."
                    )
                    % {"contact_no": contact.no, "label": LINKS[kind].label.lower()}
                )
            }
        )
    return contact


def contact_linked_record(*, contact, kind):
    """The customer, vendor or bank account ``contact`` (or the company of a person) is linked to, or None."""
    holders = [contact.pk] + ([contact.company_id] if contact.company_id else [])
    # A person's own relation (a person customer) wins over its company's.
    relations = {
        r.contact_id: r for r in ContactBusinessRelation.objects.filter(contact_id__in=holders, link_to_table=kind)
    }
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
