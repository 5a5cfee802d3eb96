"""What every synchronised record has in common, on both sides.

A synchronised record carries a "modified" timestamp that the integration reads as its watermark, so that
timestamp must move on *every* write the project makes, bulk writes included. Django's ``auto_now`` covers
``save()`` and ``bulk_create()`` but not ``QuerySet.update()`` or ``bulk_update()``: `RecordQuerySet` closes
that gap, and gives models two hooks so derived values and numbers are set the same way on every path:

- ``prepare_for_write(self)``: fill derived fields of one instance (full name, flags, ...);
- ``assign_numbers(cls, objs, reserved=None)``: give new instances their numbers, in one allocation for a whole
  batch; ``reserved``: numbers the caller took ahead (the ERP's `erp.numbering.NumbersReserved`), handed out first;
  ``NUMBER_FIELD`` names the field it fills. A bulk write that fails takes those numbers off its instances again:
  its rollback gave them back to their series, which will hand them out again;
- ``after_bulk_write(cls, objs)``: keep other tables in step after a bulk write (rare).

Records with a ``MODIFIED_BY_FIELD`` (the Sales side's ``modifiedby``) also record *who* wrote: the user set
with `writing_as()` for the current context (the integration user, while the engine writes), else the user the
caller assigned explicitly, else nobody. A write never silently keeps the previous writer, so a user's change to
a row last written by the integration is not mistaken for the integration's own echo.

Deletes count as writes of the rows they blank: a Record model's base manager is its Record manager, so the
links Django's Collector sets to NULL (on_delete=SET_NULL) go through ``RecordQuerySet.update``.

Loads of many new rows (the demo seed) use ``bulk_insert``: ``bulk_create``'s hooks, stamps and signal, with the
rows written by `insert_rows`, which skips Django's per-value INSERT compiler.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from operator import attrgetter

from django.core.exceptions import ImproperlyConfigured
from django.db import models, router, transaction
from django.db.models import signals
from django.db.models.signals import class_prepared
from django.dispatch import Signal, receiver
from django.utils import timezone

from p2c.bulk_writes import insert_rows, values_update, values_update_supported
from p2c.deletions import deletions_logged
from p2c.utils import any_of

# Sent after every write of synchronised records, whatever the path: save(), bulk_create(), bulk_update() and
# QuerySet.update(), including the links a delete blanks (on_delete=SET_NULL). Arguments: ``sender`` (the model),
# ``instances`` (the written objects, or None for update()), ``queryset`` (for update(): the rows it wrote, still
# matching after the write; evaluated only if a receiver needs them), ``created``, ``writer`` (the acting writer's
# id, `writing_as`, or None).
# The integration listens to it to synchronise committed changes within seconds; crm and erp never import it.
records_written = Signal()

# A context value, not a parameter: Django's own code writes records inside a door's `writing_as` block (the
# Collector's SET_NULL updates on delete, the admin's inline formsets' saves), where no parameter of ours reaches.
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
        """``QuerySet.update`` that moves the modified stamp, records the writer and sends ``records_written``.

        The signal's queryset is the rows this call stamped (its own timestamp, read through the indexed stamp),
        not ``self``: an update of a field the filter names (Django's Collector blanking ``opportunity`` on the
        quotes ``filter(opportunity__in=…)`` matched) would match nothing once written. Where the caller gives the
        stamp, the queryset is ``self``. Clearing the writer alone (the Collector's SET_NULL on ``modifiedby`` when
        a Sales user is deleted) is bookkeeping, not a change of the rows: a plain update, no stamp, no signal.
        """
        model = self.model
        writer = model.MODIFIED_BY_FIELD
        writer_names = {writer, f"{writer}_id"} if writer else set()
        if writer and kwargs and kwargs.keys() <= writer_names and all(v is None for v in kwargs.values()):
            return super().update(**kwargs)
        modified = self._modified_field()
        stamped = modified not in kwargs
        now = kwargs.setdefault(modified, timezone.now())
        if writer and not writer_names & kwargs.keys():
            kwargs[f"{writer}_id"] = acting_writer_id()
        count = super().update(**kwargs)
        if count:
            written = model._base_manager.using(self.db).filter(**{modified: now}) if stamped else self
            records_written.send(sender=model, instances=None, queryset=written, created=False,
                                 writer=acting_writer_id())
        return count

    update.alters_data = True

    def delete(self):
        """``QuerySet.delete``, its deletion log entries (p2c.deletions) written in bulk at its end."""
        with deletions_logged(self.db):
            return super().delete()

    delete.alters_data = True
    delete.queryset_only = True

    def bulk_create(self, objs, *args, reserved=None, **kwargs):
        """``QuerySet.bulk_create`` with the hooks, numbers (``reserved``: taken ahead, `assign_numbers`), stamps and
        ``records_written`` signal."""
        return self._create_records(objs, lambda prepared: super(RecordQuerySet, self).bulk_create(
            prepared, *args, **kwargs), reserved=reserved)

    def bulk_insert(self, objs, *, meanwhile=None, reserved=None):
        """``bulk_create`` for large loads: the same hooks, numbers, stamps and ``records_written`` signal, with the
        rows written by `insert_rows` (no per-value SQL compilation; one timestamp for the whole call). For new
        objects only, without bulk_create's options; the demo seed writes through it. ``meanwhile``: the caller's
        work while the database writes the rows (`insert_rows`); ``reserved``: numbers taken ahead
        (`assign_numbers`)."""
        return self._create_records(objs, lambda prepared: insert_rows(self, prepared, meanwhile=meanwhile),
                                    reserved=reserved)

    def _create_records(self, objs, write, *, reserved=None):
        """Numbers, derived fields and stamps, then ``write`` and the after-write hooks in one transaction; then
        ``records_written``."""
        objs = list(objs)
        if not objs:
            return objs
        field = self.model.NUMBER_FIELD
        unnumbered = [(obj, getattr(obj, field)) for obj in objs if not getattr(obj, field)] if field else ()
        try:
            with transaction.atomic(using=self.db):
                self.model.assign_numbers(objs, reserved)
                for obj in objs:
                    obj.prepare_for_write()
                    obj.stamp_writer()
                created = write(objs)
                self.model.after_bulk_write(created)
        except BaseException:
            # The rollback gave the numbers back to their series: kept on the instances, a write of them afterwards
            # (row by row, after a failed bulk write) would store numbers the series hands out again.
            for obj, blank in unnumbered:
                setattr(obj, field, blank)
            raise
        records_written.send(sender=self.model, instances=created, queryset=None, created=True,
                             writer=acting_writer_id())
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
            if args or kwargs or not values_update_supported(self, objs, fields):
                count = super().bulk_update(objs, fields, *args, **kwargs)
            else:
                count = values_update(self, objs, fields)
            self.model.after_bulk_write(objs)
        records_written.send(sender=self.model, instances=objs, queryset=None, created=False,
                             writer=acting_writer_id())
        return count


RecordManager = models.Manager.from_queryset(RecordQuerySet)


@receiver(class_prepared, dispatch_uid="p2c.records.base_manager")
def _record_base_manager(sender, **kwargs):
    """Make a Record model's default manager (a Record manager) its base manager, unless its Meta names one.

    Django's Collector blanks the on_delete=SET_NULL links to a deleted record with ``update()`` on the linking
    model's *base* manager; a plain ``Manager`` would leave those rows' stamps as they were and send no signal,
    so the change would never synchronise. (``Meta.base_manager_name`` on the abstract bases would not reach the
    models that declare their own Meta, or list another abstract base first.)
    """
    if not (isinstance(sender, type) and issubclass(sender, Record)) or sender._meta.base_manager_name:
        return
    managers = sorted(sender._meta.managers, key=lambda m: m.name != sender._meta.default_manager.name)
    for manager in managers:
        if issubclass(getattr(manager, "_queryset_class", object), RecordQuerySet):
            sender._meta.base_manager_name = manager.name
            return
    raise ImproperlyConfigured(f"{sender._meta.label}: a Record model needs a manager of a RecordQuerySet")


class Record(models.Model):
    """Base of synchronised records: the hooks above, applied on ``save()`` too."""

    MODIFIED_FIELD = "modified_at"
    MODIFIED_BY_FIELD: str | None = None
    NUMBER_FIELD: str | None = None  # the field assign_numbers() fills, if any
    # Fields computed by prepare_for_write(); bulk_update() writes them along with the caller's fields.
    DERIVED_FIELDS: tuple[str, ...] = ()

    objects = RecordManager()

    class Meta:
        abstract = True

    def prepare_for_write(self):
        """Fill derived fields. Called before every save, bulk_create and bulk_update."""

    # A model that keeps what it read declares ``loaded(cls, obj, field_names, values)``, a classmethod called for
    # every instance read from the database (``from_db`` and `instances_from_rows`); None: it keeps nothing.
    loaded = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "from_db" in vars(cls):  # `instances_from_rows` makes a Record's instances without it
            raise ImproperlyConfigured(f"{cls.__qualname__}: a Record keeps what it read in loaded(), not from_db().")

    @classmethod
    def from_db(cls, db, field_names, values):
        obj = super().from_db(db, field_names, values)
        if cls.MODIFIED_BY_FIELD:
            obj._loaded_writer_id = obj.__dict__.get(f"{cls.MODIFIED_BY_FIELD}_id")
        if cls.loaded is not None:
            cls.loaded(obj, field_names, values)
        return obj

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        """Django's, but a column its read left out (`instances_from_rows`) is loaded for every instance
        of that read at once, on the first instance that touches it: one query for a chunk of a synchronisation,
        where Django's descriptor would send one per instance (Django 6.1's ``FETCH_PEERS``)."""
        peers = getattr(self._state, "peers", None)
        if (peers is None or not fields or from_queryset is not None or using not in (None, self._state.db)
                or not peers.holds(fields)):
            return super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        attrs = self.__dict__
        for attname, value in peers.values_of(self.pk).items():
            if attname not in attrs:  # one set since the read keeps its value, as it would have with Django's
                attrs[attname] = value
        if any(name not in attrs for name in fields):  # the row is gone: Django's own answer (DoesNotExist)
            return super().refresh_from_db(using=using, fields=fields)
        return None

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
    def assign_numbers(cls, objs, reserved=None):
        """Give new instances without a number their number (one allocation per batch); ``reserved``: numbers the
        caller took ahead, handed out first where they are of the series a number comes from."""

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
        records_written.send(sender=type(self), instances=[self], queryset=None, created=adding,
                             writer=acting_writer_id())

    def delete(self, using=None, keep_parents=False):
        with deletions_logged(using or router.db_for_write(type(self), instance=self)):
            return super().delete(using=using, keep_parents=keep_parents)

    delete.alters_data = True


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


def _plain_init(model):
    """Whether instances of ``model`` may be built without ``Model.__init__``: it keeps Django's, nothing listens to
    ``pre_init``/``post_init``, and every field is a concrete column (no private or generated field)."""
    meta = model._meta
    return (model.__init__ is models.Model.__init__ and not signals.pre_init.has_listeners(model)
            and not signals.post_init.has_listeners(model) and not meta.private_fields
            and len(meta.fields) == len(meta.concrete_fields) and not any(f.generated for f in meta.fields))


def instance_maker(model):
    """A function ``make(values)`` (attname → value) giving what ``model(**values)`` gives, several times faster:
    the other fields get their defaults (a callable default called per instance), the attributes are set as
    ``Model.__init__`` sets them, without its per-field keyword lookups. Falls back to ``model(**values)`` for a
    model that needs its ``__init__`` (`_plain_init`) or for a name that is not a column's attname."""
    if not _plain_init(model):
        return lambda values: model(**values)
    fields = model._meta.concrete_fields
    attnames = frozenset(f.attname for f in fields)
    # The instance's dict as Model.__init__ leaves it, in its order (the callable defaults' places held by None):
    # copied whole, then filled, it is made in one step where setting its names one by one grew it several times.
    template, callables = {"_state": None}, []
    for f in fields:
        if f.has_default() and callable(f.default):
            callables.append((f.attname, f.default))
            template[f.attname] = None
        else:
            template[f.attname] = f.get_default()
    new, state = model.__new__, models.base.ModelState

    def make(values):
        if not values.keys() <= attnames:
            return model(**values)
        obj = new(model)
        attrs = template.copy()
        attrs["_state"] = state()
        for name, default in callables:
            if name not in values:  # as Model.__init__: a default is made only for a name not given
                attrs[name] = default()
        attrs.update(values)
        obj.__dict__ = attrs
        return obj

    return make


class PeerColumns:
    """The columns a read of many rows left out (`instances_from_rows`), read for all of its rows in one
    query when one of them first needs one (`Record.refresh_from_db`)."""

    def __init__(self, model, db, attnames, pks):
        self.model, self.db, self.attnames, self.pks = model, db, frozenset(attnames), pks
        self._rows = None  # pk → {attname: value}, once read

    def holds(self, names):
        return self.attnames.issuperset(names)

    def values_of(self, pk):
        if self._rows is None:
            names = sorted(self.attnames)
            read = self.model._base_manager.using(self.db).filter(any_of("pk", self.pks)).values_list("pk", *names)
            self._rows = {row[0]: dict(zip(names, row[1:], strict=True)) for row in read}
        return self._rows.get(pk, {})


def instances_from_rows(model, db, attnames, rows):
    """Model instances from value tuples of ``attnames`` read from ``db``, as ``Model.from_db`` would give them,
    without ``Model.__init__`` where the model allows it (`_plain_init`).

    ``attnames`` may leave columns out (deferred, as ``only()`` leaves them): a Record's instances then load a
    left-out column all together, in one query, when the first of them needs one (`PeerColumns`), rather than one
    query per instance."""
    objs = _instances_made(model, db, attnames, rows)
    if objs and isinstance(objs[0], Record):
        read = set(attnames)
        unread = [f.attname for f in model._meta.concrete_fields if f.attname not in read]
        if unread:
            columns = PeerColumns(model, db, unread, list(map(attrgetter(model._meta.pk.attname), objs)))
            for obj in objs:
                obj._state.peers = columns
    return objs


def _instances_made(model, db, attnames, rows):
    if not issubclass(model, Record) or not _plain_init(model):  # another model's from_db may do more than Django's
        from_db, names = model.from_db, list(attnames)
        return [from_db(db, names, row) for row in rows]
    new, state = model.__new__, models.base.ModelState
    writer = f"{model.MODIFIED_BY_FIELD}_id" if model.MODIFIED_BY_FIELD else None
    loaded = model.loaded
    objs = []
    for row in rows:
        obj = new(model)
        obj._state = s = state()
        s.adding, s.db = False, db
        attrs = obj.__dict__
        attrs.update(zip(attnames, row, strict=True))
        if writer is not None:  # as Record.from_db
            obj._loaded_writer_id = attrs.get(writer)
        if loaded is not None:
            loaded(obj, attnames, row)
        objs.append(obj)
    return objs
