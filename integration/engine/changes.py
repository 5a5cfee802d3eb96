"""Which side of coupled records changed since their last synchronisation (docs/features.md I5), as the engine decides
it.

*Synchronise now* preselects by it (Business Central: Get when only the Sales side changed, Send when only the ERP
side changed, Merge when neither or both did), and a Send or Get of several records skips those whose target side
holds newer data. The engine itself skips such a record in that direction (`ChunkRun._decide_coupled`).
"""

from dataclasses import dataclass

from integration.models import ConnectionSetup, Coupling, Direction
from p2c.utils import chunked

from .plan import sides_of
from .sides.base import modified_since

BATCH = 5000  # ids per query, well under SQLite's parameter limit


@dataclass(frozen=True)
class SidesChanged:
    erp: bool
    crm: bool

    @property
    def direction(self):
        """The direction to preselect: from (Get) when only Sales changed, to (Send) when only the ERP did, else
        bidirectional (Merge)."""
        if self.crm and not self.erp:
            return Direction.FROM_INTEGRATION
        if self.erp and not self.crm:
            return Direction.TO_INTEGRATION
        return Direction.BIDIRECTIONAL


def _newer(now, own, last, resolution=None):
    """A side holds newer data when its modified-on is later than the value last synchronised (a side never
    synchronised, or a record gone, holds none: the engine's rule for a destination, `ChunkRun._destination_changed`).
    At the side's precision (``resolution``, `Side.modified_resolution`: `modified_since`), a change in the second of
    the last synchronisation counts too, unless the integration wrote the row itself (``own``: its writer)."""
    if now is None or last is None:
        return False
    if resolution is None:
        return now > last
    return not own and modified_since(now, last, resolution)


def _modified(side, keys):
    """``{key: (modified-on, whether the integration wrote it last)}`` of ``side``'s rows of ``keys``, in one read;
    the writer is asked only where the modified-on is coarse (`Side.modified_resolution`)."""
    coarse = side.modified_resolution is not None and side.writer_name is not None
    rows = side.rows(keys, fields=[side.writer_name] if coarse else [])
    own = side.own_writer(ConnectionSetup.get_solo().integration_user_id) if coarse and rows else None
    return {key: (row[side.modified_name], coarse and row.get(side.writer_name) == own) for key, row in rows.items()}


def sides_changed(*, mapping, couplings):
    """``{coupling pk: SidesChanged}`` for ``couplings`` of ``mapping`` (give them a chunk at a time): two queries,
    whatever their number, through each side (`Side.rows`)."""
    erp, crm = (side.reach for side in sides_of(mapping, Direction.TO_INTEGRATION))  # (ERP, Sales) in this direction
    erp_on = _modified(erp, [c.erp_id for c in couplings])
    crm_on = _modified(crm, [c.crm_id for c in couplings])
    return {c.pk: SidesChanged(
        erp=_newer(*erp_on.get(c.erp_id, (None, False)), c.last_synced_erp_modified, erp.modified_resolution),
        crm=_newer(*crm_on.get(c.crm_id, (None, False)), c.last_synced_crm_modified, crm.modified_resolution))
            for c in couplings}


def coupled_changes(*, mapping, side, ids):
    """``{id: SidesChanged}`` for ``side``'s ("erp" or "crm") records ``ids`` coupled in ``mapping``'s tables;
    uncoupled ids are left out. Three queries per 5,000 ids."""
    pair = {"erp_model": mapping.erp_model, "crm_model": mapping.crm_model}
    result = {}
    for chunk in chunked(list(ids), BATCH):
        couplings = list(Coupling.objects.filter(**pair, **{f"{side}_id__in": chunk}).only(
            "erp_id", "crm_id", "last_synced_erp_modified", "last_synced_crm_modified"))
        changed = sides_changed(mapping=mapping, couplings=couplings)
        result.update({getattr(c, f"{side}_id"): changed[c.pk] for c in couplings})
    return result
