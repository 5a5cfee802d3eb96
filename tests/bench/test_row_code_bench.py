"""Benchmark: the engine's generated row functions (integration/engine/row_code.py, compiled with ``exec`` once per
run) against the plainest equivalent without ``exec``, on the same rows.

The CUSTOMER mapping Sales → ERP with its references (tests/bench/customers_world.py), N accounts read as a run
reads them (their columns the run needs, chunks of 1,000, each chunk's lookups made once by `ChunkTransfer`). Two
functions per row, each two ways, side by side on every chunk, the order swapped from chunk to chunk:

- a row's destination values: `transfer.values_maker` (the field rules unrolled into one function) against
  `plain_values_maker` below, a loop over the same compiled rules (`rules_compile`) calling each rule's own step and
  check, as ``values_for`` did before it was generated;
- a pair's synchronised values: `conflicts._snapshot_reader` (one line per field) against `plain_snapshot_reader`,
  a loop over the same (key, source, destination) names.

Both read a row's columns from its ``__dict__`` in one ``itemgetter`` call, as the generated code does, so what is
compared is the unrolling alone. Each way's answers are compared row for row (the only assertion). Only the calls
are timed, in CPU time (``time.process_time``: the machine may be busy), the garbage collector off while they run
(`_timed`), summed over the rows; prints per round and the medians of ``P2C_BENCH_ROUNDS`` rounds (default 5), in µs per row, and the time to write and compile the
generated functions once per run.

    P2C_BENCH_N=100000 make bench PYTEST_ARGS="-k row_code"
"""

import gc
import os
import statistics
import time
from decimal import Decimal
from operator import itemgetter

import pytest
from django.core.exceptions import ValidationError

from crm.models import Account
from integration.engine.conflicts import _PLAIN_TYPES, _snapshot_names, _snapshot_reader, value_plain
from integration.engine.plan import plan_build
from integration.engine.reading import source_attnames
from integration.engine.transfer import (
    ChunkTransfer,
    Rules,
    _overrides,
    decimal_fit,
    field_error_text,
    record_error_text,
    rules_compile,
    values_maker,
)
from integration.rules.base import RowError
from p2c.said import Joined
from tests.bench.customers_world import customer_world_with_references
from tests.bench.floor_steps import TO_ERP

N = int(os.environ.get("P2C_BENCH_N", "100000"))
ROUNDS = int(os.environ.get("P2C_BENCH_ROUNDS", "5"))
CHUNK = 1000


def _reader(attnames):
    """``read(instance)``: the values of ``attnames`` of a model instance, from its dict in one call, else each through
    its descriptor (a column left out of the read)."""
    get = itemgetter(*attnames)
    if len(attnames) == 1:
        return lambda instance: _one(get, instance, attnames)
    return lambda instance: _many(get, instance, attnames)


def _one(get, instance, attnames):
    try:
        return (get(instance.__dict__),)
    except KeyError:
        return (getattr(instance, attnames[0]),)


def _many(get, instance, attnames):
    try:
        return get(instance.__dict__)
    except KeyError:
        return [getattr(instance, name) for name in attnames]


def plain_values_maker(plan):
    """`transfer.values_maker` without ``exec``: ``make(transfer)`` gives ``values_for(source, destination)``, a loop
    over the run's compiled rules doing for each what the generated code does in its place."""
    compiled = plan.per_run(rules_compile)
    source_names = list(dict.fromkeys(step.source_attname for step in compiled if step.source_attname is not None))
    read = _reader(source_names) if source_names else (lambda source: ())
    rules_transfer = plan.rules.transfer if _overrides(plan.rules, "transfer", Rules) else None
    decimals = [(name, field, quantum) for name, (field, quantum) in plan.decimal_fields.items()]

    def make(transfer):
        context = transfer.rules_context
        steps = []
        for step in compiled:
            position = None if step.source_attname is None else source_names.index(step.source_attname)
            keys = transfer._keys[step.index] if step.keyed else None
            value_of = step.value if step.value is not None else transfer._reference_value(step.index, step.rule)
            steps.append((step.create_only, position, keys, value_of, step.clear_on_failure, step.not_null,
                          step.check, step.dest_attname, step.rule.dest_field))

        def values_for(source, destination):
            values, errors = {}, []
            raws = read(source)
            for create_only, position, keys, value_of, clear_on_failure, not_null, check, dest_attname, dest in steps:
                if create_only and destination is not None:
                    continue
                raw = None if position is None else raws[position]
                if keys is not None and raw is not None:
                    raw = keys.get(raw)
                try:
                    write, value = value_of(raw)
                except RowError as exc:
                    if not clear_on_failure:
                        errors.append(exc.message)
                        continue
                    write, value = True, None
                except ValidationError as exc:
                    errors.append(field_error_text(dest, exc))
                    continue
                if not write or (not_null and (value is None or value == "")):
                    continue
                if check is not None:
                    try:
                        check(value, destination)
                    except ValidationError as exc:
                        errors.append(field_error_text(dest, exc))
                        continue
                values[dest_attname] = value
            if rules_transfer is not None:
                try:
                    rules_transfer(source, destination, values, plan=plan, context=context)
                except RowError as exc:
                    errors.append(exc.message)
            for name, field, quantum in decimals:
                value = values.get(name)
                if type(value) is Decimal and not value.same_quantum(quantum):
                    try:
                        values[name] = decimal_fit(value, field, quantum)
                    except ValidationError as exc:
                        errors.append(field_error_text(field, exc))
            if errors:
                raise RowError(record_error_text(plan.record_said(source), Joined(tuple(errors), "; ")))
            return values

        return values_for

    return make


def plain_snapshot_reader(plan):
    """`conflicts._snapshot_reader` without ``exec``: a loop over the run's (key, source, destination) names."""
    names = plan.per_run(_snapshot_names)
    source_names = list(dict.fromkeys(s for _, s, _ in names if s is not None))
    dest_names = list(dict.fromkeys(d for _, _, d in names))
    read_source, read_dest = _reader(source_names), _reader(dest_names)
    erp_first = plan.source.key == "erp"
    fields_at = [(key, None if s is None else source_names.index(s), dest_names.index(d)) for key, s, d in names]

    def read(row, destination):
        sources = [v if type(v) in _PLAIN_TYPES else value_plain(v) for v in read_source(row)]
        dests = [v if type(v) in _PLAIN_TYPES else value_plain(v) for v in read_dest(destination)]
        fields = {}
        for key, source_at, dest_at in fields_at:
            dest = dests[dest_at]
            if source_at is None:  # a constant: the destination's value
                fields[key] = dest
                continue
            source = sources[source_at]
            if source == dest and type(source) is type(dest):
                fields[key] = source
            else:
                fields[key] = [source, dest] if erp_first else [dest, source]
        return {"fields": fields}

    return read


def _timed(function, pairs):
    """CPU seconds ``function`` takes over ``pairs`` (its two arguments each), and its answers; with the garbage
    collector off, as ``timeit`` has it: a full collection of the whole process (100 ms and more with N rows' keys
    held) would be charged to whichever function was running, one chunk in fifty."""
    gc.disable()
    try:
        started = time.process_time()
        answers = [function(a, b) for a, b in pairs]
        return time.process_time() - started, answers
    finally:
        gc.enable()


def _warm_up(plan, rows, plain_make, plain_read):
    """Each way once over a chunk, untimed: what the first calls fill (`value_plain`'s texts of keys) is filled for
    both before either is timed."""
    rows = list(rows)
    transfer = ChunkTransfer(plan, rows)
    for row in rows:
        for values_for, read in ((transfer.values_for, plan.per_run(_snapshot_reader)),
                                 (plain_make(transfer), plain_read)):
            read(row, plan.instance_new(TO_ERP.destination, values_for(row, None)))


@pytest.mark.django_db(transaction=True)
def test_bench_row_code(settings):
    settings.DEBUG = False
    mapping = customer_world_with_references(N)
    plan = plan_build(mapping=mapping, direction=TO_ERP.direction)
    attnames = source_attnames(plan)
    pks = list(Account.objects.order_by("pk").values_list("pk", flat=True))
    chunks = [pks[i:i + CHUNK] for i in range(0, len(pks), CHUNK)]

    started = time.process_time()
    for _ in range(100):
        plan._makers.pop(values_maker, None)
        plan._makers.pop(_snapshot_reader, None)
        plan.per_run(values_maker)
        plan.per_run(_snapshot_reader)
    compile_ms = (time.process_time() - started) * 1000 / 100
    plain_make, plain_read = plain_values_maker(plan), plain_snapshot_reader(plan)
    generated_read = plan.per_run(_snapshot_reader)

    _warm_up(plan, Account.objects.filter(pk__in=chunks[0]).only(*attnames), plain_make, plain_read)
    figures = {"values, exec": [], "values, plain": [], "snapshot, exec": [], "snapshot, plain": []}
    for round_ in range(1, ROUNDS + 1):
        spent = dict.fromkeys(figures, 0.0)
        for number, keys in enumerate(chunks):
            rows = list(Account.objects.filter(pk__in=keys).order_by("pk").only(*attnames))
            transfer = ChunkTransfer(plan, rows)
            ways = [("exec", transfer.values_for), ("plain", plain_make(transfer))]
            answers = {}
            for way, values_for in ways if number % 2 else reversed(ways):
                seconds, answers[way] = _timed(values_for, [(row, None) for row in rows])
                spent[f"values, {way}"] += seconds
            assert answers["exec"] == answers["plain"]
            pairs = [(row, plan.instance_new(TO_ERP.destination, values)) for row, values in zip(rows, answers["exec"], strict=True)]
            reads = [("exec", generated_read), ("plain", plain_read)]
            for way, read in reads if number % 2 else reversed(reads):
                seconds, answers[way] = _timed(read, pairs)
                spent[f"snapshot, {way}"] += seconds
            assert answers["exec"] == answers["plain"]
        for name, seconds in spent.items():
            figures[name].append(seconds)
        print(f"round {round_}: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in spent.items()), flush=True)

    median = {name: statistics.median(values) for name, values in figures.items()}
    print(f"\nCUSTOMER, Sales accounts → ERP customers, N={len(pks):,}: CPU time of the row functions alone, medians of "
          f"{ROUNDS} round(s), µs per row (plain / exec); writing and compiling both generated functions: "
          f"{compile_ms:.2f} ms once per run")
    print("| function | exec (generated) | plain loop | plain / exec |")
    print("|---|---|---|---|")
    for function in ("values", "snapshot"):
        generated, plain = median[f"{function}, exec"], median[f"{function}, plain"]
        print(f"| {function} | {generated / len(pks) * 1e6:.2f} µs | {plain / len(pks) * 1e6:.2f} µs "
              f"| {plain / generated:.2f}x |", flush=True)
