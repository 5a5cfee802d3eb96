"""What the Finance and Operations tasks share (docs/features.md P3, P4): natural keys and a task's defaults / value
maps.

A task's defaults (`IntegrationProjectTaskDefault`) apply after the field mappings: a blank ERP value takes the
value map's entry for the Sales key field (country/region, city), else the default value; a required field still
blank fails the row with a message naming the field and the record. They are loaded once per run, from the
integration's own configuration in this process's database (no side's table: the same with Sales over HTTP).
"""

from django.utils.translation import gettext_lazy, gettext_noop

from integration.models import IntegrationProjectTaskDefault
from p2c.said import Joined, said, said_name

from .base import RowError
from .base import Rules as BaseRules


class FoRules(BaseRules):
    """Base of the rules of a Finance and Operations task (Sales → ERP)."""

    #: The Sales field holding the natural key the ERP record number takes (ACC-…, CON-…).
    key_field = ""

    def __init__(self):
        self._defaults = None

    def defaults_for(self, plan):
        """The task's defaults, as (erp attname, default, key field, {lower key: value}, required, label)."""
        if self._defaults is None:
            model = plan.destination.model
            rows = IntegrationProjectTaskDefault.objects.filter(task__table_mapping_id=plan.mapping.pk)
            self._defaults = []
            for row in rows:
                field = model._meta.get_field(row.erp_field)
                value_map = {str(k).strip().lower(): v for k, v in (row.value_map or {}).items()}
                self._defaults.append(
                    (field.attname, row.default_value, row.key_field, value_map, row.required, field.verbose_name)
                )
        return self._defaults

    def source_fields(self, *, plan):
        if plan.destination.key != "erp":
            return ()
        keys = [key_field for _, _, key_field, _, _, _ in self.defaults_for(plan)]
        return tuple(name for name in (self.key_field, *keys) if name)

    def prepare_chunk(self, rows, *, plan):
        self.defaults_for(plan)
        return None

    def transfer(self, source, destination, values, *, plan, context):
        if plan.destination.key != "erp":
            return
        if self.key_field and not getattr(source, self.key_field):
            label = source._meta.get_field(self.key_field).verbose_name
            raise RowError(said(
                gettext_noop("%(label)s is blank: it is the key of the integration (run manage.py p2c_upgrade)"),
                label=said_name(label)))
        self.defaults_apply(source, destination, values, plan=plan)

    def defaults_apply(self, source, destination, values, *, plan):
        missing = []
        for attname, default, key_field, value_map, required, label in self.defaults_for(plan):
            current = values.get(attname, getattr(destination, attname, "") if destination is not None else "")
            if current not in (None, ""):
                continue
            value = ""
            if key_field and value_map:
                key = str(getattr(source, key_field, "") or "").strip().lower()
                value = value_map.get(key, "")
            value = value or default
            if value:
                values[attname] = value
            elif required:
                missing.append(label)
        if missing:
            raise RowError(said(
                gettext_noop("%(missing)s is required in the ERP but blank: give the task a default value or a value map"),
                missing=Joined(tuple(said_name(m) for m in missing))))

    def left_out_reasons(self, queryset):
        """{reason: count} for source rows this task's filter leaves out (``queryset``: exactly those rows)."""
        count = queryset.count()
        return {gettext_lazy("does not match the task filter"): count} if count else {}
