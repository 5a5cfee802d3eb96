"""What every synchronised record has in common, on both sides.

A synchronised record carries a "modified" timestamp that the integration reads as its watermark, so that
timestamp must move on *every* write the project makes, bulk writes included. Django's ``auto_now`` covers
``save()`` and ``bulk_create()`` but not ``QuerySet.update()`` or ``bulk_update()``: `RecordQuerySet` closes
that gap, and gives models two hooks so derived values and numbers are set the same way on every path:

- ``prepare_for_write(self)``: fill derived fields of one instance (full name, flags, ...);
- ``assign_numbers(cls, objs)``: give new instances their numbers, in one allocation for a whole batch;
- ``after_bulk_write(cls, objs)``: keep other tables in step after a bulk write (rare).
"""

from django.db import models, transaction
from django.utils import timezone


class RecordQuerySet(models.QuerySet):
    def _modified_field(self):
        return self.model.MODIFIED_FIELD

    def update(self, **kwargs):
        kwargs.setdefault(self._modified_field(), timezone.now())
        return super().update(**kwargs)

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        if not objs:
            return objs
        with transaction.atomic(using=self.db):
            self.model.assign_numbers(objs)
            for obj in objs:
                obj.prepare_for_write()
            created = super().bulk_create(objs, *args, **kwargs)
            self.model.after_bulk_write(created)
        return created

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        if not objs:
            return 0
        now = timezone.now()
        modified = self._modified_field()
        for obj in objs:
            obj.prepare_for_write()
            setattr(obj, modified, now)
        fields = list(dict.fromkeys([*fields, *self.model.DERIVED_FIELDS, modified]))
        with transaction.atomic(using=self.db):
            count = super().bulk_update(objs, fields, *args, **kwargs)
            self.model.after_bulk_write(objs)
        return count


RecordManager = models.Manager.from_queryset(RecordQuerySet)


class Record(models.Model):
    """Base of synchronised records: the hooks above, applied on ``save()`` too."""

    MODIFIED_FIELD = "modified_at"
    # Fields computed by prepare_for_write(); bulk_update() writes them along with the caller's fields.
    DERIVED_FIELDS: tuple[str, ...] = ()

    objects = RecordManager()

    class Meta:
        abstract = True

    def prepare_for_write(self):
        """Fill derived fields. Called before every save, bulk_create and bulk_update."""

    @classmethod
    def assign_numbers(cls, objs):
        """Give new instances without a number their number (one allocation per batch)."""

    @classmethod
    def after_bulk_write(cls, objs):
        """Keep dependent tables in step after a bulk write."""

    def save(self, *args, **kwargs):
        if self._state.adding:
            type(self).assign_numbers([self])
        self.prepare_for_write()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = list(
                dict.fromkeys([*update_fields, *self.DERIVED_FIELDS, self.MODIFIED_FIELD])
            )
        super().save(*args, **kwargs)


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
