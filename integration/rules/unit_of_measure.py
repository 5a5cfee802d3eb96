"""UNIT OF MEASURE: each ERP unit of measure becomes a Sales unit group with exactly one unit (docs/features.md I5)."""

from crm.models import Unit

from .base import Rules as BaseRules
from .reads import rows_where, write


class Rules(BaseRules):
    def after_write(self, pairs, *, plan):
        if plan.destination.key != "crm" or not pairs:
            return
        groups = {dest.pk: dest for _, dest in pairs}
        with_units = {row["unit_group_id"] for row in rows_where(plan, Unit, "unit_group_id", groups, ["unit_group_id"])}
        write(plan, Unit, inserts=[
            {"unit_group_id": pk, "name": group.base_uom_name or group.name, "quantity": 1}
            for pk, group in groups.items() if pk not in with_units
        ])
