"""Writing a decided chunk: destination rows in bulk (one by one only when the bulk statement fails, to fail the
bad rows alone), the couplings, the rows' errors and failed insertions, the conflict inbox's rows.

`ChunkWrites` is the writing half of `ChunkRun` (sync.py), after `ChunkDecisions` (deciding.py).
"""

import contextlib
import logging
from datetime import timedelta
from operator import attrgetter

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import IntegrityError
from django.utils.translation import gettext_noop

from integration.models import SyncJobError, SyncResult
from p2c.records import writing_as
from p2c.said import Capitalised, Joined, said, said_name, said_stored

from .deciding import newer_data
from .store import coupling_names
from .transfer import record_error_text, validation_said

logger = logging.getLogger("p2c.integration")

# Both sides changed and this pass wrote (or kept) the destination: its last synchronised modified-on is stored
# this much before its modified-on, so the other pass still finds it changed (BC: 999 ms to Sales, 10 ms to BC).
BOTH_MODIFIED_MARGIN = timedelta(milliseconds=10)


class ChunkWrites:
    """The writes of a decided chunk (a mixin of `ChunkRun`)."""

    def decision_take(self, decision):
        """Write ``decision`` (a `deciding.ChunkDecision`): what the write works on is what was decided, nothing
        else."""
        self.inserts, self.updates, self.touches = decision.inserts, decision.updates, decision.touches
        self.insert_values = decision.insert_values
        self.couple, self.uncouple, self.failures = decision.couple, decision.uncouple, decision.failures
        self.keep_changed, self.conflicts = decision.keep_changed, decision.conflicts

    def _write(self, decision):
        """Write the decided chunk: destination rows, then couplings (one transaction when they share a database)."""
        self.decision_take(decision)
        self._uncouple()
        self._claim_matched()
        self._write_destination()
        self._write_couplings()

    def _claim_matched(self):
        """Couple the matched rows before anything of theirs is written, so that a row and its coupling stand or
        fall together: a destination row coupled to another source row meanwhile (by another run, or by a person)
        is not written for this one. Such a row fails, with the reason, and the next run decides it again (it is
        retried as a failed insertion). The couplings made here are refreshed once the rows are written
        (`_write_couplings`); a run stopped in between leaves them without synchronised timestamps, so the next run
        writes the source's values, as for any coupling made by hand."""
        if not self.couple:
            return
        plan = self.plan
        names = plan.per_run(coupling_names)
        pk_of = plan.source.pk_of
        claims = [(row, dest, changes, names.coupling((pk_of(row), dest.pk, None, None, {}), self.job.pk))
                  for row, dest, changes in self.couple]
        # only the rows whose counterpart (or themselves) got coupled meanwhile fail
        taken = {id(c) for c in self.store.claim([c for *_, c in claims])}
        made = []
        for claim in claims:
            row, dest, _changes, coupling = claim
            if id(coupling) in taken:
                made.append(claim)
            else:
                self._fail(row, None, record_error_text(plan.record_said(row), self._claim_refused_text(dest)))
        self.couple = [(row, dest, changes) for row, dest, changes, _ in made]
        self.claimed = {pk_of(row): coupling for row, _, _, coupling in made}
        self.couplings.update(self.claimed)  # a row whose write then fails marks its coupling failed

    def _claim_refused_text(self, dest):
        return said(gettext_noop(
            "%(destination)s matched it, but is coupled to another record meanwhile (or this record is); nothing "
            "was written. The next run decides it again."), destination=self.plan.record_said(dest))

    def _uncouple(self):
        self.store.remove(self.uncouple)

    def _write_destination(self):
        """The destination's rows: new, changed, matched; and what the rules write with them."""
        plan = self.plan
        writer = plan.integration_user_id if plan.writes_to_crm else None
        with writing_as(writer):
            # their couplings and the couplings' write, when made ready while the database wrote the rows
            self.inserts_coupled = self.inserts_coupled_write = None
            self.inserted = self._save(self.inserts, new=True, writer=writer)
            for _, _, dest, changes in self.updates:
                for name, (_, new) in changes.items():
                    setattr(dest, name, new)
            self.updated = self._save([(row, dest) for row, _, dest, _ in self.updates], new=False, writer=writer)
            for _row, dest, changes in self.couple:
                for name, (_, new) in changes.items():
                    setattr(dest, name, new)
            self.matched = self._save([(row, dest) for row, dest, changes in self.couple if changes], new=False,
                                      writer=writer)
            plan.rules.after_write([*self.inserted, *self.updated, *self.matched], plan=plan)

    def _write_couplings(self):
        """The couplings of the written rows, the rows' errors and failed insertions, the conflict inbox's rows."""
        inserted, updated, matched = self.inserted, self.updated, self.matched
        pk_of = self.plan.source.pk_of
        matched_unchanged = [(row, dest) for row, dest, changes in self.couple if not changes]
        # Made ahead for the rows of the bulk write, when all of them went in (not when rows went one by one)
        ahead = self.inserts_coupled if inserted is self.inserts else None
        others = self._new_couplings([] if ahead is not None else inserted)
        prepared = self.inserts_coupled_write if ahead is not None and not others else None
        self._save_new_couplings((ahead or []) + others, prepared=prepared)
        inserted = self.inserted  # less any whose coupling could not be made (`_coupling_refused`)
        updated_ids = {row.pk for row, _ in updated}
        claimed = self.claimed
        refreshed = [
            self._refresh(coupling, row, dest)
            for row, coupling, dest, _ in self.updates if row.pk in updated_ids
        ] + [self._refresh(coupling, row, dest) for row, coupling, dest in self.touches] + [
            self._refresh(claimed[pk_of(row)], row, dest) for row, dest in [*matched, *matched_unchanged]]
        self._record_failures(refreshed)
        self.conflicts.write(job=self.job, refreshed=refreshed)
        self.failed_inserts.record(
            self.job, [(row, message) for row, coupling, _, message in self.failures if coupling is None],
            succeeded=lambda: [pk_of(row) for row, _ in [*inserted, *matched, *matched_unchanged]]
            + [pk for pk in map(pk_of, self.rows) if pk in self.couplings],
        )
        self.result.add("inserted", len(inserted))
        self.result.add("modified", len(updated) + len([1 for _, _, c in self.couple if c]))
        self.result.add("coupled", len(matched) + len(matched_unchanged))

    def _save(self, pairs, *, new, writer):
        """Write the destination rows of ``pairs`` ((source row, destination instance)) through the destination's side
        (`Side.records_save`: in bulk, row by row only when that fails); the pairs written (``pairs`` itself when
        all were), each of the others failed with its reason."""
        if not pairs:
            return []
        answers = self.plan.destination.reach.records_save(
            [dest for _, dest in pairs], new=new, attnames=() if new else sorted(self._update_fields()), writer=writer,
            meanwhile=self._inserts_couple if new else None, reserved=self.plan.numbers_reserved if new else None,
            # the destination's own failure, not a row's, stops the run where its rows are committed first
            side_failures_raise=self.store.destination_written_first())
        if all(answer.ok for answer in answers):
            return pairs
        written = []
        for (row, dest), answer in zip(pairs, answers, strict=True):
            if answer.ok:
                written.append((row, dest))
                continue
            if getattr(answer, "conflict", False):
                # changed at the destination since it was read (a 412 on its ETag): it holds newer data, which goes
                # the other way in the other pass, as a change seen when reading would (deciding.py)
                self.result.skip(newer_data(self.plan), self.plan.record_said(row))
                continue
            coupling = self.couplings.get(row.pk)
            error = answer.error
            text = (isinstance(error, IntegrityError) and self._duplicate_text(dest)) or (
                write_error_said(error, type(dest)) if error is not None
                else _answer_text(self.plan.destination.model, answer))
            self._fail(row, coupling, record_error_text(self.plan.record_said(row), text))
        return written

    def _duplicate_text(self, obj):
        """Which unique value of ``obj`` another record already holds, in words (asked on the failure path only)."""
        model = type(obj)
        unique = [(f.name,) for f in model._meta.concrete_fields if f.unique and not f.primary_key]
        unique += [tuple(c.fields) for c in model._meta.total_unique_constraints]
        for names in unique:
            fields = [model._meta.get_field(name) for name in names]
            values = {f.attname: getattr(obj, f.attname) for f in fields}
            if any(v in (None, "") for v in values.values()):
                continue
            other = self.plan.destination.reach.record_holding(obj, values)
            if other is not None:
                return duplicate_text(obj, fields, self.plan.record_said(other))
        return None

    def _inserts_couple(self):
        self.inserts_coupled = self._new_couplings(self.inserts)
        self.inserts_coupled_write = self._couplings_prepare(self.inserts_coupled)

    def _update_fields(self):
        fields = set()
        for _, _, _dest, changes in self.updates:
            fields.update(changes)
        for _, _, changes in self.couple:
            fields.update(changes)
        return fields

    def _new_couplings(self, pairs):
        """The values of the couplings of rows just written or matched (``pairs``: (source row, destination)), each
        in `_CouplingNames.new_columns`' order: tuples, not Couplings (made for every row written, what they look
        up looked up once; `_save_new_couplings` writes the tuples)."""
        if not pairs:
            return []
        names = self.plan.per_run(coupling_names)
        source_pk, dest_pk = self.plan.source.pk_of, self.plan.destination.pk_of
        source_modified, dest_modified_of = attrgetter(names.source_modified), attrgetter(names.dest_modified)
        keep_changed = self.keep_changed
        couplings = []
        for (row, dest), synced in zip(pairs, self.conflicts.snapshots_new(pairs), strict=True):
            pk = source_pk(row)
            dest_modified = dest_modified_of(dest)
            if keep_changed and pk in keep_changed and dest_modified is not None:
                dest_modified -= BOTH_MODIFIED_MARGIN
            couplings.append((pk, dest_pk(dest), source_modified(row), dest_modified, synced))
        return couplings

    def _refresh(self, coupling, row, dest):
        source, destination = self.plan.source, self.plan.destination
        dest_modified = getattr(dest, destination.modified_field)
        if row.pk in self.keep_changed and dest_modified is not None:
            dest_modified -= BOTH_MODIFIED_MARGIN
        values = {
            source.last_synced_field: getattr(row, source.modified_field),
            destination.last_synced_field: dest_modified,
            destination.result_field: SyncResult.SUCCESS,
            destination.job_field: self.job.pk,
        }
        if coupling._state.fields_cache:  # a related job read: the descriptors drop what changed
            for name, value in values.items():
                setattr(coupling, name, value)
        else:  # plain columns (a foreign key's descriptor costs more than the rest of this method)
            coupling.__dict__.update(values)
        coupling.synced_values = self.conflicts.snapshot(coupling, row, dest)
        return coupling

    def _save_new_couplings(self, couplings, prepared=None):
        """Insert the new couplings ``couplings`` (`_new_couplings`' tuples; ``prepared``: their write, made ready
        while the destination rows were written); one by one when the bulk write fails (a pair coupled meanwhile)."""
        for coupling in self.store.insert(couplings, self.job.pk, prepared):
            self._coupling_refused(coupling)

    def _coupling_refused(self, coupling):
        """A new row's coupling that could not be made (its source row was coupled meanwhile, by a person): the
        row fails with the reason, as a failed insertion the next run decides again; in one database its new
        destination row goes with the chunk's transaction (nothing of it is left), across two it was committed
        and stays, named in the error."""
        plan = self.plan
        source_id = getattr(coupling, plan.source.id_field)
        dest_id = getattr(coupling, plan.destination.id_field)
        row = next((row for row, _ in self.inserts if plan.source.pk_of(row) == source_id), None)
        if row is None:
            return
        written_first = self.store.destination_written_first()
        if not written_first:
            plan.destination.reach.records_insert_undo([dest_id])
        self.inserted = [(r, d) for r, d in self.inserted if r is not row]
        self.failures.append((row, None, dest_id if written_first else "", record_error_text(
            plan.record_said(row), said(gettext_noop(
                "its new counterpart could not be coupled: the record was coupled to another one meanwhile. The "
                "next run decides it again.")))))

    def _couplings_prepare(self, couplings):
        """The bulk write of new couplings (`_new_couplings`' tuples), their columns converted now."""
        return self.store.prepare(couplings, self.job.pk)

    def _record_failures(self, refreshed):
        destination = self.plan.destination
        previous = self._previous_messages()
        failed_couplings = []
        errors = []
        for row, coupling, dest_id, message in self.failures:
            text, data = said_stored(message)
            errors.append(SyncJobError(
                job=self.job, source_model=self.plan.source.label, source_id=str(row.pk),
                destination_model=destination.label, destination_id=str(dest_id or ""), message=text,
                message_data=data,
            ))
            if coupling is None or coupling.pk is None:
                continue
            # The same failure as last time: the same meaning, or (a row stored as text) the same text.
            before = previous.get((getattr(coupling, destination.job_field), str(row.pk)))
            repeated = (
                getattr(coupling, destination.result_field) == SyncResult.FAILURE
                and before is not None and (before[1] == data if data is not None else before[0] == text)
            )
            setattr(coupling, destination.result_field, SyncResult.FAILURE)
            setattr(coupling, destination.job_field, self.job.pk)
            coupling.skipped = coupling.skipped or repeated
            failed_couplings.append(coupling)
        fields = [destination.last_synced_field, self.plan.source.last_synced_field, destination.result_field,
                  destination.job_field, "skipped", "synced_values"]
        self.store.save([*refreshed, *failed_couplings], fields)
        if errors:
            SyncJobError.objects.bulk_create(errors)
        self.result.add("failed", len(self.failures))

    def _previous_messages(self):
        """The error messages of the last failed job of each failing coupled row, in one query."""
        job_field = self.plan.destination.job_field
        keys = [
            (getattr(c, job_field), str(row.pk))
            for row, c, _, _ in self.failures
            if c is not None and getattr(c, job_field)
        ]
        if not keys:
            return {}
        rows = SyncJobError.objects.filter(
            job_id__in={k[0] for k in keys}, source_id__in={k[1] for k in keys}
        ).values_list("job_id", "source_id", "message", "message_data")
        return {(job_id, source_id): (message, data) for job_id, source_id, message, data in rows}



def duplicate_text(obj, fields, other):
    """``Product ID 1027 is already used by Product 1027 (Freight charge).``: the unique values of ``obj`` in
    ``fields`` that the record ``other`` (its name, a `Said` or a text) holds already, as what it means (p2c.said:
    told in the reader's language)."""
    what = None
    for f in fields:
        # Translators: a field's name and its value, e.g. "Product ID 1027".
        value = said(gettext_noop("%(field)s %(value)s"), field=Capitalised(said_name(f.verbose_name)),
                     value=str(getattr(obj, f.attname)))
        # Translators: two field values of a record that another record holds together: "Name X and City Y".
        what = value if what is None else said(gettext_noop("%(values)s and %(value)s"), values=what, value=value)
    # Translators: the field values (e.g. "Product ID 1027"), then the record holding them already.
    return said(gettext_noop("%(values)s is already used by %(record)s."), values=what, record=other)


def _answer_text(model, answer):
    """A side's refusal of a row (`Written`): ``Email: <the side's words>`` when it names the field, as what it
    means (the side's words, a `Said` or a text, kept as they are)."""
    if answer.field:
        try:
            name = said_name(model._meta.get_field(answer.field).verbose_name)
        except FieldDoesNotExist:  # a name the side gave that is not a field's
            name = answer.field
        return said(gettext_noop("%(field)s: %(error)s"), field=name, error=answer.reason)
    return answer.reason


def write_error_said(exc, model=None):
    """What a database's refusal of a row (``exc``: IntegrityError, DataError, a ValidationError raised while
    writing…) means: a validation error's messages as `validation_said` tells them, each under its field's name
    (of ``model``, when it has that field); the database's own words (not ours to translate) as they are."""
    messages = getattr(exc, "error_dict", None)
    if messages:
        parts = []
        for name, errors in messages.items():
            field = name
            if model is not None and name != NON_FIELD_ERRORS:
                with contextlib.suppress(FieldDoesNotExist):
                    field = said_name(model._meta.get_field(name).verbose_name)
            error = Joined(tuple(validation_said(error) for error in errors), " ")
            # Translators: a field's name, then what is wrong with its value.
            parts.append(error if name == NON_FIELD_ERRORS else said(gettext_noop("%(field)s: %(error)s"),
                                                                     field=field, error=error))
        return Joined(tuple(parts), "; ")
    if isinstance(exc, ValidationError):
        return Joined(tuple(validation_said(error) for error in exc.error_list), " ")
    # Translators: a write the database refused, then the database's own words (e.g. a constraint it checks).
    return said(gettext_noop("The database refused the write: %(error)s"), error=str(exc))
