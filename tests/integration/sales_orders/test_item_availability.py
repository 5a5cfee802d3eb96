"""Item availability and prices for Sales users (docs/features.md I9): ERP inventory and the customer's ERP price, read
live, in a constant number of queries; shown on Sales order lines and the product list, and over the API."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.models import Product
from erp.models import Item, SalesPrice
from integration.models import ConnectionSetup
from integration.sales_orders.availability import item_availability_for, sales_order_availability
from tests.integration.sales_orders_world import couple, world_build

pytestmark = pytest.mark.django_db
URL = "/api/integration/item-availability/"


@pytest.fixture
def world(mappings, salesperson_pair):
    ConnectionSetup.objects.filter(pk=1).update(item_availability_enabled=True)
    return world_build(salesperson_pair=salesperson_pair)


def group_price(world, item, price, **extra):
    return SalesPrice.objects.create(item=item, sales_type="customer_price_group", sales_code=world.price_group.code,
                                     unit_price=Decimal(price), **extra)


def test_inventory_and_the_customer_price_group_price_then_the_unit_price(world):
    desk, chair, lamp = world.items
    group_price(world, desk, "90.00")
    group_price(world, desk, "85.00", minimum_quantity=10)  # applies from 10 pieces only
    group_price(world, chair, "70.00", ending_date=date.today() - timedelta(days=1))  # expired
    SalesPrice.objects.create(item=lamp, sales_type="customer_price_group", sales_code="EXPORT", unit_price=50)
    products = [*world.products, world.service]

    found = item_availability_for(products=products, account=world.account)
    desk_answer = found[world.products[0].pk]
    assert (desk_answer.no, desk_answer.inventory, desk_answer.unit_price) == ("1000-A", Decimal(40), Decimal("90.00"))
    assert desk_answer.price_source == "customer_price_group" and desk_answer.customer_price_group == "RETAIL"
    assert found[world.products[1].pk].unit_price == chair.unit_price  # expired group price: the unit price
    assert found[world.products[2].pk].price_source == "unit_price"  # another group's price does not apply
    service = found[world.service.pk]
    assert (service.erp_model, service.inventory, service.unit_price) == ("erp.Resource", None, Decimal("80.00"))

    assert item_availability_for(products=products, account=world.account, quantity=10)[
        world.products[0].pk].unit_price == Decimal("85.00")
    assert item_availability_for(products=products)[world.products[0].pk].unit_price == desk.unit_price  # no account


def test_products_not_coupled_are_left_out(world):
    alone = Product.objects.create(product_number="CRM-0001", name="Service pack", product_type_code="flat_fees")
    assert item_availability_for(products=[alone], account=world.account) == {}


def test_a_live_read_of_the_erp(world):
    before = item_availability_for(products=world.products[:1])[world.products[0].pk].inventory
    Item.objects.filter(pk=world.items[0].pk).update(inventory=7)
    after = item_availability_for(products=world.products[:1])[world.products[0].pk].inventory
    assert (before, after) == (Decimal(40), Decimal(7))


def test_queries_do_not_grow_with_the_number_of_products(world):
    products = []
    for i in range(60):
        item = Item.objects.create(no=f"9{i:03d}-Z", description=f"Thing {i}", base_unit_of_measure=world.uom,
                                   inventory=i)
        product = Product.objects.create(product_number=item.no, name=item.description)
        couple(item, product)
        group_price(world, item, "9.99")
        products.append(product)
    counts = []
    for chosen in (products[:3], products):
        with CaptureQueriesContext(connection) as queries:
            found = item_availability_for(products=chosen, account=world.account)
        assert len(found) == len(chosen)
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 6


def test_sales_order_availability_prices_for_a_contact_customer_through_its_account(world):
    from crm.models import Contact

    group_price(world, world.items[0], "91.00")
    order = world.order(lines=1)
    order.customer_account, order.customer_contact = None, Contact.objects.create(last_name="Berg",
                                                                                  parent_account=world.account)
    order.save()
    assert sales_order_availability(sales_order=order)[world.products[0].pk].unit_price == Decimal("91.00")


# -- admin ------------------------------------------------------------------------------------------------------------
@pytest.fixture
def admin_client(client):
    client.force_login(get_user_model().objects.create_superuser("boss", "boss@example.com", "pw"))
    return client


def test_the_sales_order_page_shows_erp_availability_on_its_lines(world, admin_client):
    group_price(world, world.items[0], "90.00")
    order = world.order(lines=2)
    page = admin_client.get(reverse("admin:crm_salesorder_change", args=[order.pk])).content.decode()
    assert "ERP availability" in page
    assert "1000-A · inventory 40 · price 90.00 (RETAIL price)" in page
    assert "1001-A · inventory 41 · price 101.00 (unit price)" in page


def test_the_product_list_shows_erp_inventory_and_price(world, admin_client):
    page = admin_client.get(reverse("admin:crm_product_changelist")).content.decode()
    assert "ERP inventory" in page and "ERP price" in page
    assert "<td class=\"field-erp_inventory\">42</td>" in page


# -- API --------------------------------------------------------------------------------------------------------------
def test_api_answers_for_the_coupled_products_in_the_order_asked(world, client):
    user = get_user_model().objects.create_user("seller", password="pw")
    client.force_login(user)
    ids = f"{world.products[1].pk},{world.products[0].pk}"
    assert client.get(URL, {"products": ids}).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_product", content_type__app_label="crm"))
    group_price(world, world.items[0], "90.00")
    response = client.get(URL, {"products": ids, "account": str(world.account.pk)})
    assert response.status_code == 200
    rows = response.json()
    assert [row["no"] for row in rows] == ["1001-A", "1000-A"]
    assert rows[1]["unit_price"] == "90.0000" and rows[1]["price_source"] == "customer_price_group"
    assert rows[1]["inventory"] == "40.00000" and rows[1]["customer_no"] == world.customer.no
    assert client.get(URL, {"products": "not-a-uuid"}).status_code == 400
    assert client.get(URL).status_code == 400
    assert client.get(URL, {"products": ids, "quantity": "-1"}).status_code == 400


def test_nothing_is_shown_while_item_availability_is_not_enabled(world, admin_client):
    ConnectionSetup.objects.filter(pk=1).update(item_availability_enabled=False)
    assert "ERP inventory" not in admin_client.get(reverse("admin:crm_product_changelist")).content.decode()
    order = world.order(lines=1)
    assert "ERP availability" not in admin_client.get(
        reverse("admin:crm_salesorder_change", args=[order.pk])).content.decode()
    response = admin_client.get(URL, {"products": str(world.products[0].pk)})
    assert response.status_code == 409 and response.json()["code"] == "item_availability_disabled"
