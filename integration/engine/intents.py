"""Exactly once across two databases: writes into Sales recorded as intents on the ERP side first
(docs/decisions.md#two-databases-intents-recorded-first).

With Sales in a database of its own (p2c.databases), a run ERP → Sales cannot commit a Sales row and its coupling
in one transaction. A chunk therefore goes in three steps (`ChunkRun`, sync.py):

1. **Intend** (ERP side, committed): for each Sales row about to be written, a `CouplingIntent` naming the ERP
   record and the Sales key: the UUID the engine chose for a new record, or the coupled record's.
2. **Write** (Sales side, committed): the Sales rows, with those keys.
3. **Confirm** (ERP side, committed): the couplings made, refreshed or replaced, the intents deleted.

A run killed between 1 and 3 leaves intents. `intents_complete` (at the start of every run of the pair, and in the
stopped-run check) looks their keys up in Sales: a new record that was written is adopted (its coupling made, in
place of the coupling to the deleted record it restores), one that was not is forgotten, so the next run creates it
once; an update that landed (the Sales row written by the integration user after its last synchronisation) refreshes
the coupling. A restore's coupling to the deleted record is replaced in step 3, not before: a run stopped earlier
leaves it, so the next run finds that record deleted again. Only intents of jobs no longer running are completed:
the partitions of a run in progress write theirs side by side.

A Sales database that does not answer or refuses the write fails the run with `SideUnavailable`, naming the
database; intents of a write that surely did not commit are forgotten at once, the others wait for completion.
"""

import logging

from django.apps import apps
from django.db.models import Q

from integration.models import Coupling, CouplingIntent, SyncJob, SyncResult
from p2c.utils import any_of

from .reading import key_range_q
from .sides import SideUnavailable, database_failed, side_failure, side_for, side_unavailable
from .store import CouplingStore, intents_adopt, intents_forget

__all__ = ["SideUnavailable", "database_failed", "intents_complete", "intents_forget", "intents_record",
           "side_failure", "side_unavailable"]

logger = logging.getLogger("p2c.integration")

COMPLETE_BATCH = 1000  # intents completed per round: one read of Sales, one write of couplings


def intents_record(*, plan, job, inserts=(), updates=()):
    """Record the intents of a chunk's Sales writes (`CouplingStore.intend`); their keys."""
    return CouplingStore(plan).intend(job, inserts=inserts, updates=updates)


def intents_complete(*, erp_model=None, crm_model=None, integration_user_id=None, erp_range=None):
    """Complete the intents of stopped runs (of one pair of tables, or all): adopt what reached Sales, forget the
    rest. Returns ``(adopted, forgotten)``. A constant number of queries per `COMPLETE_BATCH` intents.

    ``erp_range``: ``(low, high)``, the ERP keys of a partition its caller has just claimed (partitions.py): its
    intents are completed whatever their job says, as the partitions of one run share their job, which runs on.
    """
    pair = {key: value for key, value in (("erp_model", erp_model), ("crm_model", crm_model)) if value}
    if erp_range is not None:
        stopped = CouplingIntent.objects.filter(**pair).filter(key_range_q(erp_range, "erp_id"))
    else:
        stopped = CouplingIntent.objects.filter(**pair).filter(
            Q(job__isnull=True) | ~Q(job__status__in=[SyncJob.Status.RUNNING, SyncJob.Status.QUEUED]))
    counts = {}  # (ERP table, Sales table) → [adopted, forgotten]
    last = 0
    while batch := list(stopped.filter(pk__gt=last).order_by("pk")[:COMPLETE_BATCH]):
        last = batch[-1].pk
        by_tables = {}
        for intent in batch:
            by_tables.setdefault((intent.erp_model, intent.crm_model), []).append(intent)
        for tables, intents in by_tables.items():
            done = _complete(*tables, intents, integration_user_id)
            pair_counts = counts.setdefault(tables, [0, 0])
            pair_counts[0] += done
            pair_counts[1] += len(intents) - done
    for (erp_label, crm_label), (adopted, forgotten) in counts.items():
        # Once per pair, with the totals (not once per batch of COMPLETE_BATCH)
        logger.info("Completed %s intended Sales writes of %s ↔ %s after a stopped run: %s had reached Sales (their "
                    "couplings made or refreshed), %s had not (the next run writes them)", adopted + forgotten,
                    erp_label, crm_label, adopted, forgotten)
    return sum(adopted for adopted, _ in counts.values()), sum(forgotten for _, forgotten in counts.values())


def _complete(erp_label, crm_label, intents, integration_user_id):
    """Complete intents of one pair of tables; return how many were adopted."""
    sales = side_for(apps.get_model(crm_label), key="crm")
    pair = {"erp_model": erp_label, "crm_model": crm_label}
    couplings = {
        c.erp_id: c for c in Coupling.objects.filter(**pair).filter(any_of("erp_id", [i.erp_id for i in intents]))
    }
    # The intents' Sales keys, and those of the couplings of their ERP records: which exist, as last written
    keys = list({*(intent.crm_id for intent in intents), *(c.crm_id for c in couplings.values())})
    rows, writers = sales.rows(keys, fields=[]), sales.writers(keys)
    written = {key: (row[sales.modified_name], writers.get(key)) for key, row in rows.items()}
    integration_writer = sales.own_writer(integration_user_id)
    taken_crm = set(Coupling.objects.filter(**pair).filter(
        any_of("crm_id", [i.crm_id for i in intents])).values_list("crm_id", flat=True))
    new, refreshed, replaced = [], [], []
    for intent in intents:
        found = written.get(intent.crm_id)
        if found is None:
            continue
        modified, writer = found
        if intent.kind == CouplingIntent.Kind.INSERT:
            old = couplings.get(intent.erp_id)
            restore = old is not None and old.crm_id not in written  # of a deleted record: replaces its coupling
            if (old is not None and not restore) or intent.crm_id in taken_crm:
                continue
            if restore:
                replaced.append(old.pk)
            new.append(Coupling(
                **pair, erp_id=intent.erp_id, crm_id=intent.crm_id, last_synced_erp_modified=intent.erp_modified,
                last_synced_crm_modified=modified, last_crm_result=SyncResult.SUCCESS, last_crm_job_id=intent.job_id,
            ))
            taken_crm.add(intent.crm_id)
            continue
        coupling = couplings.get(intent.erp_id)
        landed = (writer == integration_writer and modified is not None
                  and (intent.crm_modified_before is None or modified > intent.crm_modified_before))
        if coupling is not None and coupling.crm_id == intent.crm_id and landed:
            coupling.last_synced_erp_modified = intent.erp_modified
            coupling.last_synced_crm_modified = modified
            coupling.last_crm_result = SyncResult.SUCCESS
            coupling.last_crm_job_id = intent.job_id
            refreshed.append(coupling)
    intents_adopt(replaced=replaced, new=new, refreshed=refreshed, intents=intents)
    return len(new) + len(refreshed)
