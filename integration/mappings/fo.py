"""The Finance and Operations data integration's tasks (integration.fo): their templates make the table mappings,
fields and defaults (integration/fo/templates.py); these definitions give them their rules. The set-up does not create
them, and their tables' API is exposed by the mappings above."""

from integration.rules import fo_account, fo_contact, fo_contact_customer

from .base import FROM, MappingDefinition


class FoTaskMapping(MappingDefinition):
    direction = FROM
    seeded = False
    coupling_api = False


class FoAccountMapping(FoTaskMapping):
    key = "fo_account"
    name = "Accounts - Customers"
    erp, crm = "erp.Customer", "crm.Account"
    rules = fo_account.Rules


class FoContactMapping(FoTaskMapping):
    key = "fo_contact"
    name = "Contacts"
    erp, crm = "erp.Contact", "crm.Contact"
    rules = fo_contact.Rules


class FoContactCustomerMapping(FoTaskMapping):
    key = "fo_contact_customer"
    name = "ContactToCustomer"
    erp, crm = "erp.Customer", "crm.Contact"
    rules = fo_contact_customer.Rules
