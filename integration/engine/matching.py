"""Match-based coupling: find, for uncoupled source rows, the one uncoupled destination row with equal match fields.

As Business Central does it: match fields are grouped by priority (ascending); within a group all fields must be
equal (case-insensitive unless the field mapping says otherwise; a blank source value adds no condition); the
first group that yields exactly one uncoupled destination row wins. Zero or several candidates leave the row
unmatched. Per priority group this costs one query for the whole chunk; a run that starts with every destination
row coupled asks none (`uncoupled_destinations_exist`; a destination row someone else creates while such a run is
in progress is not matched by it, as one created just after a chunk's match query would not be).

A match field may also be a reference on both sides (an ERP opportunity's contact ↔ a Sales opportunity's
contact): the source row's related record is translated through its coupling, one query per such field and chunk,
and the destination must point at the coupled counterpart. A related record that is not coupled matches nothing.

The mapping's rules may add a *scope* (`Rules.match_scope`): per source row, destination fields that must be equal
as well, whatever the priority group, for what rules write rather than field mappings (a sales price's price list,
which comes from its sales code). A row the rules give no scope for matches nothing.
"""

from collections import defaultdict

from django.db.models import Exists, F, OuterRef, Q, UniqueConstraint
from django.db.models.functions import Lower

from integration import binder
from integration.catalogue.fields import TEXT, field_category, is_blank
from integration.models import Coupling
from p2c.databases import same_database
from p2c.utils import any_of, chunked

from .filters import filter_unindexed_on_sqlite

MATCHABLE_KINDS = ("value", "relation")
_UNCOUPLED = ("uncoupled",)  # a key part no destination row has


def match_rules(plan):
    """The field rules usable for matching, grouped by priority, lowest first."""
    groups = defaultdict(list)
    for rule in plan.field_rules:
        fm = rule.mapping
        if fm.use_for_match_coupling and rule.kind in MATCHABLE_KINDS and not fm.constant_value:
            groups[fm.match_priority].append(rule)
    return [groups[p] for p in sorted(groups)]


def _normal(value, case_sensitive):
    if value is None:
        return None
    text = str(value).strip()
    return text if case_sensitive else text.lower()


class _SourceValues:
    """A source row's match value per rule: its own field, or for a reference the coupled counterpart's id."""

    def __init__(self, plan, rules, rows):
        self.coupled = {}  # rule index in plan.field_rules -> {source related id: destination related id}
        for rule in rules:
            if rule.kind != "relation":
                continue
            ids = {getattr(row, rule.source_attname) for row in rows} - {None}
            source_related = rule.source_field.related_model._meta.label
            dest_related = rule.dest_field.related_model._meta.label
            self.coupled[id(rule)] = binder.counterparts(source_related, ids, to=dest_related)

    def raw(self, rule, row):
        """The value to look for in the destination: None when blank, _UNCOUPLED when it cannot match."""
        value = getattr(row, rule.source_attname)
        if is_blank(value):
            return None
        if rule.kind == "relation":
            return self.coupled[id(rule)].get(value, _UNCOUPLED)
        return value

    def key_part(self, rule, row):
        value = self.raw(rule, row)
        if value is None or value is _UNCOUPLED:
            return value
        return _normal(value, _case_sensitive(rule))


def _case_sensitive(rule):
    return rule.kind == "relation" or rule.mapping.case_sensitive_matching


def matches_find(plan, rows, *, claimed=None):
    """Return {source pk: destination object} for the rows that have exactly one match.

    ``claimed`` is a set of destination pks already taken in this run; matched pks are added to it, so that no
    destination row is coupled to two source rows.
    """
    claimed = set() if claimed is None else claimed
    groups = match_rules(plan)
    if not groups or not plan.per_run(uncoupled_destinations_exist):
        return {}
    dest = plan.destination
    scope = plan.rules.match_scope(rows, plan=plan)  # None, or {source pk: {destination attname: value}}
    if scope is not None:
        rows = [row for row in rows if scope.get(row.pk)]
    scope_fields = sorted({name for values in (scope or {}).values() for name in values})
    values = _SourceValues(plan, [rule for group in groups for rule in group], rows)
    couplings = Coupling.objects.filter(**plan.coupling_pair)
    found = {}
    remaining = list(rows)
    for group in groups:
        if not remaining:
            break
        condition = Q()
        annotations = {}
        indexed = True  # whether an index serves each condition (_index_serves)
        for index, rule in enumerate(group):
            wanted = {values.raw(rule, r) for r in remaining}
            wanted = {v for v in wanted if v is not None and v is not _UNCOUPLED}
            if not wanted:
                continue
            if rule.kind == "relation" or field_category(rule.dest_field) != TEXT:
                # References, numbers, dates: equal values (LOWER() is for text; PostgreSQL has none for others).
                condition |= Q(**{f"{rule.dest_field.attname}__in": wanted})
                indexed = indexed and _index_serves(dest.model, rule.dest_field, lowered=False)
            elif rule.mapping.case_sensitive_matching:
                condition |= Q(**{f"{rule.dest_field.name}__in": {_normal(v, True) for v in wanted}})
                indexed = indexed and _index_serves(dest.model, rule.dest_field, lowered=False)
            else:
                alias = f"_match_{index}"
                annotations[alias] = Lower(rule.dest_field.name)
                condition |= Q(**{f"{alias}__in": {_normal(v, False) for v in wanted}})
                indexed = indexed and _index_serves(dest.model, rule.dest_field, lowered=True)
        if not condition:
            continue
        # Unordered: which candidate comes first decides nothing (a key with two candidates matches none).
        candidates = (dest.model.objects.annotate(**annotations).filter(_mapping_filter(dest, indexed))
                      .filter(condition).order_by())
        for name in scope_fields:
            candidates = candidates.filter(**{f"{name}__in": {s[name] for s in scope.values() if name in s}})
        # Coupled candidates are dropped after reading, by their ids: a NOT IN over every coupling of the pair
        # would cost each chunk time in proportion to the whole table.
        candidates = list(candidates)
        taken = set()
        for ids in chunked([c.pk for c in candidates], 5000):
            taken.update(couplings.filter(**{f"{dest.id_field}__in": ids}).values_list(dest.id_field, flat=True))
        candidates = [c for c in candidates if c.pk not in taken]
        index_by_key = defaultdict(list)
        for candidate in candidates:
            within = _scope_key(scope_fields, lambda name, c=candidate: getattr(c, name))
            for row_key in _candidate_keys(group, candidate):
                index_by_key[(within, row_key)].append(candidate)
        unmatched = []
        for row in remaining:
            key = _row_key(group, row, values)
            if key is not None and scope is not None:
                key = (_scope_key(scope_fields, lambda name, r=row: scope[r.pk].get(name)), key)
            elif key is not None:
                key = ((), key)
            hits = [c for c in index_by_key.get(key, []) if c.pk not in claimed] if key else []
            if len(hits) == 1 and len(index_by_key.get(key, [])) == 1:
                found[row.pk] = hits[0]
                claimed.add(hits[0].pk)
            else:
                unmatched.append(row)
        remaining = unmatched
    return found


def _mapping_filter(dest, indexed):
    """The mapping's filter in a chunk's match query: kept from SQLite's planner (`filter_unindexed_on_sqlite`)
    when the match fields' indexes serve every condition (``indexed``)."""
    q = dest.filter_q()
    return filter_unindexed_on_sqlite(dest.model, q) if indexed else q


def _index_serves(model, field, *, lowered):
    """Whether an index of ``model`` looks ``field`` (``LOWER(field)`` when ``lowered``) up: one that starts with it,
    without a condition other than the field being set (which ``field IN (...)`` implies)."""
    if not lowered and (field.primary_key or field.unique or field.db_index):
        return True
    for index in model._meta.indexes:
        if index.condition is not None and index.condition != Q(**{f"{field.name}__isnull": False}):
            continue
        if lowered:
            first = index.expressions[0] if index.expressions else None
            if isinstance(first, Lower) and first.get_source_expressions() == [F(field.name)]:
                return True
        elif index.fields[:1] == [field.name]:
            return True
    return not lowered and any(isinstance(c, UniqueConstraint) and c.condition is None and c.fields[:1] == (field.name,)
                               for c in model._meta.constraints)


def uncoupled_destinations_exist(plan):
    """Whether any destination row in the mapping's filter has no coupling of the pair, when the run starts (one
    query). A run that starts without one (a first load, a full run after it) has nothing to match: its chunks ask
    the destination nothing, where a match query would read the whole table again for every chunk."""
    dest = plan.destination
    destinations = dest.model.objects.filter(dest.filter_q())
    if same_database(Coupling, dest.model):
        coupled = Coupling.objects.filter(**plan.coupling_pair, **{dest.id_field: OuterRef("pk")})
        return destinations.filter(~Exists(coupled)).exists()
    # Two databases: fewer couplings than rows settles it; else the rows' keys are read in keyset pages and the
    # couplings asked for each page, until one is found uncoupled.
    couplings = Coupling.objects.filter(**plan.coupling_pair)
    if couplings.count() < destinations.count():
        return True
    last = None
    ordered = destinations.order_by("pk")
    while True:
        page = ordered if last is None else ordered.filter(pk__gt=last)
        ids = list(page.values_list("pk", flat=True)[:PAGE])
        if not ids:
            return False
        last = ids[-1]
        if couplings.filter(any_of(dest.id_field, ids)).count() < len(ids):
            return True


PAGE = 5000  # destination keys per query when the couplings are in another database


def _scope_key(names, value_of):
    return tuple(_normal(value_of(name), True) for name in names)


def _row_key(group, row, values):
    """The tuple a row matches on: (field index, normalised value) for each non-blank match field."""
    key = tuple(
        (index, values.key_part(rule, row))
        for index, rule in enumerate(group)
        if values.raw(rule, row) is not None
    )
    return key or None


def _candidate_keys(group, candidate):
    """Every key (over any subset of the group's fields) a candidate satisfies, so blank source values are ignored."""
    parts = [
        (index, _normal(getattr(candidate, rule.dest_field.attname), _case_sensitive(rule)))
        for index, rule in enumerate(group)
    ]
    keys = []
    for mask in range(1, 1 << len(parts)):
        keys.append(tuple(part for bit, part in enumerate(parts) if mask & (1 << bit)))
    return keys
