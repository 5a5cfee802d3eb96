"""Checks run when a mapping is saved: named tables and fields are synchronisable (``registry``), types convert,
filters are sound, no cycles of dependencies or parents, and the directions of a table mapping and its field mappings
agree (docs/features.md I2, I3; BC tables 5335/5336). The models' ``clean()`` call them; they import no model (a
mapping's own class answers the queries over the other mappings):

- an option mapping, and each of its field mappings, goes one way only (`option_one_way`); its field mappings
  follow its direction (``IntegrationTableMapping.save`` carries it);
- each direction a table mapping runs is served by at least one of its enabled field mappings
  (`direction_served_errors`), checked with the stored field mappings, or with those being saved with it (the
  admin's inline: ``field_mappings_validate``).
"""

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext

from .directions import Direction
from .fields import RELATION, categories_convert, field_category, get_field, natural_key_field
from .filters import filter_validate
from .registry import field_problem, synchronisable_model


def table_mapping_validate(*, mapping):
    errors = {}
    # A table no app declares synchronisable is refused by the fields' choices; nothing more to check on it.
    erp_model, crm_model = synchronisable_model(mapping.erp_model), synchronisable_model(mapping.crm_model)
    for model, attr in ((erp_model, "erp_filter"), (crm_model, "crm_filter")):
        if model is not None:
            try:
                filter_validate(model, getattr(mapping, attr), field_name=attr)
            except ValidationError as exc:
                errors.update(exc.message_dict)
    if crm_model is not None and mapping.crm_option_field:
        field = get_field(crm_model, mapping.crm_option_field)
        if field is None or not field.choices:
            errors["crm_option_field"] = gettext("%(model)s has no option set %(field)s.") % {
                "model": crm_model._meta.label, "field": repr(mapping.crm_option_field)}
        if mapping.direction == Direction.BIDIRECTIONAL:
            errors["direction"] = option_one_way()
    if mapping.parent_id and mapping.parent_id == mapping.pk:
        errors["parent"] = gettext("A mapping cannot be its own parent.")
    else:
        errors.update(parent_chain_problem(mapping=mapping))
    if "direction" not in errors and mapping.pk is not None and mapping.check_field_mappings:
        errors.update(direction_served_errors(mapping=mapping, field_mappings=list(mapping.field_mappings.all())))
    if errors:
        raise ValidationError(errors)


def option_one_way():
    """Business Central's refusal of a bidirectional option mapping (or field mapping of one)."""
    return gettext("Option mappings can only synchronize from integration table or to integration table.")


# BC's names of the one-way directions, as its message quotes them.
_BC_DIRECTION = {Direction.TO_INTEGRATION: ("ToIntegrationTable", "ERP → Sales"),
                 Direction.FROM_INTEGRATION: ("FromIntegrationTable", "Sales → ERP")}


def direction_served_errors(*, mapping, field_mappings):
    """``{"direction": message}`` when a direction ``mapping`` runs has no enabled field mapping serving it (one
    in that direction or bidirectional), else ``{}``. A mapping without enabled field mappings is let through (it is
    being built), and so is an option mapping: its field mappings follow its direction."""
    if mapping.is_option_mapping:
        return {}
    enabled = [fm for fm in field_mappings if fm.is_enabled]
    if not enabled:
        return {}
    for one_way in mapping.directions():
        if not any(fm.direction in (one_way, Direction.BIDIRECTIONAL) for fm in enabled):
            bc_name, arrow = _BC_DIRECTION[one_way]
            return {"direction": gettext(
                # Translators: Business Central's message; the direction's name in quotes is BC's (kept as it is),
                # the arrow says the same ("ERP → Sales").
                "You must set the direction of at least one enabled integration field mapping to '%(bc_name)s' "
                "(%(arrow)s). Edit the field mappings of %(mapping)s."
            ) % {"bc_name": bc_name, "arrow": arrow, "mapping": mapping.name}}
    return {}


def field_mappings_validate(*, mapping, field_mappings):
    """The pair rules over a table mapping and the field mappings saved with it (the admin form and its inline):
    raises ValidationError naming the first broken rule."""
    errors = {}
    if mapping.is_option_mapping and any(fm.direction == Direction.BIDIRECTIONAL for fm in field_mappings):
        errors["direction"] = option_one_way()
    else:
        errors.update(direction_served_errors(mapping=mapping, field_mappings=field_mappings))
    if errors:
        raise ValidationError(errors)


def parent_chain_problem(*, mapping):
    """``{"parent": message}`` when ``mapping``'s parent chain leads back to it (a run would recurse for ever)."""
    if not mapping.parent_id or mapping.pk is None:
        return {}
    rows = type(mapping).objects.values_list("pk", "parent_id", "name")
    parents = {pk: parent for pk, parent, _ in rows}
    names = {pk: name for pk, _, name in rows}
    parents[mapping.pk], names[mapping.pk] = mapping.parent_id, mapping.name
    chain, node = [mapping.pk], mapping.parent_id
    while node is not None and node not in chain:
        chain.append(node)
        node = parents.get(node)
    if node is None:
        return {}
    loop = [*chain[chain.index(node):], node]
    return {"parent": gettext("Parent mappings would loop: %(loop)s.") % {
        "loop": " → ".join(names.get(pk, str(pk)) for pk in loop)}}


def dependencies_validate(*, mapping, dependencies):
    """Refuse a dependency list that would make ``mapping`` depend on itself, directly or not."""
    mappings = type(mapping).objects
    edges = {m.pk: {d.pk for d in m.dependencies.all()} for m in mappings.prefetch_related("dependencies")}
    edges[mapping.pk] = {d.pk for d in dependencies}
    names = dict(mappings.values_list("pk", "name"))
    path = _find_cycle(edges, mapping.pk)
    if path:
        raise ValidationError(
            {"dependencies": gettext("Cyclic dependency: %(cycle)s.") % {
                "cycle": " → ".join(names.get(pk, str(pk)) for pk in path)}}
        )


def _find_cycle(edges, start):
    stack = [(start, [start])]
    seen = set()
    while stack:
        node, path = stack.pop()
        for nxt in edges.get(node, ()):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def field_mapping_validate(*, field_mapping):
    mapping = field_mapping.table_mapping
    erp_model, crm_model = mapping.erp_model_class(), mapping.crm_model_class()
    errors = {}
    for attr, model in (("erp_field", erp_model), ("crm_field", crm_model)):
        problem = field_problem(model, getattr(field_mapping, attr)) if getattr(field_mapping, attr) else None
        if problem:
            errors[attr] = problem
    erp_field = None if "erp_field" in errors else get_field(erp_model, field_mapping.erp_field)
    crm_field = None if "crm_field" in errors else get_field(crm_model, field_mapping.crm_field)
    if not field_mapping.erp_field and not field_mapping.crm_field:
        errors["erp_field"] = gettext("Name an ERP field, a Sales field, or both.")
    if (not field_mapping.erp_field or not field_mapping.crm_field) and not field_mapping.constant_value:
        errors["constant_value"] = gettext("A field mapping with one field only needs a constant value.")
    if field_mapping.clear_value_on_failed_sync and field_mapping.not_null:
        errors["not_null"] = gettext("Clear Value on Failed Sync cannot be combined with Not Null.")
    if mapping.is_option_mapping and field_mapping.direction == Direction.BIDIRECTIONAL:
        errors["direction"] = option_one_way()
    if erp_field is not None and crm_field is not None and not errors:
        problem = pair_problem(erp_field, crm_field, has_value_map=field_mapping.value_map_id is not None,
                               mappings=type(mapping).objects)
        if problem:
            errors["crm_field"] = gettext("%(erp_field)s and %(crm_field)s cannot be mapped: %(problem)s") % {
                "erp_field": f"{erp_model._meta.label}.{erp_field.name}",
                "crm_field": f"{crm_model._meta.label}.{crm_field.name}", "problem": problem}
    if errors:
        raise ValidationError(errors)


def pair_problem(erp_field, crm_field, *, has_value_map, mappings):
    """Why two fields cannot be paired, or None; ``mappings``: the table mappings' manager."""
    erp_category, crm_category = field_category(erp_field), field_category(crm_field)
    if erp_category == RELATION and crm_category == RELATION:
        return _relation_pair_problem(erp_field.related_model, crm_field.related_model, mappings)
    if RELATION in (erp_category, crm_category):
        relation = erp_field if erp_category == RELATION else crm_field
        other_category = crm_category if erp_category == RELATION else erp_category
        if natural_key_field(relation.related_model) is None:
            return gettext("%(model)s has no natural key to map a value to.") % {
                "model": relation.related_model._meta.label}
        if other_category != "text":
            return gettext("a reference to %(model)s maps only to a text field.") % {
                "model": relation.related_model._meta.label}
        return None
    if has_value_map:
        return None
    if not categories_convert(erp_category, crm_category) or not categories_convert(crm_category, erp_category):
        # Translators: the kinds of field are identifiers (text, number, date …), kept in English.
        return gettext("a %(erp_category)s field and a %(crm_category)s field do not convert.") % {
            "erp_category": erp_category, "crm_category": crm_category}
    return None


def _relation_pair_problem(erp_related, crm_related, mappings):
    """Two references are translated through the couplings of their models: refuse a pair that contradicts
    the table mappings (the ERP model is mapped, and so is the Sales model, but never to each other). A model
    that no mapping names yet is let through: its mapping may come later."""
    erp_label, crm_label = erp_related._meta.label, crm_related._meta.label
    pairs = set(mappings.filter(Q(erp_model=erp_label) | Q(crm_model=crm_label))
                .values_list("erp_model", "crm_model"))
    if (erp_label, crm_label) in pairs:
        return None
    mapped_to = sorted({crm for erp, crm in pairs if erp == erp_label})
    mapped_from = {erp for erp, crm in pairs if crm == crm_label}
    if mapped_to and mapped_from:
        return gettext("%(model)s records are coupled to %(models)s records, not to %(label)s records.") % {
            "model": erp_related._meta.verbose_name, "models": ", ".join(mapped_to), "label": crm_label}
    return None
