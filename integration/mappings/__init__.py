"""The mappings p2c declares, one class a mapping (`base.MappingDefinition`), each registered under a stable key:
its default fields, its rules hooks, whether its tables' API takes the coupling actions, the full synchronisation
review's recommendation, its blank counterparts and the mappings it depends on.

The set-up (integration.defaults) creates the seeded ones in the order registered here; the engine, the review,
the API and the sales orders ask a mapping's definition by the key the database stores. To add a mapping, write its
file and register its class below (docs/mappings.md).
"""

from integration.catalogue.definitions import (
    definition_choices,
    definition_for,
    definitions,
    register,
    unregister,
)

from .base import (
    BI,
    FROM,
    GENERIC,
    TO,
    Field,
    MappingDefinition,
    blank_counterpart_for,
    coupled_api_models,
    definition_of,
    rules_for,
)
from .contact import ContactMapping
from .currency import CurrencyMapping
from .customer import CustomerMapping
from .customer_price_group import CustomerPriceGroupMapping
from .fo import FoAccountMapping, FoContactCustomerMapping, FoContactMapping
from .item import ItemMapping
from .opportunity import OpportunityMapping
from .options import PaymentTermsMapping, ShipmentMethodMapping, ShippingAgentMapping
from .posted_invoice import PostedInvoiceMapping
from .posted_invoice_line import PostedInvoiceLineMapping
from .resource import ResourceMapping
from .sales_order import SalesOrderMapping
from .sales_price import SalesPriceMapping
from .salespeople import SalespeopleMapping
from .unit_of_measure import UnitOfMeasureMapping

# The registration: the set-up's order (a dependency before its dependants).
for _definition in (
    SalespeopleMapping, CurrencyMapping, UnitOfMeasureMapping,
    PaymentTermsMapping, ShipmentMethodMapping, ShippingAgentMapping,
    CustomerMapping, ContactMapping, ItemMapping, ResourceMapping, CustomerPriceGroupMapping, SalesPriceMapping,
    OpportunityMapping, PostedInvoiceMapping, PostedInvoiceLineMapping, SalesOrderMapping,
    FoAccountMapping, FoContactMapping, FoContactCustomerMapping,
):
    register(_definition)

__all__ = [
    "BI", "FROM", "GENERIC", "TO", "Field", "MappingDefinition", "blank_counterpart_for", "coupled_api_models",
    "definition_choices", "definition_for", "definition_of", "definitions", "register", "rules_for", "unregister",
]
