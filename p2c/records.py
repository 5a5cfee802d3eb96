"""What every synchronised record has in common, on both sides.

A synchronised record carries a "modified" timestamp that the integration reads as its watermark, so that
timestamp must move on *every* write the project makes, bulk writes included. Django's ``auto_now`` covers
``save()`` and ``bulk_create()`` but not ``QuerySet.update()`` or ``bulk_update()``: `RecordQuerySet` closes
that gap, and gives models two hooks so derived values and numbers are set the same way on every path:

- ``prepare_for_write(self)``: fill derived fields of one instance (full name, flags, ...);
- ``assign_numbers(cls, objs)``: give new instances their numbers, in one allocation for a whole batch;
- ``after_bulk_write(cls, objs)``: keep other tables in step after a bulk write (rare).

Records with a ``MODIFIED_BY_FIELD`` (the Sales side's ``modifiedby``) also record *who* wrote: the user set
with `writing_as()` for the current context (the integration user, while the engine writes), else the user the
caller assigned explicitly, else nobody. A write never silently keeps the previous writer, so a user's change to
a row last written by the integration is not mistaken for the integration's own echo.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connections, models, transaction
from django.dispatch import Signal
from django.utils import timezone

# Sent after every write of synchronised records, whatever the path: save(), bulk_create(), bulk_update() and
# QuerySet.update(). Arguments: ``sender`` (the model), ``instances`` (the written objects, or None for update()),
# ``queryset`` (for update(): the rows it matched, evaluated only if a receiver needs them), ``created``.
# The integration listens to it to synchronise committed changes within seconds; crm and erp never import it.
records_written = Signal()

_acting_writer_id = ContextVar("p2c_acting_writer_id", default=None)


@contextmanager
def writing_as(user_id):
    """Record ``user_id`` as ``modifiedby`` of every Sales record written inside the block."""
    token = _acting_writer_id.set(user_id)
    try:
        yield
    finally:
        _acting_writer_id.reset(token)


def acting_writer_id():
    return _acting_writer_id.get()


class RecordQuerySet(models.QuerySet):
    def _modified_field(self):
        return self.model.MODIFIED_FIELD

    def update(self, **kwargs):
        kwargs.setdefault(self._modified_field(), timezone.now())
        if self.model.MODIFIED_BY_FIELD:
            kwargs.setdefault(f"{self.model.MODIFIED_BY_FIELD}_id", acting_writer_id())
        count = super().update(**kwargs)
        if count:
            records_written.send(sender=self.model, instances=None, queryset=self, created=False)
        return count

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        if not objs:
            return objs
        with transaction.atomic(using=self.db):
            self.model.assign_numbers(objs)
            for obj in objs:
                obj.prepare_for_write()
                obj.stamp_writer()
            created = super().bulk_create(objs, *args, **kwargs)
            self.model.after_bulk_write(created)
        records_written.send(sender=self.model, instances=created, queryset=None, created=True)
        return created

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        if not objs:
            return 0
        now = timezone.now()
        modified = self._modified_field()
        for obj in objs:
            obj.prepare_for_write()
            obj.stamp_writer()
            setattr(obj, modified, now)
        fields = list(dict.fromkeys([*fields, *self.model.DERIVED_FIELDS, *self.model.writer_fields(), modified]))
        with transaction.atomic(using=self.db):
            if args or kwargs or not _values_update_supported(self, objs, fields):
                count = super().bulk_update(objs, fields, *args, **kwargs)
            else:
                count = _values_update(self, objs, fields)
            self.model.after_bulk_write(objs)
        records_written.send(sender=self.model, instances=objs, queryset=None, created=False)
        return count


RecordManager = models.Manager.from_queryset(RecordQuerySet)

# Rows per UPDATE … FROM (VALUES …) statement.
VALUES_UPDATE_ROWS = 500


def _values_update_supported(queryset, objs, field_names):
    """Whether `_values_update` can write these objects (plain values, one table, SQLite ≥ 3.33 or PostgreSQL)."""
    connection = connections[queryset.db]
    if connection.vendor == "sqlite":
        import sqlite3

        if sqlite3.sqlite_version_info < (3, 33):
            return False
    elif connection.vendor != "postgresql":
        return False
    fields = [queryset.model._meta.get_field(name) for name in field_names]
    if any(not f.concrete or f.many_to_many or f.primary_key or f.model is not queryset.model for f in fields):
        return False
    return not any(
        hasattr(getattr(obj, f.attname), "resolve_expression") for obj in objs for f in fields
    )


def _values_update(queryset, objs, field_names):
    """Write each object's fields with ``UPDATE … FROM (VALUES …)``: one statement per batch.

    Django's ``bulk_update`` builds a ``CASE WHEN pk = … THEN …`` per row and field, which costs about a
    millisecond per row in Python alone; a VALUES list costs a few microseconds per value.
    """
    connection = connections[queryset.db]
    model = queryset.model
    meta = model._meta
    pk = meta.pk
    fields = [meta.get_field(name) for name in field_names]
    columns = [pk, *fields]
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    names = [qn(f"c{i}") for i in range(len(columns))]
    if connection.vendor == "postgresql":
        placeholder = "(" + ", ".join(f"CAST(%s AS {f.cast_db_type(connection)})" for f in columns) + ")"
    else:
        placeholder = "(" + ", ".join("%s" for _ in columns) + ")"
    assignments = ", ".join(f"{qn(f.column)} = v.{names[i + 1]}" for i, f in enumerate(fields))
    count = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objs), VALUES_UPDATE_ROWS):
            batch = objs[start : start + VALUES_UPDATE_ROWS]
            params = [
                f.get_db_prep_save(getattr(obj, f.attname), connection) for obj in batch for f in columns
            ]
            values = ", ".join([placeholder] * len(batch))
            if connection.vendor == "postgresql":
                sql = (f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v({', '.join(names)}) "
                       f"WHERE {table}.{qn(pk.column)} = v.{names[0]}")
            else:  # SQLite names VALUES columns column1, column2, …; a statement starting with UPDATE keeps rowcount
                renamed = ", ".join(f"column{i + 1} AS {name}" for i, name in enumerate(names))
                sql = (f"UPDATE {table} SET {assignments} FROM (SELECT {renamed} FROM (VALUES {values})) AS v "
                       f"WHERE {table}.{qn(pk.column)} = v.{names[0]}")
            cursor.execute(sql, params)
            count += cursor.rowcount
    return count


class Record(models.Model):
    """Base of synchronised records: the hooks above, applied on ``save()`` too."""

    MODIFIED_FIELD = "modified_at"
    MODIFIED_BY_FIELD: str | None = None
    # Fields computed by prepare_for_write(); bulk_update() writes them along with the caller's fields.
    DERIVED_FIELDS: tuple[str, ...] = ()

    objects = RecordManager()

    class Meta:
        abstract = True

    def prepare_for_write(self):
        """Fill derived fields. Called before every save, bulk_create and bulk_update."""

    @classmethod
    def from_db(cls, db, field_names, values):
        obj = super().from_db(db, field_names, values)
        if cls.MODIFIED_BY_FIELD:
            obj._loaded_writer_id = obj.__dict__.get(f"{cls.MODIFIED_BY_FIELD}_id")
        return obj

    @classmethod
    def writer_fields(cls):
        return (cls.MODIFIED_BY_FIELD,) if cls.MODIFIED_BY_FIELD else ()

    def stamp_writer(self):
        """Set ``modifiedby``: the acting writer, else an explicitly assigned user, else nobody."""
        if not self.MODIFIED_BY_FIELD:
            return
        attname = f"{self.MODIFIED_BY_FIELD}_id"
        acting = acting_writer_id()
        if acting is not None:
            setattr(self, attname, acting)
        elif hasattr(self, "_loaded_writer_id") and getattr(self, attname) == self._loaded_writer_id:
            setattr(self, attname, None)
        self._loaded_writer_id = getattr(self, attname)

    @classmethod
    def assign_numbers(cls, objs):
        """Give new instances without a number their number (one allocation per batch)."""

    @classmethod
    def after_bulk_write(cls, objs):
        """Keep dependent tables in step after a bulk write."""

    def save(self, *args, **kwargs):
        adding = self._state.adding
        if adding:
            type(self).assign_numbers([self])
        self.prepare_for_write()
        self.stamp_writer()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = list(
                dict.fromkeys([*update_fields, *self.DERIVED_FIELDS, *self.writer_fields(), self.MODIFIED_FIELD])
            )
        super().save(*args, **kwargs)
        records_written.send(sender=type(self), instances=[self], queryset=None, created=adding)


class Singleton(models.Model):
    """A setup table of one row, created with its defaults on first use (like BC's setup tables)."""

    class Meta:
        abstract = True

    @classmethod
    def get_solo(cls):
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)
