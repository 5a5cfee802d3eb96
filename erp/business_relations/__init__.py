"""ERP contacts with customers, vendors and bank accounts (docs/features.md B1-B9, BC's business relations).

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

The rooms: ``links`` (what links what, the setup code, the reads that follow a link), ``propagation`` (the hooks
the models call on every write path: B5, B6, B8) and ``operations`` (what the doors call: B2-B4, B7,
``records_each``). Every public name is importable from ``erp.business_relations``.
"""

# CustomerTemplate: named here before the split, kept for its importers; the shared fields are declared with the
# models, whose update() asks them.
from erp.models import COMMON_FIELDS, CustomerTemplate, shared_fields_in

from .links import (
    LINK_BY_MODEL,
    LINKS,
    PROPAGATION_CHUNK_SIZE,
    Link,
    LinkToTable,
    business_relation_code,
    contact_linked_record,
    contact_relation_holder,
    record_linked_contact,
)
from .operations import (
    TEMPLATE_FIELDS,
    TEMPLATE_SHARED_FIELDS,
    EachResult,
    Master,
    bank_account_create_contact,
    bank_accounts_create_contacts,
    contact_create_bank_account,
    contact_create_customer,
    contact_create_purchase_order,
    contact_create_purchase_quote,
    contact_create_sales_order,
    contact_create_sales_quote,
    contact_create_vendor,
    contact_link,
    contact_link_bank_account,
    contact_link_customer,
    contact_link_vendor,
    contact_log_email,
    contact_unlink,
    customer_create_contact,
    customer_template_apply,
    customer_template_for,
    customers_create_contacts,
    interaction_log_entry_create,
    record_create_contact,
    records_create_contacts,
    records_each,
    vendor_create_contact,
    vendors_create_contacts,
)
from .propagation import (
    bank_accounts_propagate,
    contacts_propagate,
    customers_propagate,
    record_snapshot,
    records_after_write,
    records_propagate,
    records_renumber,
    records_unlink_before_delete,
    vendors_propagate,
)

__all__ = [
    "COMMON_FIELDS",
    "LINKS",
    "LINK_BY_MODEL",
    "PROPAGATION_CHUNK_SIZE",
    "TEMPLATE_FIELDS",
    "TEMPLATE_SHARED_FIELDS",
    "CustomerTemplate",
    "EachResult",
    "Link",
    "LinkToTable",
    "Master",
    "bank_account_create_contact",
    "bank_accounts_create_contacts",
    "bank_accounts_propagate",
    "business_relation_code",
    "contact_create_bank_account",
    "contact_create_customer",
    "contact_create_purchase_order",
    "contact_create_purchase_quote",
    "contact_create_sales_order",
    "contact_create_sales_quote",
    "contact_create_vendor",
    "contact_link",
    "contact_link_bank_account",
    "contact_link_customer",
    "contact_link_vendor",
    "contact_linked_record",
    "contact_log_email",
    "contact_relation_holder",
    "contact_unlink",
    "contacts_propagate",
    "customer_create_contact",
    "customer_template_apply",
    "customer_template_for",
    "customers_create_contacts",
    "customers_propagate",
    "interaction_log_entry_create",
    "record_create_contact",
    "record_linked_contact",
    "record_snapshot",
    "records_after_write",
    "records_create_contacts",
    "records_each",
    "records_propagate",
    "records_renumber",
    "records_unlink_before_delete",
    "shared_fields_in",
    "vendor_create_contact",
    "vendors_create_contacts",
    "vendors_propagate",
]
