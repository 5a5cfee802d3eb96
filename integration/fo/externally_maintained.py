"""Externally maintained ERP records (docs/features.md P5): customers and contacts the Sales synchronisation writes.

An ERP record flagged *externally maintained* (IsContactPersonExternallyMaintained) is maintained in Sales: the
fields the Finance and Operations tasks write into it may not be changed in the ERP, or the next run would
silently overwrite the change. This module says which fields those are and refuses changes to them; the ERP
admin shows them read-only (erp/admin_externally_maintained.py) and the API answers 400 naming them
(integration/api/externally_maintained.py).
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_lazy

from ..models import IntegrationFieldMapping, IntegrationProjectTaskDefault
from .templates import TEMPLATES

NOTE = gettext_lazy(
    "Maintained in Sales (externally maintained): change {fields} in Sales; the synchronisation writes them here."
)


def _template_fields(label):
    fields = set()
    for template in TEMPLATES:
        for task in template["tasks"]:
            if task["erp"] == label:
                fields.update(erp_field for erp_field, _crm, _options in task["fields"] if erp_field)
                fields.update(task.get("defaults", {}))
    return fields


def externally_maintained_fields(model):
    """Names of the ``model`` fields written by the Finance and Operations tasks (shipped templates and every
    project's own field mappings and defaults), ``externally_maintained`` included. Two queries."""
    label = model._meta.label
    fields = _template_fields(label)
    fields.update(
        IntegrationFieldMapping.objects.filter(
            table_mapping__fo_task__isnull=False, table_mapping__erp_model=label, status="enabled"
        ).exclude(erp_field="").values_list("erp_field", flat=True)
    )
    fields.update(
        IntegrationProjectTaskDefault.objects.filter(task__table_mapping__erp_model=label).values_list(
            "erp_field", flat=True
        )
    )
    fields.add("externally_maintained")
    existing = {f.name for f in model._meta.concrete_fields}
    return sorted(fields & existing)


def is_externally_maintained(instance):
    return bool(instance is not None and instance.pk is not None and getattr(instance, "externally_maintained", False))


def externally_maintained_changes_refuse(*, instance, changes, cache=None):
    """Raise ValidationError (one message per field) when ``changes`` ({field name: new value}) would change a
    field of an externally maintained ``instance`` that the Sales synchronisation writes.

    No query for a record that is not externally maintained; ``cache`` (a dict kept by the caller, e.g. for a
    bulk upsert) keeps the locked field names per model so a batch costs two queries, not two per record."""
    if not is_externally_maintained(instance):
        return
    model = type(instance)
    if cache is not None and model in cache:
        locked = cache[model]
    else:
        locked = set(externally_maintained_fields(model))
        if cache is not None:
            cache[model] = locked
    refused = {}
    for name, new in changes.items():
        if name not in locked:
            continue
        field = instance._meta.get_field(name)
        old = getattr(instance, field.attname)
        new_value = getattr(new, "pk", new) if field.is_relation else new
        if old != new_value:
            refused[name] = [
                (
                    gettext(
                        "%(verbose_name)s %(getattr)s is maintained in Sales (externally maintained): %(verbose_name2)s is "
                        "written by the Sales synchronisation; change it in Sales."
                    )
                    % {
                        "verbose_name": instance._meta.verbose_name.capitalize(),
                        "getattr": getattr(instance, "no", instance.pk),
                        "verbose_name2": field.verbose_name,
                    }
                )
            ]
    if refused:
        raise ValidationError(refused, code="externally_maintained")
