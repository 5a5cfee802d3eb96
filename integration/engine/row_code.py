"""Python source written once per run and compiled into a function, as ``dataclasses`` and ``namedtuple`` make their
methods: the engine's work per row (a destination's values, a pair's synchronised values) unrolled for the run's
field rules, where a loop over the rules would read each rule's settings again for every row.

What the generated code does is decided by the functions that write it (`transfer.values_maker`,
`conflicts._snapshot_reader`); this module only compiles it, under a file name of its own that tracebacks show with
its lines (``linecache``).
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
