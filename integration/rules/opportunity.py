"""OPPORTUNITY ↔ opportunity. Opportunities created in the ERP from Sales get a number derived from their id."""

from .base import Rules as BaseRules


class Rules(BaseRules):
    def transfer(self, source, destination, values, *, plan, context):
        if plan.destination.key == "erp":
            if destination is None and not values.get("no"):
                values["no"] = f"OP-{source.pk.hex[:8].upper()}"
            if "description" in values:
                values["description"] = values["description"][:100]
