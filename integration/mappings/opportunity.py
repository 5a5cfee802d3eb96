"""OPPORTUNITY ↔ opportunity; opportunities created in the ERP from Sales get a number derived from their id
(integration/rules/opportunity.py)."""

from integration.rules import opportunity

from .base import BI, TO, Field, MappingDefinition


class OpportunityMapping(MappingDefinition):
    key = "opportunity"
    name = "OPPORTUNITY"
    erp, crm, direction = "erp.Opportunity", "crm.Opportunity", BI
    sync_only_coupled = False
    depends = ("contact",)
    rules = opportunity.Rules
    fields = (
        Field("description", "name", BI, match=1),
        Field("contact", "parent_contact", BI, match=1),
        Field("salesperson", "owner", TO, not_null=True),
        Field("estimated_value_lcy", "estimated_value", TO),
        Field("estimated_closing_date", "estimated_close_date", TO),
    )
