"""What the rules read and write beyond the run's two tables (a currency, an account's name, a price list's lines),
through the sides as the engine reaches them (`SyncPlan.side_of`): the same whether Sales is this process's
database or reached over its Web API. Each asks for a whole chunk's values at once, a constant number of queries
(or requests) a chunk, whatever its size."""

from django.utils.translation import gettext_noop

from p2c.said import Lowered, said, said_name


class RulesWriteFailed(Exception):
    """A record the rules write with the chunk's rows (a price list line, a unit) was refused: the chunk fails,
    its message naming the table and the reason."""

    def __init__(self, side, answer):
        self.said = said(gettext_noop("The synchronisation rules could not write a %(table)s record: %(reason)s"),
                         table=Lowered(said_name(side.model._meta.verbose_name)),
                         reason=answer.reason or str(answer.error or ""))
        super().__init__(str(self.said))


def _values(values):
    return frozenset(value for value in values if value is not None and value != "")


def keys_by(plan, model, name, values):
    """``{value: key}`` of the ``model`` rows whose field ``name`` holds one of ``values``."""
    values = _values(values)
    return dict(plan.side_of(model).pairs_query(name, "pk", values)) if values else {}


def rows_of(plan, model, keys, fields):
    """``{key: row}`` of the ``model`` rows of ``keys`` that exist, with ``fields``."""
    keys = _values(keys)
    return plan.side_of(model).rows(keys, fields=list(fields)) if keys else {}


def rows_where(plan, model, name, values, fields, *, case_insensitive=False, **scope):
    """The ``model`` rows whose field ``name`` holds one of ``values`` (``case_insensitive``: trimmed and lower-cased
    both) and each field of ``scope`` one of its values, with ``fields`` and the key (`key`); in no order."""
    values = _values(values)
    if not values:
        return []
    return plan.side_of(model).rows_where(name, values, fields=list(fields), scope=scope,
                                          case_insensitive=case_insensitive)


def key(plan, model, row):
    """The key of a ``model`` row read by these functions."""
    return plan.side_of(model).key_of(row)


def every_value(plan, model, name):
    """The set of the values of the field ``name`` in every ``model`` row (read in keyset pages)."""
    return {row[name] for page in plan.side_of(model).changes(None, fields=[name]) for row in page}


def write(plan, model, *, inserts=(), updates=()):
    """Write new ``model`` rows (``inserts``: dicts of values; their keys chosen here) and changes to existing ones
    (``updates``: ``(key, values)``) as the integration; the new rows' keys. A refused row fails the chunk
    (`RulesWriteFailed`)."""
    side = plan.side_of(model)
    inserts, updates = list(inserts), list(updates)
    if not inserts and not updates:
        return []
    keys = side.new_keys(len(inserts))
    answers = side.write(inserts=list(zip(keys, inserts, strict=True)), updates=updates,
                         writer=plan.integration_user_id)
    for answer in answers:
        if not answer.ok:
            raise RulesWriteFailed(side, answer)
    return [answer.key for answer in answers[:len(inserts)]]
