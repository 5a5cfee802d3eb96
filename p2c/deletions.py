"""What an app keeps of its deleted records: a deletion log, so that a reader learns what was deleted since it last
looked without comparing everything it knows with everything that exists.

Dataverse's change tracking answers "deleted since" with its deleted items, Business Central's Integration Record
with its "Deleted On", Frappe with its Deleted Document table. Here an app that keeps one declares a concrete
`DeletionLog` and connects its record models to it (`deletion_log_connect`). Every delete through the ORM (a
record's ``delete()``, a queryset's, the cascades Django's Collector follows) then writes one entry per deleted
record, in the delete's own transaction: a delete that rolls back leaves no entry, a committed one always has its
entries. A Record's delete collects its entries and writes them in bulk at its end (`deletions_logged`).

Raw SQL and ``QuerySet._raw_delete`` are not seen: a reader that must be exact after them compares in full, as it
does when it last looked longer ago than ``RETENTION`` (entries older than that are pruned as new ones are written).
"""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from django.db import models, transaction
from django.db.models import signals
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from p2c.databases import database_for

_logs = {}  # record model → the deletion log model its deletes are written to
# alias → [(model, pk)], inside `deletions_logged`. A context value, not a parameter: its reader is a post_delete
# receiver, which Django's Collector calls from inside the delete, where no parameter of ours reaches.
_pending = ContextVar("p2c_deletions_pending", default=None)


class DeletionLog(models.Model):
    """One deleted record: its table (``app_label.ModelName``), its key and when it was deleted."""

    RETENTION = timedelta(days=30)

    model = models.CharField(_("Table"), max_length=100)
    record_id = models.UUIDField(_("Record ID"))
    deleted_on = models.DateTimeField(_("Deleted On"))

    class Meta:
        abstract = True
        indexes = [models.Index(fields=["model", "deleted_on"], name="%(app_label)s_%(class)s_since")]

    def __str__(self):
        return f"{self.model} {self.record_id}"

    @classmethod
    def deleted_since(cls, model, since):
        """The keys of ``model``'s records deleted after ``since`` (a set, read through the index)."""
        entries = cls._base_manager.using(database_for(cls)).filter(model=model._meta.label, deleted_on__gt=since)
        return set(entries.values_list("record_id", flat=True))

    @classmethod
    def kept_since(cls, now=None):
        """The oldest time whose deletions are surely still in the log."""
        return (now or timezone.now()) - cls.RETENTION


def deletion_log_connect(log, record_models):
    """Write the deletes of ``record_models`` to ``log`` (a concrete `DeletionLog` in the records' own database)."""
    for model in record_models:
        _logs[model] = log
        signals.post_delete.connect(_deleted, sender=model, dispatch_uid=f"p2c.deletions.{model._meta.label}")


def deletion_log_of(model):
    """The `DeletionLog` that ``model``'s deletes are written to, or None."""
    return _logs.get(model)


def tables_logged(log):
    """The tables whose deletes are written to ``log``, in the order they were connected: (label, name) pairs, as a
    filter by table offers them (``crm.Account``, ``Account``)."""
    return [(model._meta.label, capfirst(model._meta.verbose_name)) for model, its_log in _logs.items()
            if its_log is log]


@contextmanager
def deletions_logged(using):
    """Collect the entries of the deletes made inside the block and write them at its end, in one transaction
    with them (one INSERT per thousand deleted records rather than one per record)."""
    if _pending.get() is not None:  # a delete inside a delete (a model's own delete() calling its queryset's)
        yield
        return
    pending = {}
    token = _pending.set(pending)
    try:
        with transaction.atomic(using=using, savepoint=False):  # as Django's Collector: no savepoint
            yield
            for alias, entries in pending.items():
                _write(alias, entries)
    finally:
        _pending.reset(token)


def _deleted(sender, instance, using, **kwargs):
    pending = _pending.get()
    if pending is None:
        _write(using, [(sender, instance.pk)])
    else:
        pending.setdefault(using, []).append((sender, instance.pk))


def _write(alias, entries):
    """Log ``entries`` ((model, pk) pairs) in ``alias``, stamped now, and prune their tables' entries past
    retention."""
    now = timezone.now()
    by_log = {}
    for model, pk in entries:
        by_log.setdefault(_logs[model], []).append((model._meta.label, pk))
    for log, rows in by_log.items():
        manager = log._base_manager.using(alias)
        manager.bulk_create([log(model=label, record_id=pk, deleted_on=now) for label, pk in rows], batch_size=1000)
        labels = sorted({label for label, _ in rows})
        manager.filter(model__in=labels, deleted_on__lt=log.kept_since(now)).delete()
