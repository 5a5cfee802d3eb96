"""The option mappings: ERP code tables → an option set of the Sales account, each through the value map of the same
name (payment terms, shipment methods, shipping agents)."""

from .base import TO, MappingDefinition


class OptionMapping(MappingDefinition):
    """ERP codes ↔ the Sales account's option ``option_field``; its value map has the mapping's name."""

    crm, direction = "crm.Account", TO
    sync_only_coupled = False
    coupling_api = False  # the codes are options in Sales, not records to couple


class PaymentTermsMapping(OptionMapping):
    key = "payment_terms"
    name = "PAYMENT TERMS"
    erp, option_field = "erp.PaymentTerms", "payment_terms_code"


class ShipmentMethodMapping(OptionMapping):
    key = "shipment_method"
    name = "SHIPMENT METHOD"
    erp, option_field = "erp.ShipmentMethod", "address1_freight_terms_code"


class ShippingAgentMapping(OptionMapping):
    key = "shipping_agent"
    name = "SHIPPING AGENT"
    erp, option_field = "erp.ShippingAgent", "address1_shipping_method_code"
