"""Python source written once per run and compiled into a function, as ``dataclasses`` and ``namedtuple`` make their
methods: the engine's work per row (a destination's values, a pair's synchronised values) unrolled for the run's
field rules, where a loop over the rules would read each rule's settings again for every row.

What the generated code does is decided by the functions that write it (`transfer.values_maker`,
`conflicts._snapshot_reader`); this module only compiles it, under a file name of its own that tracebacks show with
its lines (``linecache``).

Why generated: on 100,000 accounts of the CUSTOMER mapping, the plainest loop over the same compiled rules takes 1.85
times the CPU time per row of the generated ``values_for`` (10.6 against 5.7 µs), and a loop over the same names 1.3
times that of the generated snapshot reader (9.0 against 6.9 µs); tests/bench/test_row_code_bench.py holds both loops
and prints the figures. Writing and compiling the two functions takes a few milliseconds, once per run.

Reading the generated code
--------------------------
``source_of(function)`` gives the source of a generated function; in ``manage.py shell``, for a mapping::

    from integration.engine.plan import plan_build
    from integration.engine.row_code import source_of
    from integration.engine.transfer import values_maker
    from integration.models import IntegrationTableMapping

    plan = plan_build(mapping=IntegrationTableMapping.objects.get(name="CUSTOMER"), direction="from_integration")
    print(source_of(plan.per_run(values_maker)))

A traceback through it names the file ``<p2c generated make #N>`` and shows its lines. The names with a leading
underscore are the values the function reads from its globals (`Names`: ``_field0`` a destination field, ``_check1``
its check, ``_get35`` an ``itemgetter``, ``_label34`` the record's label); ``r0``, ``r1``, … are the source row's
columns, in the order of the rules that read them. Each rule is a block headed by a comment (its index, source and
destination attnames, and kind). For the CUSTOMER mapping, Sales → ERP, abridged::

    def make(transfer):                          # once per chunk: the chunk's lookups, bound to names
        context = transfer.rules_context
        reference8 = transfer._reference_value(8, _rule16)
        ...
        def values_for(source, destination):     # once per row
            values, errors = {}, []
            try:
                r0, r1, ..., r16 = _get35(source.__dict__)
            except KeyError:                     # a column left out of the read: through its descriptor
                r0, r1, ..., r16 = [getattr(source, name) for name in _attnames36]
            # 0: name -> name (value)
            try:
                value = r0 if type(r0) is str else convert(r0, _field0)
            except ValidationError as exc:
                errors.append(field_error_text(_field0, exc))
            else:
                if type(value) is str and value and len(value) <= 100 and '\x00' not in value:
                    values['name'] = value       # the field's checks, passed in place
                else:
                    try:
                        _check1(value, destination)   # the others: the field's own clean, for its message
                    ...
            # 8: transaction_currency_id -> currency_id (relation)
            try:
                write, value = reference8(r8)
            except RowError as exc:
                errors.append(exc.message)
                write = False
            ...
            if write:
                values['currency_id'] = value
            ...
            if errors:
                raise RowError(record_error_text(_label34(source), Joined(tuple(errors), '; ')))
            return values

        return values_for

`conflicts._snapshot_reader` writes ``read(row, destination)`` the same way: ``s0``, ``s1``, … the row's columns and
``d0``, ``d1``, … the destination's, each made plain, then one line per field mapping keeping the value or the pair.
"""

import linecache
from itertools import count
from operator import itemgetter

_SERIAL = count(1)


def function_compile(name, lines, namespace):
    """The function ``name`` defined by the source ``lines`` (text lines, without line ends), with the globals
    ``namespace``."""
    source = "\n".join(lines) + "\n"
    filename = f"<p2c generated {name} #{next(_SERIAL)}>"
    # A traceback through the generated code shows its lines (as dataclasses registers its own)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    scope = dict(namespace)
    exec(compile(source, filename, "exec"), scope)  # the engine's own source, not data
    return scope[name]


def source_of(function):
    """The source a function of `function_compile` was compiled from (or any function whose file is known)."""
    return "".join(linecache.getlines(function.__code__.co_filename))


class Names:
    """Python names for the values a generated function reads from its globals: ``name(value)`` gives a name unique
    to that object (``_v0``, ``_field1``, …: a leading underscore, which the generated code's own names never have)
    and ``namespace`` maps them back."""

    def __init__(self):
        self.namespace = {}
        self._by_id = {}

    def name(self, value, hint="v"):
        key = id(value)
        if key not in self._by_id:
            name = f"_{hint}{len(self.namespace)}"
            self._by_id[key] = name
            self.namespace[name] = value
        return self._by_id[key]


def attributes_read(names, instance, attnames, prefix, indent):
    """Lines reading ``attnames`` of the model instance named ``instance`` into ``{prefix}0``, ``{prefix}1``, …: from
    its dict in one call (a foreign key's attname read through its descriptor costs more), or, when one of them was
    left out of the read, each through the model's descriptor, which loads it."""
    targets = ", ".join(f"{prefix}{i}" for i in range(len(attnames))) + ("," if len(attnames) == 1 else "")
    get = names.name(itemgetter(*attnames), "get")
    pad = "    " * indent
    return [f"{pad}try:",
            f"{pad}    {targets} = {get}({instance}.__dict__)" + ("," if len(attnames) == 1 else ""),
            f"{pad}except KeyError:",
            f"{pad}    {targets} = [getattr({instance}, name) for name in {names.name(tuple(attnames), 'attnames')}]"]
