"""UNIT OF MEASURE: each ERP unit of measure becomes a Sales unit group with exactly one unit (SPEC I5)."""

from crm.models import Unit
from p2c.records import writing_as

from .base import Rules as BaseRules


class Rules(BaseRules):
    def after_write(self, pairs, *, plan):
        if plan.destination.key != "crm" or not pairs:
            return
        groups = {dest.pk: dest for _, dest in pairs}
        with_units = set(Unit.objects.filter(unit_group_id__in=groups).values_list("unit_group_id", flat=True))
        with writing_as(plan.integration_user_id):
            Unit.objects.bulk_create([
                Unit(unit_group=group, name=group.base_uom_name or group.name, quantity=1)
                for pk, group in groups.items() if pk not in with_units
            ])
