"""The couplings and intents of a mapping's pair of tables, on the ERP side (as Business Central keeps its CRM
Integration Records): `CouplingStore` is the only code of the engine that writes them.

Whether a chunk's destination rows and its couplings share a transaction is the store's business
(`CouplingStore.chunk_write`): in one database, one transaction holds the chunk; with the destination in another
(Sales in its own, ERP → Sales), the chunk's keys are recorded as intents first, the destination written, and the
couplings confirmed (intents.py tells how a stopped run's intents are completed).
"""

import logging
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.utils import timezone

from integration.models import Coupling, CouplingIntent, SyncResult
from p2c.bulk_writes import insert_values_prepare, update_rows
from p2c.databases import database_for
from p2c.utils import any_of, chunked

from .sides import side_failure, side_unavailable

logger = logging.getLogger("p2c.integration")


class CouplingStore:
    """The couplings of one run's pair of tables (``plan``: its `SyncPlan`)."""

    def __init__(self, plan):
        self.plan = plan
        self.database = database_for(Coupling)
        # the destination's rows and the couplings in two databases (or the destination elsewhere): no transaction
        # holds both
        self._across = not plan.destination.reach.in_database(self.database)

    # -- reading -------------------------------------------------------------------------------------------------------
    def of_sources(self, source_ids):
        """``{source id: coupling}`` of these source rows, in one query."""
        field = self.plan.source.id_field
        return {getattr(c, field): c
                for c in Coupling.objects.filter(any_of(field, source_ids), **self.plan.coupling_pair)}

    # -- writing -------------------------------------------------------------------------------------------------------
    def remove(self, couplings):
        if couplings:
            Coupling.objects.filter(pk__in=[c.pk for c in couplings]).delete()

    def claim(self, couplings):
        """Insert ``couplings`` (instances) before their rows are written; those made (one by one when the bulk
        insert is refused: a pair coupled meanwhile)."""
        try:
            with transaction.atomic(using=self.database):
                Coupling.objects.using(self.database).bulk_create(couplings)
            return list(couplings)
        except IntegrityError:
            made = []
            for coupling in couplings:
                try:
                    with transaction.atomic(using=self.database):
                        coupling.save(force_insert=True, using=self.database)
                    made.append(coupling)
                except IntegrityError:
                    pass
            return made

    def prepare(self, couplings, job_id):
        """The bulk write of new couplings (`coupling_names`' tuples), their columns converted now."""
        names = self.plan.per_run(coupling_names)
        n = len(couplings)
        source_ids, dest_ids, source_modified, dest_modified, synced = zip(*couplings, strict=True)
        constants = names.constants(job_id)
        return insert_values_prepare(
            Coupling.objects.all(), [*names.new_columns, *constants],
            [source_ids, dest_ids, source_modified, dest_modified, synced, *([v] * n for v in constants.values())])

    def insert(self, couplings, job_id, prepared=None):
        """Insert new couplings (tuples; ``prepared``: their write, made ready meanwhile); one by one when the bulk
        write fails. The couplings refused (a pair coupled meanwhile), as instances."""
        if not couplings:
            return []
        try:
            with transaction.atomic():
                (prepared or self.prepare(couplings, job_id))()
            return []
        except IntegrityError:
            names = self.plan.per_run(coupling_names)
            refused = []
            for values in couplings:
                coupling = Coupling(**names.coupling_values(values, job_id))
                try:
                    with transaction.atomic():
                        coupling.save(force_insert=True)
                except IntegrityError:
                    logger.warning("Coupling %s already exists on one side; left as it was", coupling)
                    refused.append(coupling)
            return refused

    def save(self, couplings, fields):
        """Write ``fields`` of existing couplings in one statement."""
        couplings = [c for c in couplings if c.pk is not None]
        if couplings:
            update_rows(Coupling.objects.all(), couplings, fields)

    def intend(self, job, *, inserts=(), updates=()):
        """Record the intents of a chunk's destination writes, in a transaction of their own; their keys.

        ``inserts``: (source row, new destination object) pairs, the object's key chosen; ``updates``: (source row,
        coupling, destination object) of coupled records about to be written. Written as columns, no model instance
        per intent."""
        plan = self.plan
        modified = plan.source.modified_field
        last_crm = plan.destination.last_synced_field
        rows = [(row.pk, dest.pk, CouplingIntent.Kind.INSERT, getattr(row, modified), None) for row, dest in inserts]
        rows += [(row.pk, dest.pk, CouplingIntent.Kind.UPDATE, getattr(row, modified), getattr(coupling, last_crm))
                 for row, coupling, dest in updates]
        if not rows:
            return []
        constants = {**plan.coupling_pair, "job": getattr(job, "pk", None)}
        n = len(rows)
        write = insert_values_prepare(
            CouplingIntent.objects.all(),
            ["erp_id", "crm_id", "kind", "erp_modified", "crm_modified_before", *constants],
            [*zip(*rows, strict=True), *([value] * n for value in constants.values())], keys=True)
        with transaction.atomic(using=database_for(CouplingIntent)):
            return write()  # COPY on PostgreSQL, keys from the sequence

    # -- a chunk's transactions ----------------------------------------------------------------------------------------
    def chunk_write(self, chunk, *, decide=False):
        """Decide (when ``decide``: its destination rows locked) and write ``chunk`` (a `sync.ChunkRun`): in one
        transaction where the destination shares the store's database; else intend, write the destination,
        confirm. The write takes the decision, a value (`deciding.ChunkDecision`); a dry run does not come here
        (`sync.ChunkRun.report_only`)."""
        plan = self.plan
        destination = plan.destination.reach
        if not self._across:
            with destination.transaction():
                chunk._write(chunk.decide(lock=True) if decide else chunk.decided)
            return
        intents, committing = [], False
        try:
            with destination.transaction():
                chunk.decision_take(chunk.decide(lock=True) if decide else chunk.decided)
                with transaction.atomic(using=self.database):
                    chunk._claim_matched()  # the matched rows' couplings, before their destination rows are written
                    intents = self.intend(chunk.job, inserts=chunk.inserts,
                                          updates=[(row, c, dest) for row, c, dest, _ in chunk.updates])
                chunk._write_destination()
                committing = True
        except Exception as exc:
            # rolled back: nothing of this chunk reached the destination (a side without transactions may have
            # written part of it: its intents wait for completion, intents.py)
            if not committing and destination.transactional:
                intents_forget(intents)
            if side_failure(exc):
                raise side_unavailable(exc, plan.destination.database) from exc
            raise
        # Only once the destination has committed. The couplings a restore replaces go with the new ones: a run
        # stopped before this keeps them, so the next finds their destination records deleted again (and adopts a
        # restore that reached it: intents.py)
        with transaction.atomic(using=self.database):
            chunk._uncouple()
            chunk._write_couplings()
            intents_forget(intents)

    def destination_written_first(self):
        """Whether the destination's rows are committed before their couplings (two databases): a row whose
        coupling is then refused stays written, where in one database it goes with the chunk's transaction."""
        return self._across


def intents_forget(keys):
    """Delete the intents of these keys (confirmed, or their write surely not committed)."""
    for batch in chunked(keys, 5000):
        CouplingIntent.objects.filter(any_of("pk", batch)).delete()


def intents_adopt(*, replaced, new, refreshed, intents):
    """Complete a stopped run's intents (intents.py decides what): the couplings ``replaced`` (pks) deleted,
    ``new`` ones made, ``refreshed`` ones written, and the ``intents`` deleted, in one transaction."""
    with transaction.atomic(using=database_for(Coupling)):
        if replaced:
            Coupling.objects.filter(any_of("pk", replaced)).delete()
        if new:
            Coupling.objects.bulk_create(new)
        if refreshed:
            Coupling.objects.bulk_update(refreshed, ["last_synced_erp_modified", "last_synced_crm_modified",
                                                     "last_crm_result", "last_crm_job"])
        CouplingIntent.objects.filter(any_of("pk", [intent.pk for intent in intents])).delete()


class CouplingNames(NamedTuple):
    pair: dict
    source_id: str
    dest_id: str
    source_modified: str
    dest_modified: str
    source_last_synced: str
    dest_last_synced: str
    dest_result: str
    dest_job: str

    @property
    def new_columns(self):
        """The coupling attnames of new couplings' tuples (`ChunkWrites._new_couplings`), in order."""
        return [self.source_id, self.dest_id, self.source_last_synced, self.dest_last_synced, "synced_values"]

    def constants(self, job_id):
        """The values every new coupling of a chunk shares (attname → value): the pair, the result and job of the
        write, the other columns' defaults, and one creation time (as a bulk insert stamps every row alike)."""
        values = {f.attname: f.get_default() for f in Coupling._meta.concrete_fields
                  if not f.primary_key and f.attname not in self.new_columns}
        values.update(self.pair)
        values.update({self.dest_result: SyncResult.SUCCESS, self.dest_job: job_id, "created_at": timezone.now()})
        return values

    def coupling_values(self, values, job_id):
        """A new coupling's attnames and values from its tuple (the slow path: one coupling at a time)."""
        return {**self.constants(job_id), **dict(zip(self.new_columns, values, strict=True))}

    def coupling(self, values, job_id):
        """A new coupling (an instance, not yet saved) from its tuple."""
        return Coupling(**self.coupling_values(values, job_id))


def coupling_names(plan):
    """The coupling's attnames a run writes, and the rows' modified-on attnames, read once per run."""
    source, destination = plan.source, plan.destination
    return CouplingNames(
        pair=plan.coupling_pair, source_id=source.id_field, dest_id=destination.id_field,
        source_modified=source.modified_field, dest_modified=destination.modified_field,
        source_last_synced=source.last_synced_field, dest_last_synced=destination.last_synced_field,
        dest_result=destination.result_field, dest_job=destination.job_field)
