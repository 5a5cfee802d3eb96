"""Which side of coupled records changed since their last synchronisation (SPEC I5), as the engine decides it.

*Synchronise now* preselects by it (Business Central: Get when only the Sales side changed, Send when only the ERP
side changed, Merge when neither or both did), and a Send or Get of several records skips those whose target side
holds newer data. The engine itself skips such a record in that direction (`ChunkRun._decide_coupled`).
"""

from dataclasses import dataclass

from p2c.utils import chunked

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
            return "from_integration"
        if self.erp and not self.crm:
            return "to_integration"
        return "bidirectional"


def coupled_changes(*, mapping, side, ids):
    """``{id: SidesChanged}`` for ``side``'s ("erp" or "crm") records ``ids`` coupled in ``mapping``'s tables;
    uncoupled ids are left out. Three queries per 5,000 ids. A side counts as changed when its modified-on is
    newer than the coupling's last synchronised value (or it was never synchronised)."""
    from integration.models import Coupling

    pair = {"erp_model": mapping.erp_model, "crm_model": mapping.crm_model}
    models = {"erp": mapping.erp_model_class(), "crm": mapping.crm_model_class()}
    result = {}
    for chunk in chunked(list(ids), BATCH):
        couplings = list(Coupling.objects.filter(**pair, **{f"{side}_id__in": chunk}).values(
            "erp_id", "crm_id", "last_synced_erp_modified", "last_synced_crm_modified"))
        modified = {
            key: dict(model.objects.filter(pk__in=[c[f"{key}_id"] for c in couplings])
                      .values_list("pk", model.MODIFIED_FIELD))
            for key, model in models.items()
        } if couplings else {}
        for c in couplings:
            changed = {}
            for key in ("erp", "crm"):
                last, now = c[f"last_synced_{key}_modified"], modified[key].get(c[f"{key}_id"])
                changed[key] = now is not None and (last is None or now > last)
            result[c[f"{side}_id"]] = SidesChanged(**changed)
    return result
