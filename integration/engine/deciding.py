"""Deciding, per source row of a chunk, what the run does: nothing (unchanged, skipped), insert, update, couple
to a matched record, uncouple, or fail the row with a message (rules in sync.py's docstring).

`ChunkDecisions` is the deciding half of `ChunkRun` (sync.py): it fills the chunk's lists (inserts, updates,
touches, couple, uncouple, failures) that `ChunkWrites` (writing.py) writes. Conflicts go through
``self.conflicts`` (`ChunkConflicts`, conflicts.py).
"""

from dataclasses import dataclass

from django.utils.translation import gettext_noop

from integration.models import Direction, IntegrationTableMapping, SyncResult
from integration.rules.base import RowError
from p2c.said import said, said_data, said_name

from .matching import match_rules, matches_find
from .reading import ALL
from .sides.base import modified_since

Resolution = IntegrationTableMapping.UpdateConflictResolution
Deletion = IntegrationTableMapping.DeletionConflictResolution


@dataclass
class ChunkDecision:
    """What deciding a chunk gives and writing it takes (read → decide → write): the rows to insert (source row,
    new destination object; ``insert_values`` the values each was made of, in the same order), to update (source row, coupling, destination object, changes), to touch (values equal:
    the coupling's timestamps refreshed), to couple to a match (source row, destination object, changes) and the
    couplings to remove; the rows failed (source row, coupling or None, destination key or "", message); the source
    keys whose destination stays *changed* for the other pass; and the conflicts found (`ChunkConflicts`, with a
    person's decisions from the run's request already applied). Deciding writes nothing: a dry run reports the
    decision (`ChunkDecisions.report`) and writes nothing."""

    inserts: list
    insert_values: list
    updates: list
    touches: list
    couple: list
    uncouple: list
    failures: list
    keep_changed: set
    conflicts: object


class ChunkDecisions:
    """What to do with each row of a chunk (a mixin of `ChunkRun`)."""

    def decision(self):
        """The chunk's decision as a value (`ChunkDecision`), for the write (`ChunkWrites.decision_take`)."""
        return ChunkDecision(inserts=self.inserts, insert_values=self.insert_values, updates=self.updates, touches=self.touches, couple=self.couple,
                             uncouple=self.uncouple, failures=self.failures, keep_changed=self.keep_changed,
                             conflicts=self.conflicts)

    def _unchanged(self, row):
        """A coupled row not modified since its last successful synchronisation (counted here)."""
        pk = self.plan.source.pk_of(row)
        coupling = self.couplings.get(pk)
        if coupling is None or coupling.skipped or self.plan.full or self.forced is ALL or pk in self.forced:
            return False
        last_source = getattr(coupling, self.plan.source.last_synced_field)
        if last_source is None or getattr(coupling, self.plan.destination.result_field) == SyncResult.FAILURE:
            return False
        if self._source_modified_since(row, last_source):
            return False
        self.result.add("unchanged")
        return True

    def _waiting(self, row):
        """An uncoupled row whose insertion failed the same way twice and that has not changed since (skipped)."""
        if self.plan.source.pk_of(row) in self.couplings or self.forced is ALL or not self.failed_inserts.waits(row):
            return False
        self.result.skip(said(gettext_noop("its insertion failed twice the same way; waiting for a change")),
                         self.plan.record_said(row))
        return True

    def _decide_all(self):
        plan = self.plan
        pk_of = plan.source.pk_of
        # none coupled (a first load): every row is uncoupled, without a look-up per row
        uncoupled = self._decide_coupled_rows() if self.couplings else list(self.rows)
        if not uncoupled:
            return
        if not plan.create_new:
            self.result.skip(said(gettext_noop("not coupled (the mapping synchronises coupled records only)")),
                             n=len(uncoupled))
            return
        matched = matches_find(plan, uncoupled) if match_rules(plan) else {}
        for row in uncoupled:
            try:
                match = matched.get(pk_of(row))
                if match is not None:
                    self._decide_matched(row, match)
                else:
                    self._decide_insert(row)
            except RowError as exc:
                self._fail(row, None, exc.message)

    def _decide_coupled_rows(self):
        """Decide the coupled rows; the uncoupled ones, in order."""
        pk_of, couplings = self.plan.source.pk_of, self.couplings
        uncoupled = []
        for row in self.rows:
            coupling = couplings.get(pk_of(row))
            try:
                if coupling is None:
                    uncoupled.append(row)
                else:
                    self._decide_coupled(row, coupling)
            except RowError as exc:
                self._fail(row, coupling, exc.message)
        return uncoupled

    def _decide_insert(self, row):
        values = self.transfer.values_for(row, None)
        obj = self.plan.instance_new(self.plan.destination.model, values)
        self.inserts.append((row, obj))
        self.insert_values.append(values)

    def _decide_matched(self, row, destination):
        values = self.transfer.values_for(row, destination)
        changes = self._changes(destination, values)
        self.couple.append((row, destination, changes))

    def _decide_coupled(self, row, coupling):
        plan = self.plan
        destination = self.destinations.get(getattr(coupling, plan.destination.id_field))
        if coupling.skipped:
            self.result.skip(said(gettext_noop("the coupling is marked skipped (restore it to synchronise again)")),
                             plan.record_said(row))
            return
        if destination is None:
            self._deletion_conflict(row, coupling)
            return
        both_modified = False
        if self._destination_changed(coupling, destination):
            if not self._source_changed(row, coupling):
                # Newer data on the destination is no conflict: it goes the other way in the other pass.
                self.result.skip(newer_data(plan), plan.record_said(row))
                return
            both_modified = True
        values = self.transfer.values_for(row, destination)
        changes, conflicting = self._changes(destination, values), None
        if both_modified:
            changes, conflicting = self.conflicts.merge(row=row, coupling=coupling, destination=destination,
                                                        changes=changes)
            if changes is None:
                self.result.skip(newer_data(plan), plan.record_said(row))
                return
        if changes and both_modified and self._resolve_conflict(changes, coupling, conflicting) == "skip":
            self.result.skip(
                said(gettext_noop("update conflict: the mapping keeps the %(system_name)s data"),
                     system_name=plan.destination.system_name),
                plan.record_said(row),
            )
            return
        if both_modified and (not changes or plan.destination.key == "erp" or not plan.skip_rows_modified_by):
            # What changed on the destination still goes the other way (a written Sales row only when the
            # other pass reads the integration user's rows).
            self.keep_changed.add(row.pk)
        if changes:
            self.updates.append((row, coupling, destination, changes))
        else:
            self.touches.append((row, coupling, destination))
            self.result.add("unchanged")

    def _destination_changed(self, coupling, destination):
        """Changed since the last synchronisation, on a bidirectional mapping (a one-way mapping's source owns
        the destination: what changed there is overwritten)."""
        if self.plan.mapping.direction != Direction.BIDIRECTIONAL:
            return False
        dest_side = self.plan.destination
        last_dest = getattr(coupling, dest_side.last_synced_field)
        return last_dest is not None and getattr(destination, dest_side.modified_field) > last_dest

    def _source_changed(self, row, coupling):
        last_source = getattr(coupling, self.plan.source.last_synced_field)
        return last_source is None or self._source_modified_since(row, last_source)

    def _source_modified_since(self, row, last_source):
        """At the source's precision: a Sales over the Web API gives whole seconds, and a change in the second of
        the last synchronisation is read as one (the integration's own writes are left out by their writer, or,
        when its rows are read, found equal: nothing written)."""
        source = self.plan.source
        return modified_since(getattr(row, source.modified_field), last_source, source.reach.modified_resolution)

    def _resolve_conflict(self, changes, coupling, conflicting=None):
        """Both sides changed and a bidirectional field differs (``conflicting``: the fields changed on both
        sides, when the coupling kept its synchronised values): follow the mapping's update-conflict resolution."""
        plan = self.plan
        if conflicting is None:
            conflicting = [r for r in plan.field_rules if r.is_bidirectional and r.dest_attname in changes]
        if not conflicting:
            return "proceed"
        resolution = plan.mapping.update_conflict_resolution
        source_is_erp = plan.source.key == "erp"
        if resolution == Resolution.SEND_UPDATE:
            return "proceed" if source_is_erp else "skip"
        if resolution == Resolution.GET_UPDATE:
            return "skip" if source_is_erp else "proceed"
        self.conflicts.update_found(coupling, conflicting)
        rule = conflicting[0]
        erp_field, crm_field = rule.mapping.erp_field, rule.mapping.crm_field
        erp_model = plan.mapping.erp_model_class()._meta.verbose_name
        crm_model = plan.mapping.crm_model_class()._meta.verbose_name
        raise RowError(said(gettext_noop(
            # Translators: Business Central's message; the tables are names of models, the fields names of fields.
            "Cannot update a record in the %(table)s table. The mapping between %(erp_field)s field on the "
            "%(erp_table)s table and the %(crm_field)s field on the %(crm_table)s table is bi-directional, and one or "
            "both values have changed since the last synchronization."
        ), table=said_name(plan.destination.model._meta.verbose_name), erp_field=erp_field,
            erp_table=said_name(erp_model), crm_field=crm_field, crm_table=said_name(crm_model)))

    def _deletion_conflict(self, row, coupling):
        resolution = self.conflicts.deletion_resolution(coupling) or self.plan.mapping.deletion_conflict_resolution
        if resolution == Deletion.REMOVE_COUPLING:
            self.uncouple.append(coupling)
            self.result.add("uncoupled")
        elif resolution == Deletion.RESTORE_RECORDS:
            self.uncouple.append(coupling)
            self._decide_insert(row)
        else:
            self.conflicts.deletion_found(coupling)
            raise RowError(said(
                gettext_noop("The %(record)s record cannot be updated because it is coupled to a deleted record."),
                record=self.plan.record_said(row)))

    @staticmethod
    def _changes(destination, values):
        return {
            name: (getattr(destination, name), value)
            for name, value in values.items()
            if getattr(destination, name) != value
        }

    def _fail(self, row, coupling, message):
        dest_id = getattr(coupling, self.plan.destination.id_field) if coupling else ""
        self.failures.append((row, coupling, dest_id, message))

    def report(self, decision):
        """A dry run's report of ``decision`` (`ChunkDecision`) in the chunk's result, with the counts of what a
        write would have done: a line per row to insert, modify, couple to a match or fail, in the order the rows
        were decided (the coupled rows first, then the uncoupled, each in the chunk's order)."""
        label, position, couplings = self.plan.record_label, {row.pk: i for i, row in enumerate(self.rows)}, self.couplings

        def line(row, action, **fields):
            return (row.pk not in couplings, position.get(row.pk, 0)), {
                "source": label(row), "source_id": str(row.pk), "action": action, **fields}

        def changed(action, row, changes):
            return line(row, action, changes={name: [_plain(old), _plain(new)] for name, (old, new) in changes.items()})

        lines = [
            *(changed("insert", row, {k: (None, v) for k, v in values.items()})
              for (row, _), values in zip(decision.inserts, decision.insert_values, strict=True)),
            *(changed("modify", row, changes) for row, _, _, changes in decision.updates),
            *(changed("couple", row, changes) for row, _, changes in decision.couple),
            *(line(row, "fail", message=str(message), message_data=said_data(message))
              for row, _, _, message in decision.failures),
        ]
        for name, n in (("inserted", len(decision.inserts)), ("modified", len(decision.updates)),
                        ("coupled", len(decision.couple)), ("failed", len(decision.failures))):
            if n:
                self.result.add(name, n)
        self.result.report.extend(entry for _, entry in sorted(lines, key=lambda keyed: keyed[0]))



def newer_data(plan):
    """The skip reason of a row whose destination changed since the last synchronisation (and the source did not)."""
    return said(gettext_noop("the %(system_name)s record holds newer data"), system_name=plan.destination.system_name)


def _plain(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)

