"""Field-level conflicts (docs/features.md I5, I7; docs/decisions.md#the-conflict-inbox): which side changed which
field, the merge, the conflict inbox rows.

Each coupling keeps the mapped field values of both sides as last synchronised (``Coupling.synced_values``),
written with the coupling in the engine's own bulk write: ``{"fields": {field key: value}}`` (`field_key`: the
field mapping's ERP field, as conflicts and decisions name it, so that a configuration imported again keeps them),
JSON-plain values, one value where both sides hold the same (most fields: a name, a phone number) and ``[ERP value,
Sales value]`` where they differ (a reference: a code on one side, a key on the other). That is less than half the
size of both sides keyed by attribute name (413 characters a customer against 955), the form couplings kept before
(``{"erp": {attname: value}, "crm": {…}}``: still read, and rewritten in the new form when the pair synchronises
again); a first load writes it for every row.
When both records changed since the last synchronisation, the engine asks `ChunkConflicts` which of the differing
fields changed on which side:

- changed on the source only: written (as before);
- changed on the destination only: held back, it goes the other way in the other pass (no conflict);
- changed on both sides (a bidirectional field): a conflict, unless the mapping's resolution policy decides, or a
  person decided it (the run's ``decisions``, `SyncPlan.decisions`, given by integration/operations/conflicts.py).

A coupling without values (one made before they were kept) follows the whole-record rule: any differing
bidirectional field is a conflict. Conflicts that end a row as failed are recorded as `SyncConflict` rows in bulk,
one per coupling; a pair that synchronises cleanly loses its row.

Pure functions and one per-chunk object; sync.py calls it from a few small hooks.
"""

from datetime import date, datetime, time
from decimal import Decimal
from uuid import UUID

from django.utils import timezone

from integration.models import SyncConflict

from .row_code import Names, attributes_read, function_compile

RESTORE, REMOVE = "restore", "remove"

_PLAIN_TYPES = frozenset({type(None), bool, int, float, str})
_TEXTS_SIZE = 4096  # texts kept per kind of value: keys and amounts repeat over the rows, a few values over and over
_UUID_TEXTS = {}  # a UUID's number → its text (a salesperson, a currency: the keys a snapshot names are references)
_DECIMAL_TEXTS = {}  # an amount's text → its plain text (a credit limit of 0)


def _text_remembered(texts, key, value, make):
    """``make(value)``, kept in ``texts`` under ``key`` (at most `_TEXTS_SIZE` of them)."""
    text = texts.get(key)
    if text is None:
        text = make(value)
        if len(texts) < _TEXTS_SIZE:
            texts[key] = text
    return text


def _uuid_text(value):
    return _text_remembered(_UUID_TEXTS, value.int, value, str)


def _decimal_text(value):
    # Kept by its text, which tells digits, exponent and sign apart (0 and -0 are equal, with texts of their own)
    return _text_remembered(_DECIMAL_TEXTS, str(value), value, _decimal_plain)


def _decimal_plain(value):
    return format(value.normalize(), "f")  # 5000.00 and 5000 are the same amount


_PLAIN_OF = {
    **dict.fromkeys(_PLAIN_TYPES, lambda value: value),
    UUID: _uuid_text, Decimal: _decimal_text, datetime: datetime.isoformat, date: date.isoformat, time: time.isoformat,
}


def value_plain(value):
    """``value`` as JSON can keep it and compare it again later (the same value always gives the same text)."""
    plain = _PLAIN_OF.get(type(value))
    if plain is not None:  # the common types by their exact type (a new coupling's snapshot makes several per row)
        return plain(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


def field_key(field_mapping):
    """What a coupling's synchronised values key a field mapping by: its ERP field, or ``=`` and its Sales field for
    a constant for Sales. Names, not the field mapping's pk: an import or a reset makes the field mappings anew."""
    return field_mapping.erp_field or f"={field_mapping.crm_field}"


def synced_value(snapshot, side, key, attname):
    """(whether a value was kept, the value) of a field on ``side`` (``"erp"`` or ``"crm"``) as last synchronised:
    ``key`` is its `field_key`, ``attname`` the side's attribute (what the older form keys by)."""
    if not snapshot:
        return False, None
    fields = snapshot.get("fields")
    if fields is None:  # the older form: each side by attribute name
        kept = snapshot.get(side) or {}
        return attname in kept, kept.get(attname)
    if key not in fields:
        return False, None
    value = fields[key]
    if type(value) is list:
        return True, value[0 if side == "erp" else 1]
    return True, value


def _kept(erp_value, crm_value):
    """What a field keeps: one value when both sides hold the same, else the pair."""
    if erp_value == crm_value and type(erp_value) is type(crm_value):
        return erp_value
    return [erp_value, crm_value]


def _plain(value):
    return value if type(value) in _PLAIN_TYPES else value_plain(value)


def snapshot_update(*, snapshot, plan, row, destination, held_back=()):
    """The synchronised values after ``row`` (source) and ``destination`` are in step for ``plan``'s fields,
    except the destination fields ``held_back`` (they keep their old values: they still differ)."""
    if not held_back and not snapshot:  # a new coupling, or one that kept none: the run's reader (per row: kept lean)
        try:
            return plan.per_run(_snapshot_reader)(row, destination)
        except AttributeError:  # an attribute the instances lack: read one by one below, as None
            pass
    fields = _kept_fields(snapshot, plan)
    erp_first = plan.source.key == "erp"
    for key, source_name, dest_name in plan.per_run(_snapshot_names):
        if held_back and dest_name in held_back:
            continue
        dest_value = _plain(getattr(destination, dest_name, None))
        if source_name is None:  # a constant: the destination's value (its source side is never compared)
            fields[key] = dest_value
            continue
        source_value = _plain(getattr(row, source_name, None))
        fields[key] = _kept(source_value, dest_value) if erp_first else _kept(dest_value, source_value)
    return {"fields": fields}


def _kept_fields(snapshot, plan):
    """A copy of the values ``snapshot`` keeps, by field mapping; from the older form, those of ``plan``'s fields
    (the other direction's own fields are kept again when it runs)."""
    if not snapshot:
        return {}
    if "fields" in snapshot:
        return dict(snapshot["fields"])
    fields = {}
    erp_first = plan.source.key == "erp"
    for key, source_name, dest_name in plan.per_run(_snapshot_names):
        erp_name, crm_name = (source_name, dest_name) if erp_first else (dest_name, source_name)
        erp_found, erp_value = synced_value(snapshot, "erp", key, erp_name)
        crm_found, crm_value = synced_value(snapshot, "crm", key, crm_name)
        if source_name is None:  # a constant: the destination's side only
            found, value = (crm_found, crm_value) if erp_first else (erp_found, erp_value)
            if found:
                fields[key] = value
        elif erp_found and crm_found:
            fields[key] = _kept(erp_value, crm_value)
    return fields


def _snapshot_names(plan):
    """(`field_key`, source attname or None, destination attname) of each field rule, once per run."""
    return [(field_key(rule.mapping), rule.source_attname, rule.dest_attname) for rule in plan.field_rules]


def _snapshot_reader(plan):
    """`snapshot_update` of a pair without kept values or held-back fields, written out once per run as one function
    (row_code.py): each side's values read from the instances' dicts in one call (a foreign key's attname read
    through its descriptor costs more), made plain, and kept as `_kept` keeps them, one field after the other."""
    names = plan.per_run(_snapshot_names)
    source_names = list(dict.fromkeys(s for _, s, _ in names if s is not None))
    dest_names = list(dict.fromkeys(d for _, _, d in names))
    erp_first = plan.source.key == "erp"
    globals_ = Names()
    lines = ["def read(row, destination):"]
    for side, attnames, prefix in (("row", source_names, "s"), ("destination", dest_names, "d")):
        if attnames:
            lines += attributes_read(globals_, side, attnames, prefix, indent=1)
            lines += [f"    if type({prefix}{i}) not in PLAIN: {prefix}{i} = value_plain({prefix}{i})"
                      for i in range(len(attnames))]
    lines.append("    return {'fields': {")
    for key, source_name, dest_name in names:
        dest = f"d{dest_names.index(dest_name)}"
        if source_name is None:  # a constant: the destination's value
            lines.append(f"        {key!r}: {dest},")
            continue
        source = f"s{source_names.index(source_name)}"
        erp, crm = (source, dest) if erp_first else (dest, source)
        lines.append(f"        {key!r}: {source} if {source} == {dest} and type({source}) is type({dest}) "
                     f"else [{erp}, {crm}],")
    lines.append("    }}")
    return function_compile("read", lines, {**globals_.namespace, "PLAIN": _PLAIN_TYPES, "value_plain": value_plain})


def field_changed(snapshot, side, obj, attname, key):
    """Whether ``obj``'s ``attname`` differs from the value synchronised last (True when none was kept); ``key``:
    its field mapping's `field_key`."""
    found, value = synced_value(snapshot, side, key, attname)
    return not found or value_plain(getattr(obj, attname, None)) != value


def changes_split(*, plan, snapshot, row, destination, changes, decided=None):
    """Split the differing fields ``changes`` (destination attname → (old, new)) of a pair changed on both sides.

    Returns (changes to write, conflicting field rules, destination attnames held back). ``decided``: erp field →
    the side a person chose. Changes no field mapping made (the rules') are written as before.
    """
    decided = decided or {}
    source_key, dest_key = plan.source.key, plan.destination.key
    write, conflicting, held = dict(changes), [], set()
    for rule in plan.field_rules:
        name = rule.dest_attname
        if name not in changes:
            continue
        choice = decided.get(rule.mapping.erp_field)
        key = field_key(rule.mapping)
        source_changed = rule.source_attname is None or field_changed(snapshot, source_key, row,
                                                                      rule.source_attname, key)
        dest_changed = field_changed(snapshot, dest_key, destination, name, key)
        if choice is not None:
            keep = choice == source_key
        elif dest_changed and source_changed and rule.is_bidirectional:
            conflicting.append(rule)
            keep = True
        else:
            keep = source_changed or not dest_changed
        if not keep:
            held.add(name)
            del write[name]
    return write, conflicting, held


class ChunkConflicts:
    """The conflict side of one chunk: decides field by field, keeps the synchronised values, records the rows."""

    def __init__(self, plan):
        self.plan = plan
        self.decisions = plan.decisions  # a person's, in the run's request (`SyncPlan.decisions`)
        self.held_back = {}  # source pk → destination attnames that go the other way
        self.found = []  # SyncConflict rows to record

    def merge(self, *, row, coupling, destination, changes):
        """Both sides changed: (changes to write, conflicting rules) — conflicting is None without kept values
        (the caller's whole-record rule applies) — or (None, None): skip the row, the destination holds newer data
        this pass cannot leave behind (a Sales row it writes as the integration user is not read back)."""
        decided = self.decisions.get(coupling.pk, {}).get("fields")
        if not coupling.synced_values and not decided:
            return changes, None
        write, conflicting, held = changes_split(plan=self.plan, snapshot=coupling.synced_values, row=row,
                                                 destination=destination, changes=changes, decided=decided)
        if held and write and not conflicting and self.plan.writes_to_crm and self.plan.skip_rows_modified_by:
            return None, None
        self.held_back[row.pk] = held
        return write, conflicting

    def snapshot(self, coupling, row, destination):
        """The coupling's synchronised values once this pass wrote (or kept) the pair."""
        return snapshot_update(snapshot=coupling.synced_values, plan=self.plan, row=row, destination=destination,
                               held_back=self.held_back.get(row.pk, ()))

    def snapshot_new(self, row, destination):
        """The synchronised values of a new coupling of ``row`` and ``destination``."""
        held_back = self.held_back.get(self.plan.source.pk_of(row), ()) if self.held_back else ()
        return snapshot_update(snapshot=None, plan=self.plan, row=row, destination=destination, held_back=held_back)

    def snapshots_new(self, pairs):
        """`snapshot_new` of each (row, destination) of ``pairs``: with no field held back (a chunk of new rows),
        the run's reader called for each pair, without `snapshot_update`'s arguments and checks per row."""
        if self.held_back:
            return [self.snapshot_new(row, destination) for row, destination in pairs]
        read = self.plan.per_run(_snapshot_reader)
        try:
            return [read(row, destination) for row, destination in pairs]
        except AttributeError:  # an attribute the instances lack: `snapshot_update` reads them one by one
            return [self.snapshot_new(row, destination) for row, destination in pairs]

    def deletion_resolution(self, coupling):
        """A person's decision for a deletion conflict (restore_records / remove_coupling), or None."""
        decision = self.decisions.get(coupling.pk, {}).get("deletion")
        return {RESTORE: "restore_records", REMOVE: "remove_coupling"}.get(decision)

    def update_found(self, coupling, rules):
        self._found(coupling, SyncConflict.Kind.UPDATE, fields=sorted({rule.mapping.erp_field for rule in rules}))

    def deletion_found(self, coupling):
        self._found(coupling, SyncConflict.Kind.DELETION, deleted_side=self.plan.destination.key)

    def _found(self, coupling, kind, fields=(), deleted_side=""):
        if coupling.pk is None:
            return
        self.found.append(SyncConflict(coupling_id=coupling.pk, table_mapping_id=self.plan.mapping.pk, kind=kind,
                                       fields=list(fields), deleted_side=deleted_side, since=timezone.now()))

    def write(self, *, job, refreshed):
        """Clear the rows of the pairs that synchronised cleanly; record (or refresh) the conflicts found, keeping
        when each was first seen. Two statements at most, whatever the chunk holds."""
        clean = [c.pk for c in refreshed if c.pk is not None]
        if clean:
            SyncConflict.objects.filter(coupling_id__in=clean).delete()
        if self.found:
            for conflict in self.found:
                conflict.job_id = job.pk
            SyncConflict.objects.bulk_create(self.found, update_conflicts=True, unique_fields=["coupling"],
                                             update_fields=["kind", "fields", "deleted_side", "job", "table_mapping"])
