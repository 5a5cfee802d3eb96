"""Which records a queued job was given, so the Sales and ERP lists can tell them *queued*, then *failed* if the
job fails as a whole (`SyncJobRecord`; read by integration.coupling.state).

Written in bulk when a selection is queued (integration.queue): one row per record and job, for the source
records and for their coupled counterparts (both lists show the record queued), at two queries per chunk of ids.
A job that ends with a result per record (couplings, failed inserts and errors carry them) leaves no rows; a job
that failed as a whole keeps them, as the only trace of which records it failed, until it is deleted.
"""

from ..models import Coupling, Direction, SyncJob, SyncJobRecord

ACTIVE = (SyncJob.Status.QUEUED, SyncJob.Status.RUNNING)


def job_records_add(*, jobs, mapping, ids):
    """Note that each of ``jobs`` (one-way jobs of ``mapping``) will synchronise the source-side ``ids``."""
    rows = []
    for job in jobs:
        source, other = ("erp", "crm") if job.direction == Direction.TO_INTEGRATION else ("crm", "erp")
        source_model = getattr(mapping, f"{source}_model")
        to_python = (mapping.erp_model_class() if source == "erp" else mapping.crm_model_class())._meta.pk.to_python
        keys = [to_python(i) for i in ids]
        rows += [SyncJobRecord(job=job, model=source_model, record_id=str(key)) for key in keys]
        counterparts = Coupling.objects.filter(erp_model=mapping.erp_model, crm_model=mapping.crm_model,
                                               **{f"{source}_id__in": keys}).values_list(f"{other}_id", flat=True)
        other_model = getattr(mapping, f"{other}_model")
        rows += [SyncJobRecord(job=job, model=other_model, record_id=str(key)) for key in counterparts]
    SyncJobRecord.objects.bulk_create(rows, batch_size=1000)


def job_records_release(*, job_ids):
    """Forget the records of those of ``job_ids`` that ended with a result per record (success or error)."""
    if job_ids:
        SyncJobRecord.objects.filter(
            job__in=SyncJob.objects.filter(pk__in=job_ids, status__in=(SyncJob.Status.SUCCESS, SyncJob.Status.ERROR))
        ).delete()
