"""Which record is coupled to which: the one place that reads couplings by record id.

A coupling pairs one ERP record with one Sales record (`integration.models.Coupling`, BC's CRM Integration Record).
Every answer here is in bulk — one query per `CHUNK` ids whatever the number of records — so the engine, the rules,
sales orders and availability stay within a constant number of queries per chunk. Models are named by their label
(``"erp.Customer"``, ``"crm.Account"``); the side of a label is its app (``crm`` is Sales, anything else the ERP),
so every function works in both directions: ``counterparts("crm.Account", ids, to="erp.Customer")`` is the reverse
of ``counterparts("erp.Customer", ids, to="crm.Account")``.

This module imports models only: no admin, API, views, commands or tasks (the engine imports it).
"""

from django.apps import apps

from integration.models import Coupling
from p2c.databases import same_database

# Ids per query: well below the parameter limits of SQLite and PostgreSQL.
CHUNK = 5000


def _side(model):
    return "crm" if model.startswith("crm.") else "erp"


def _pair(model, to):
    """The coupling filter of ``model``'s table coupled to ``to``'s, and the id fields (this side, other side)."""
    side = _side(model)
    other = "erp" if side == "crm" else "crm"
    pair = {f"{side}_model": model, f"{other}_model": to}
    return pair, f"{side}_id", f"{other}_id"


def _chunks(ids):
    ids = list(ids)
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]


def counterparts(model, ids, *, to):
    """``{id: counterpart id}`` for the records ``ids`` of ``model`` coupled to a record of ``to``; uncoupled ids
    are left out. One query per `CHUNK` ids."""
    found = {}
    for chunk in _chunks(set(ids) - {None}):
        found.update(counterparts_query(model, chunk, to=to))
    return found


def counterparts_query(model, ids, *, to):
    """The query `counterparts` runs for at most `CHUNK` ids: (id, counterpart id) pairs, not yet read (for a caller
    that reads it with others in one statement: `p2c.bulk_reads.pairs_read`)."""
    pair, own, other = _pair(model, to)
    return Coupling.objects.filter(**pair, **{f"{own}__in": list(ids)}).values_list(own, other)


def counterpart(model, id, *, to):
    """The id of the ``to`` record coupled to record ``id`` of ``model``, or None. One query (none for None)."""
    if id is None:
        return None
    pair, own, other = _pair(model, to)
    return Coupling.objects.filter(**pair, **{own: id}).values_list(other, flat=True).first()


def counterpart_list(model, ids, *, to):
    """The counterpart ids of the records ``ids`` (a list, in coupling order), for filters such as ``pk__in``."""
    pair, own, other = _pair(model, to)
    found = []
    for chunk in _chunks(ids):
        found += Coupling.objects.filter(**pair, **{f"{own}__in": chunk}).values_list(other, flat=True)
    return found


def coupled_ids(model, *, to):
    """The ids of ``model`` coupled to a record of ``to``, for ``pk__in`` / ``exclude(pk__in=…)`` on ``model``'s
    rows: a subquery (no query of its own) where the couplings share ``model``'s database, else the list, read
    now (no query joins two databases: p2c.databases)."""
    pair, own, _ = _pair(model, to)
    couplings = Coupling.objects.filter(**pair)
    if _nested(model):
        return couplings.values(own)
    return list(couplings.values_list(own, flat=True))


def counterpart_query(model, ids, *, to):
    """The ids of the ``to`` records coupled to the records ``ids`` of ``model``, for ``pk__in`` on ``to``'s rows:
    a subquery where the couplings share ``to``'s database, else the list, read now."""
    pair, own, other = _pair(model, to)
    couplings = Coupling.objects.filter(**pair, **{f"{own}__in": ids})
    if _nested(to):
        return couplings.values(other)
    return list(couplings.values_list(other, flat=True))


def _nested(label):
    """Whether a query of ``label``'s rows may nest a query of the couplings (one database)."""
    return same_database(Coupling, apps.get_model(label))


def counterparts_in(model, ids, *, among):
    """``[(counterpart model, counterpart id, id)]`` for the records ``ids`` of ``model`` coupled to a record of any
    of the tables ``among`` (a Sales product may be coupled to an item and to a resource). One query per chunk."""
    side = _side(model)
    other = "erp" if side == "crm" else "crm"
    found = []
    for chunk in _chunks(set(ids) - {None}):
        found += Coupling.objects.filter(**{
            f"{side}_model": model, f"{other}_model__in": list(among), f"{side}_id__in": chunk,
        }).values_list(f"{other}_model", f"{other}_id", f"{side}_id")
    return found
