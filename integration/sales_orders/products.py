"""Sales products → the ERP items and resources coupled to them, in bulk (what availability and the ERP order's
lines both need): three queries whatever the number of products."""

from erp.models import Item, Resource
from integration.binder import counterparts_in

ERP_PRODUCT_MODELS = ("erp.Item", "erp.Resource")


def product_erp_records(product_ids):
    """``(couplings, items, resources)`` for the Sales products ``product_ids``: the couplings as
    ``[(erp model, erp id, product id)]`` (a product may be coupled to an item and to a resource), and the coupled
    items and resources by id, with their base unit of measure."""
    couplings = counterparts_in("crm.Product", product_ids, among=ERP_PRODUCT_MODELS)
    item_ids = {erp_id for model, erp_id, _ in couplings if model == "erp.Item"}
    resource_ids = {erp_id for model, erp_id, _ in couplings if model == "erp.Resource"}
    items = Item.objects.select_related("base_unit_of_measure").in_bulk(item_ids) if item_ids else {}
    resources = Resource.objects.select_related("base_unit_of_measure").in_bulk(resource_ids) if resource_ids else {}
    return couplings, items, resources
