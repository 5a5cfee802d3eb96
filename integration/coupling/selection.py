"""Which records a selection holds, for the operations and their doors: the side of a model, the mappings its
records are coupled under, their couplings, the ids within a mapping's filter, and how records are named. Each
reads in one query (per table), whatever the selection's size. The reads shared with the coupling column live in
integration.coupling.state."""

from django.utils.text import capfirst

from ..catalogue.fields import RELATION, field_category, get_field
from ..engine.filters import filter_validate
from ..labels import record_labels
from ..models import IntegrationFieldMapping
from .state import couplings_of, other_side, record_mappings, side_of  # noqa: F401  (read from here too)


def system_name(side):
    return "Sales" if side == "crm" else "ERP"


def record_names(model, ids):
    """{pk: "Customer C00010 (Adatum)"} for ``ids`` of ``model`` (one query)."""
    labels = record_labels({model._meta.label: ids})
    noun = capfirst(model._meta.verbose_name)
    return {pk: f"{noun} {labels.get((model._meta.label, pk), pk)}" for pk in ids}


def ids_in_filter(mapping, model, ids):
    """The ids among ``ids`` that are within the mapping's table filter on ``model``'s side."""
    side = side_of(model)
    spec = mapping.crm_filter if side == "crm" else mapping.erp_filter
    return set(model.objects.filter(filter_validate(model, spec or {})).filter(pk__in=list(ids))
               .values_list("pk", flat=True))


def records_by_mapping(model, ids, mappings):
    """Split ``ids`` between ``mappings`` (products: items or resources) by each mapping's table filter.

    Returns ({mapping: [ids]}, [ids within no mapping's filter]). With one mapping every id goes to it.
    """
    ids = list(ids)
    if len(mappings) == 1:
        return {mappings[0]: ids}, []
    grouped, left = {}, set(ids)
    for mapping in mappings:
        within = ids_in_filter(mapping, model, left)
        if within:
            grouped[mapping] = [i for i in ids if i in within]
            left -= within
    return grouped, [i for i in ids if i in left]


def field_mappings_for_matching(mapping):
    """The field mappings of ``mapping`` the engine can match on (integration.engine.matching), no constant:
    two plain fields, or two references (matched through the related records' couplings)."""
    erp_model, crm_model = mapping.erp_model_class(), mapping.crm_model_class()
    usable = []
    for fm in (IntegrationFieldMapping.objects.filter(table_mapping=mapping, status="enabled", constant_value="")
               .exclude(erp_field="").exclude(crm_field="").order_by("id")):
        erp_field, crm_field = get_field(erp_model, fm.erp_field), get_field(crm_model, fm.crm_field)
        if erp_field is None or crm_field is None:
            continue
        if (field_category(erp_field) == RELATION) != (field_category(crm_field) == RELATION):
            continue  # a reference on one side only (a code to an option, say): no equal values to compare
        usable.append(fm)
    return usable
