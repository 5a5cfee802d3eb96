"""The timed steps of tests/bench/test_floor_bench.py, each run the same way in the benchmark's process or in a process
of its own (floor_step_run.py): p2c's full synchronisation, plain ``bulk_create`` of the rows it wrote, the raw floor
(with the sync's statements alone) and the peer. A step that writes the rows reads them from the files that
``rows_save`` wrote after the first synchronisation, before its clock starts; nothing it loads is timed."""

import contextlib
import gc
import os
import pickle
import resource
import time
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from django.db import DatabaseError, connections, models, transaction

from crm.models import Account
from erp.models import Customer
from integration.engine.plan import plan_build
from integration.engine.reading import source_attnames
from integration.engine.sync import mapping_synchronize
from integration.models import Coupling, IntegrationTableMapping

PAIR = {"erp_model": "erp.Customer", "crm_model": "crm.Account"}
BATCH = 10_000  # rows a pickle holds, and bulk_create's instances at a time: 1,000,000 would not fit


@dataclass
class Way:
    title: str
    direction: str  # mapping_synchronize's
    source: type
    destination: type
    changed_field: str  # a mapped field of the source the incremental runs change


TO_ERP = Way("Sales accounts → ERP customers", "from_integration", Account, Customer, "telephone1")
TO_SALES = Way("ERP customers → Sales accounts", "to_integration", Customer, Account, "phone_no")
WAYS = {way.direction: way for way in (TO_ERP, TO_SALES)}


def connection_of(model):
    return connections[model.objects.db]


def full_sync(mapping, way, n):
    """A full synchronisation into an empty table; its seconds."""
    mapping.refresh_from_db()
    started = time.perf_counter()
    [job] = mapping_synchronize(mapping=mapping, direction=way.direction, full=True)
    seconds = time.perf_counter() - started
    assert (job.status, job.inserted, job.failed) == ("success", n, 0), (job.message, job.counts())
    return seconds


def columns(model):
    """Every column but an automatic key, and the unique ones (given fresh values when written again)."""
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]
    return fields, [f.attname for f in fields if f.unique]


def rows(model, **filters):
    """The rows of ``model`` as the synchronisation wrote them, every column but an automatic key, by key."""
    fields, _ = columns(model)
    return model.objects.filter(**filters).order_by("pk").values_list(*[f.attname for f in fields])


def rows_save(way, directory):
    """The destination's rows and the pair's couplings, as the synchronisation wrote them, into ``directory``: read
    and written a batch at a time, so that the benchmark's process holds none of them."""
    for name, queryset in (("rows", rows(way.destination)), ("couplings", rows(Coupling, **PAIR))):
        with open(Path(directory) / f"{name}.pickle", "wb") as file:
            values = queryset.iterator(chunk_size=BATCH)
            while batch := list(islice(values, BATCH)):
                pickle.dump(batch, file, protocol=pickle.HIGHEST_PROTOCOL)


def rows_load(directory, name):
    rows_read = []
    with open(Path(directory) / f"{name}.pickle", "rb") as file:
        while True:
            try:
                rows_read += pickle.load(file)
            except EOFError:
                return rows_read


def fresh(fields, unique, rows_given, prefix):
    """The rows with new values in their unique columns (a number; a key made as the model makes a new one's)."""
    at = [(i, f) for i, f in enumerate(fields) if f.attname in unique]
    for n, row in enumerate(rows_given):
        row = list(row)
        for i, field in at:
            row[i] = field.get_default() if isinstance(field, models.UUIDField) else f"{prefix}{n:09d}"[:field.max_length]
        yield row


def bulk_create(model, rows_given):
    fields, unique = columns(model)
    names = [f.attname for f in fields]
    started = time.perf_counter()
    with transaction.atomic(using=model.objects.db):
        made = fresh(fields, unique, rows_given, "B")
        while batch := list(islice(made, BATCH)):
            models.QuerySet(model).bulk_create([model(**dict(zip(names, row, strict=True))) for row in batch],
                                               batch_size=1000)
    return time.perf_counter() - started


def raw_floor(model, rows_given):
    """COPY (PostgreSQL) or executemany (SQLite), in one transaction; the values are converted for the database
    before the clock starts, so the figure is the database's write alone."""
    fields, unique = columns(model)
    connection = connection_of(model)
    prepared = [[f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)]
                for row in fresh(fields, unique, rows_given, "R")]
    table, names = model._meta.db_table, ", ".join(connection.ops.quote_name(f.column) for f in fields)
    started = time.perf_counter()
    with transaction.atomic(using=model.objects.db):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in prepared:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(fields))
            connection.connection.cursor().executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", prepared)
    return time.perf_counter() - started


def source_read(way, mapping):
    """The source's rows a full synchronisation reads (its columns, `source_attnames`), fetched as the database gives
    them, nothing made of them; in seconds."""
    source = way.source
    names = source_attnames(plan_build(mapping=mapping, direction=way.direction, full=True))
    sql, params = source.objects.order_by("pk").values_list(*names).query.sql_with_params()
    started = time.perf_counter()
    with transaction.atomic(using=source.objects.db), connection_of(source).cursor() as cursor:
        cursor.execute(sql, params)
        while cursor.fetchmany(BATCH):
            pass
    return time.perf_counter() - started


def import_export(model, rows_given):
    """django-import-export's bulk insert of the same rows, in seconds; None when it is not installed."""
    try:
        import tablib
        from import_export import resources
    except ImportError:
        return None
    fields, unique = columns(model)
    names = [f.name for f in fields]  # its fields by name: a reference goes through its ForeignKeyWidget
    destination = model

    class Insert(resources.ModelResource):
        class Meta:
            model = destination
            fields = names
            import_id_fields = [unique[-1]]
            use_bulk = True
            batch_size = 1000
            skip_diff = True
            force_init_instance = True
            skip_unchanged = False
            report_skipped = False

    data = tablib.Dataset(*fresh(fields, unique, rows_given, "I"), headers=names)
    started = time.perf_counter()
    result = Insert().import_data(data, raise_errors=True)
    seconds = time.perf_counter() - started
    assert not result.has_errors()
    return seconds


def peak_reset():
    """Linux: the peak RSS back to the RSS now, so that what the process did before (start-up's imports, rows
    loaded) hides nothing of the step's own peak."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass


def peak_kib():
    """The peak RSS: Linux's VmHWM, the process's own (ru_maxrss of a child starts at its parent's RSS at the fork,
    here pytest's), else ru_maxrss."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def step(name, way, directory, n):
    """One step's figures: ``seconds`` (None: the peer not installed); the raw floor's also ``statements`` (the
    source's columns read, the raw floor's write, the couplings written the same way: a sync's statements without
    its Python); p2c's also the peak RSS growth. What the step loads first is frozen (``gc.freeze``), as a process
    that synchronises holds little else: Python's full collections would walk it all."""
    model = way.destination
    if name == "p2c":
        mapping = IntegrationTableMapping.objects.get(name="CUSTOMER")
        gc.freeze()
        peak_reset()
        before = peak_kib()
        seconds = full_sync(mapping, way, n)
        return {"seconds": seconds, "rss_before_kib": before, "rss_peak_kib": peak_kib()}
    loaded = rows_load(directory, "rows")
    gc.freeze()
    if name == "bulk_create":
        return {"seconds": bulk_create(model, loaded)}
    if name == "peer":
        return {"seconds": import_export(model, loaded)}
    assert name == "raw", name
    seconds = raw_floor(model, loaded)
    del loaded
    mapping = IntegrationTableMapping.objects.get(name="CUSTOMER")
    statements = seconds + source_read(way, mapping) + raw_floor(Coupling, rows_load(directory, "couplings"))
    return {"seconds": seconds, "statements": statements}


def load_average():
    """The load average (1, 5, 15 min), printed with the figures."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def table_empty(model):
    """The table and the pair's couplings emptied, as fresh as a first load: on PostgreSQL, each table rewritten with
    its indexes (``VACUUM FULL``: after a plain VACUUM, the pages of the rows deleted stayed, and at 20,000 rows the
    next step wrote into a customer table and indexes of 22 MB where a first load's were 14 MB), then the dirty pages
    written out (``CHECKPOINT``), so that no step flushes what the one before it wrote."""
    Coupling.objects.filter(**PAIR)._raw_delete(Coupling.objects.db)
    model._base_manager.all()._raw_delete(model.objects.db)
    rewritten = set()  # the databases written, each checkpointed once, after all of its tables
    for table_model in (model, Coupling):  # each in its own database (Sales may have one of its own)
        connection = connection_of(table_model)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM FULL ANALYZE {table_model._meta.db_table}")
            rewritten.add(connection.alias)
    for alias in rewritten:
        with connections[alias].cursor() as cursor, contextlib.suppress(DatabaseError):  # not a superuser: the
            cursor.execute("CHECKPOINT")  # step runs with what is pending
