"""Items and resources that already exist in a Sales reached over the Web API as products (same product number)
are coupled by match-based coupling, not created again (docs/decisions.md#sales-over-http: "Product with this Product ID
already exists" in a full synchronisation of the demo with Sales remote)."""

import pytest

from crm.models import Product
from integration.coupling.couplings import mapping_couple_by_match
from integration.engine.sync import mapping_synchronize
from integration.models import Coupling, Direction
from tests.factories import ItemFactory, ProductFactory, ResourceFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TO = Direction.TO_INTEGRATION


def test_items_and_resources_already_in_sales_are_coupled_by_match_over_http(mappings, remote):
    items = ItemFactory.create_batch(3)
    resources = ResourceFactory.create_batch(2)
    products = {item.no: ProductFactory(product_number=item.no, name=item.description) for item in items}
    services = {r.no: ProductFactory(product_number=r.no, name=r.name, product_type_code="services")
                for r in resources}
    new_item = ItemFactory()  # in the ERP only: created in Sales

    for name, records, in_sales in (("ITEM-PRODUCT", [*items, new_item], products),
                                    ("RESOURCE-PRODUCT", resources, services)):
        # a full synchronisation's "couple records" line: match-based coupling, then the full synchronisation
        job = mapping_couple_by_match(mapping=mappings[name], create_new=True, sync_after=False)
        assert job.failed == 0, [e.message for e in job.errors.all()]
        [full] = mapping_synchronize(mapping=mappings[name], direction=TO, full=True, create_new=True)
        assert (full.failed, full.inserted) == (0, 0), [e.message for e in full.errors.all()]
        for record in records:
            coupling = Coupling.objects.get(erp_model=record._meta.label, erp_id=record.pk)
            if record.no in in_sales:
                assert coupling.crm_id == in_sales[record.no].pk
    assert Product.objects.count() == 6  # the five there, and the new item's
    assert Product.objects.get(product_number=new_item.no).product_type_code == "sales_inventory"

