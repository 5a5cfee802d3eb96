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

from integration import binder
from integration.catalogue.fields import TEXT, field_category, is_blank
from integration.models import Coupling
from p2c.utils import any_of, chunked

from .sides import MatchQuery

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
    side, key_of = dest.reach, dest.reach.key_of
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
        fields, case_insensitive = {}, set()
        for rule in group:
            wanted = {values.raw(rule, r) for r in remaining}
            wanted = {v for v in wanted if v is not None and v is not _UNCOUPLED}
            if not wanted:
                continue
            attname = rule.dest_field.attname
            if rule.kind == "relation" or field_category(rule.dest_field) != TEXT:
                # References, numbers, dates: equal values (LOWER() is for text; PostgreSQL has none for others).
                fields[attname] = frozenset(wanted)
            elif rule.mapping.case_sensitive_matching:
                fields[attname] = frozenset(_normal(v, True) for v in wanted)
            else:
                fields[attname] = frozenset(_normal(v, False) for v in wanted)
                case_insensitive.add(attname)
        if not fields:
            continue
        query = MatchQuery(fields=fields, case_insensitive=frozenset(case_insensitive),
                           scope={name: frozenset(s[name] for s in scope.values() if name in s) for name in scope_fields})
        # Every field of the group is read, those with no value to look for too: a candidate's keys are made of
        # them all (`_candidate_keys`).
        group_fields = dict.fromkeys(rule.dest_field.attname for rule in group)
        candidates = side.match_candidates(query, fields=[*group_fields, *scope_fields])
        # Coupled candidates are dropped after reading, by their ids: a NOT IN over every coupling of the pair
        # would cost each chunk time in proportion to the whole table.
        taken = set()
        for ids in chunked([key_of(c) for c in candidates], 5000):
            taken.update(couplings.filter(**{f"{dest.id_field}__in": ids}).values_list(dest.id_field, flat=True))
        candidates = [c for c in candidates if key_of(c) not in taken]
        index_by_key = defaultdict(list)
        for candidate in candidates:
            within = _scope_key(scope_fields, lambda name, c=candidate: c[name])
            for row_key in _candidate_keys(group, candidate):
                index_by_key[(within, row_key)].append(candidate)
        unmatched = []
        for row in remaining:
            key = _row_key(group, row, values)
            if key is not None and scope is not None:
                key = (_scope_key(scope_fields, lambda name, r=row: scope[r.pk].get(name)), key)
            elif key is not None:
                key = ((), key)
            hits = [c for c in index_by_key.get(key, []) if key_of(c) not in claimed] if key else []
            if len(hits) == 1 and len(index_by_key.get(key, [])) == 1:
                found[row.pk] = key_of(hits[0])
                claimed.add(key_of(hits[0]))
            else:
                unmatched.append(row)
        remaining = unmatched
    # The matched destinations as the chunk writes them back (the rules read them too)
    records = side.records(list(found.values())) if found else {}
    return {pk: records[key] for pk, key in found.items() if key in records}


def uncoupled_destinations_exist(plan):
    """Whether any destination row in the mapping's filter has no coupling of the pair, when the run starts. A run
    that starts without one (a first load, a full run after it) has nothing to match: its chunks ask the destination
    nothing, where a match query would read the whole table again for every chunk. The side answers
    (`Side.any_row_unlisted`): in one query where it shares the couplings' database; else fewer couplings than rows
    settles it, or its keys are read in pages and the couplings asked for each page, until one is found uncoupled."""
    dest = plan.destination
    couplings = Coupling.objects.filter(**plan.coupling_pair)
    return dest.reach.any_row_unlisted(
        lambda keys: couplings.filter(any_of(dest.id_field, keys)).count(), count=couplings.count,
        local=(couplings, dest.id_field), page_size=PAGE)


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
        (index, _normal(candidate[rule.dest_field.attname], _case_sensitive(rule)))
        for index, rule in enumerate(group)
    ]
    keys = []
    for mask in range(1, 1 << len(parts)):
        keys.append(tuple(part for bit, part in enumerate(parts) if mask & (1 << bit)))
    return keys
