"""Mappings in dependency order (docs/features.md I5: salespeople first, units before items, …)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext


def mappings_in_dependency_order(mappings):
    """Topologically sort ``mappings`` by their dependencies (within the given set), stable by sort order."""
    mappings = sorted(mappings, key=lambda m: (m.sort_order, m.name))
    by_pk = {m.pk: m for m in mappings}
    deps = {m.pk: {d.pk for d in m.dependencies.all()} & by_pk.keys() for m in mappings}
    ordered, done = [], set()
    while len(ordered) < len(mappings):
        ready = [m for m in mappings if m.pk not in done and deps[m.pk] <= done]
        if not ready:
            stuck = ", ".join(m.name for m in mappings if m.pk not in done)
            raise ValidationError(gettext("Cyclic dependencies between: %(stuck)s.") % {"stuck": stuck})
        for m in ready:
            ordered.append(m)
            done.add(m.pk)
    return ordered
