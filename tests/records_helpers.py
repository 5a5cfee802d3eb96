"""Helpers for tests of the records layer (p2c.records): what ``records_written`` reported."""

from collections import defaultdict
from contextlib import contextmanager
from datetime import timedelta

from django.utils import timezone

from p2c.records import records_written


@contextmanager
def rows_written():
    """``{model: {pk, ...}}``: the rows ``records_written`` reported while the block ran.

    Filled when the block ends; the querysets of ``update()`` are read then, as the integration reads them after
    the commit, so a queryset that no longer matches the rows it wrote reports nothing.
    """
    sent = []

    def receiver(sender, instances=None, queryset=None, **kwargs):
        sent.append((sender, instances, queryset))

    records_written.connect(receiver)
    rows = defaultdict(set)
    try:
        yield rows
    finally:
        records_written.disconnect(receiver)
    for sender, instances, queryset in sent:
        if instances is not None:
            rows[sender].update(obj.pk for obj in instances)
        else:
            rows[sender].update(queryset.values_list("pk", flat=True))


def make_old(*records):
    """Move the records' modified stamp a month back (in the database and on the instances); returns it."""
    long_ago = timezone.now() - timedelta(days=30)
    for record in records:
        field = record.MODIFIED_FIELD
        type(record)._base_manager.filter(pk=record.pk).update(**{field: long_ago})
        setattr(record, field, long_ago)
    return long_ago
