"""Match-based coupling: find, for uncoupled source rows, the one uncoupled destination row with equal match fields.

As Business Central does it: match fields are grouped by priority (ascending); within a group all fields must be
equal (case-insensitive unless the field mapping says otherwise; a blank source value adds no condition); the
first group that yields exactly one uncoupled destination row wins. Zero or several candidates leave the row
unmatched. Per priority group this costs one query for the whole chunk.
"""

from collections import defaultdict

from django.db.models import Q
from django.db.models.functions import Lower

from .fields import is_blank


def match_rules(plan):
    """The field rules usable for matching, grouped by priority, lowest first."""
    groups = defaultdict(list)
    for rule in plan.field_rules:
        fm = rule.mapping
        if fm.use_for_match_coupling and rule.kind == "value" and not fm.constant_value:
            groups[fm.match_priority].append(rule)
    return [groups[p] for p in sorted(groups)]


def _normal(value, case_sensitive):
    if value is None:
        return None
    text = str(value).strip()
    return text if case_sensitive else text.lower()


def matches_find(plan, rows, *, claimed=None):
    """Return {source pk: destination object} for the rows that have exactly one match.

    ``claimed`` is a set of destination pks already taken in this run; matched pks are added to it, so that no
    destination row is coupled to two source rows.
    """
    from integration.models import Coupling

    claimed = set() if claimed is None else claimed
    groups = match_rules(plan)
    if not groups:
        return {}
    dest = plan.destination
    coupled_dest = Coupling.objects.filter(**plan.coupling_pair).values(dest.id_field)
    found = {}
    remaining = list(rows)
    for group in groups:
        if not remaining:
            break
        condition = Q()
        annotations = {}
        for index, rule in enumerate(group):
            values = {_normal(getattr(r, rule.source_attname), True) for r in remaining}
            values = {v for v in values if not is_blank(v)}
            if not values:
                continue
            if rule.mapping.case_sensitive_matching:
                condition |= Q(**{f"{rule.dest_field.name}__in": values})
            else:
                alias = f"_match_{index}"
                annotations[alias] = Lower(rule.dest_field.name)
                condition |= Q(**{f"{alias}__in": {v.lower() for v in values}})
        if not condition:
            continue
        candidates = (
            dest.model.objects.annotate(**annotations)
            .filter(dest.filter_q())
            .filter(condition)
            .exclude(pk__in=coupled_dest)
        )
        index_by_key = defaultdict(list)
        for candidate in candidates:
            for row_key in _candidate_keys(group, candidate):
                index_by_key[row_key].append(candidate)
        unmatched = []
        for row in remaining:
            key = _row_key(group, row)
            hits = [c for c in index_by_key.get(key, []) if c.pk not in claimed] if key else []
            if len(hits) == 1 and len(index_by_key.get(key, [])) == 1:
                found[row.pk] = hits[0]
                claimed.add(hits[0].pk)
            else:
                unmatched.append(row)
        remaining = unmatched
    return found


def _row_key(group, row):
    """The tuple a row matches on: (field index, normalised value) for each non-blank match field."""
    key = tuple(
        (index, _normal(getattr(row, rule.source_attname), rule.mapping.case_sensitive_matching))
        for index, rule in enumerate(group)
        if not is_blank(getattr(row, rule.source_attname))
    )
    return key or None


def _candidate_keys(group, candidate):
    """Every key (over any subset of the group's fields) a candidate satisfies, so blank source values are ignored."""
    parts = [
        (index, _normal(getattr(candidate, rule.dest_field.attname), rule.mapping.case_sensitive_matching))
        for index, rule in enumerate(group)
    ]
    keys = []
    for mask in range(1, 1 << len(parts)):
        keys.append(tuple(part for bit, part in enumerate(parts) if mask & (1 << bit)))
    return keys
