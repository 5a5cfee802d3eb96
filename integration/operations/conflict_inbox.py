"""Reads of the conflict inbox (docs/decisions.md#the-conflict-inbox): how many conflicts wait, and a pair side by side.

The writes are elsewhere: the engine records and clears conflicts (engine/conflicts.py), the resolutions are
operations (operations/conflicts.py).
"""

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count

from ..engine.conflicts import field_changed, field_key, synced_value, value_plain
from ..models import SyncConflict


def conflicts_count():
    """How many coupled pairs wait in the inbox (one query)."""
    return SyncConflict.objects.count()


def conflicts_per_mapping():
    """{table mapping id: conflicts waiting} (one query)."""
    rows = SyncConflict.objects.order_by().values("table_mapping").annotate(n=Count("pk"))
    return {row["table_mapping"]: row["n"] for row in rows}


def _attname(model, name):
    try:
        return model._meta.get_field(name).attname
    except FieldDoesNotExist:
        return None


def conflict_sides(conflict):
    """The records of ``conflict``'s pair and, per mapped field, their values: a list of dicts with the ERP and
    Sales field names, the ERP value, the Sales value, the values both had at the last synchronisation, which
    side changed it and whether it is in conflict. Three queries: the field mappings and the two records."""
    coupling, mapping = conflict.coupling, conflict.table_mapping
    erp_model, crm_model = apps.get_model(coupling.erp_model), apps.get_model(coupling.crm_model)
    erp = erp_model._base_manager.filter(pk=coupling.erp_id).first()
    crm = crm_model._base_manager.filter(pk=coupling.crm_id).first()
    kept = coupling.synced_values or {}
    rows = []
    for fm in mapping.field_mappings.filter(status="enabled").order_by("id"):
        erp_att, crm_att = _attname(erp_model, fm.erp_field), _attname(crm_model, fm.crm_field)
        if not (erp_att and crm_att):
            continue  # a constant: nothing to compare
        key = field_key(fm)
        rows.append({
            "erp_field": fm.erp_field, "crm_field": fm.crm_field, "direction": fm.direction,
            "erp_value": value_plain(getattr(erp, erp_att)) if erp else None,
            "crm_value": value_plain(getattr(crm, crm_att)) if crm else None,
            "synced_erp": synced_value(kept, "erp", key, erp_att)[1],
            "synced_crm": synced_value(kept, "crm", key, crm_att)[1],
            "erp_changed": bool(kept) and erp is not None and field_changed(kept, "erp", erp, erp_att, key),
            "crm_changed": bool(kept) and crm is not None and field_changed(kept, "crm", crm, crm_att, key),
            "in_conflict": fm.erp_field in conflict.fields,
        })
    return {"erp": erp, "crm": crm, "fields": rows}
