"""CUSTOMER ↔ account. The salesperson → owner rule is the generic coupled-reference translation: a customer whose
salesperson is not coupled to a Sales user fails with a message naming the salesperson (integration/rules/customer.py).
"""

from integration.rules import customer

from .address import ADDRESS_FIELDS
from .base import BI, TO, Field, MappingDefinition


class CustomerMapping(MappingDefinition):
    key = "customer"
    name = "CUSTOMER"
    erp, crm, direction = "erp.Customer", "crm.Account", BI
    erp_filter = {"blocked": ""}
    crm_filter = {"state_code": "active", "customer_type_code": "customer"}
    depends = ("salesperson", "currency", "payment_terms", "shipment_method", "shipping_agent")
    rules = customer.Rules
    fields = (
        Field("", "customer_type_code", TO, constant="customer"),
        Field("salesperson", "owner", TO, not_null=True),
        Field("name", "name", BI, match=2),
        Field("contact", "address1_primary_contact_name", BI, validate=False),
        *ADDRESS_FIELDS,
        Field("currency", "transaction_currency", BI),
        Field("email", "emailaddress1", BI, match=1),
        Field("fax_no", "fax", BI),
        Field("home_page", "websiteurl", BI, validate=False),
        Field("phone_no", "telephone1", BI),
        Field("shipment_method", "address1_freight_terms_code", BI, value_map="SHIPMENT METHOD"),
        Field("shipping_agent", "address1_shipping_method_code", BI, value_map="SHIPPING AGENT"),
        Field("payment_terms", "payment_terms_code", BI, value_map="PAYMENT TERMS"),
        Field("credit_limit_lcy", "credit_limit", TO),
        Field("primary_contact", "primary_contact", BI, clear_on_failure=True),
    )
