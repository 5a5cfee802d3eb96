"""CONTACT ↔ contact: ERP person contacts of a company and Sales contacts of an account
(integration/rules/contact.py)."""

from integration.rules import contact

from .address import ADDRESS_FIELDS
from .base import BI, FROM, TO, Field, MappingDefinition


class ContactMapping(MappingDefinition):
    key = "contact"
    name = "CONTACT"
    erp, crm, direction = "erp.Contact", "crm.Contact", BI
    erp_filter = {"type": "person", "company__isnull": False}
    crm_filter = {"parent_account__isnull": False, "state_code": "active"}
    depends = ("customer",)
    rules = contact.Rules
    fields = (
        Field("type", "", FROM, constant="person"),
        Field("salesperson", "owner", TO, not_null=True),
        Field("currency", "transaction_currency", BI),
        *ADDRESS_FIELDS,
        Field("email", "emailaddress1", BI, match=1),
        Field("fax_no", "fax", BI),
        Field("first_name", "first_name", BI, match=2),
        Field("middle_name", "middle_name", BI),
        Field("surname", "last_name", BI, match=2),
        Field("job_title", "job_title", BI),
        Field("home_page", "websiteurl", BI, validate=False),
        Field("mobile_phone_no", "mobile_phone", BI),
        Field("pager", "pager", BI),
        Field("phone_no", "telephone1", BI),
    )
