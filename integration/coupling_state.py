"""What the Sales and ERP lists tell of each record's coupling: the reads behind the *Coupling* column and filter.

Plain selectors, no admin: which enabled mappings couple a model, the couplings of a page of records (one query),
and the counterparts' labels (one query per counterpart table), so a changelist keeps a constant query count.
"""

from collections import defaultdict

from django.db.models import Q
from django.urls import NoReverseMatch, reverse

from .engine.fields import natural_key_field
from .models import Coupling, IntegrationTableMapping


def side_of(model):
    """``"crm"`` for a Sales model, ``"erp"`` for an ERP model."""
    return "crm" if model._meta.app_label == "crm" else "erp"


def other_side(side):
    return "erp" if side == "crm" else "crm"


def record_mappings(model):
    """The enabled mappings whose records ``model`` couples: top-level, not option mappings, not F&O tasks."""
    label = model._meta.label
    return list(
        IntegrationTableMapping.objects.filter(is_enabled=True, parent=None, crm_option_field="",
                                               fo_task__isnull=True)
        .filter(Q(erp_model=label) | Q(crm_model=label))
        .order_by("sort_order", "name")
    )


def couplings_of(model, ids):
    """{record pk: [couplings]} of the records ``ids`` of ``model``, in one query."""
    side = side_of(model)
    found = defaultdict(list)
    if not ids:
        return found
    for coupling in Coupling.objects.filter(**{f"{side}_model": model._meta.label, f"{side}_id__in": list(ids)}):
        found[getattr(coupling, f"{side}_id")].append(coupling)
    return found


def record_labels(label_ids):
    """{(model label, pk): text} for records given as {model label: ids}: one query per table, no relations read."""
    from django.apps import apps

    labels = {}
    for label, ids in label_ids.items():
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError):
            continue
        key = natural_key_field(model)
        names = [f for f in ("name", "fullname", "full_name", "description") if _has_field(model, f) and f != key]
        fields = ["pk", *([key] if key else []), *names[:1]]
        for row in model.objects.filter(pk__in=list(ids)).values_list(*fields):
            parts = [str(v) for v in row[1:] if v not in (None, "")]
            labels[(label, row[0])] = " ".join(parts[:1]) + (f" ({parts[1]})" if len(parts) > 1 else "") or str(row[0])
    return labels


def admin_change_url(label, pk):
    app_label, model_name = label.lower().split(".")
    try:
        return reverse(f"admin:{app_label}_{model_name}_change", args=[pk])
    except NoReverseMatch:
        return None

def _has_field(model, name):
    try:
        model._meta.get_field(name)
    except Exception:
        return False
    return True
