"""The price list the integration keeps for synchronised items is not edited by hand (docs/features.md I5), from the
admin or the API; other price lists are."""

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crm.models import PriceLevel, ProductPriceLevel
from tests.admin_helpers import admin_form_data, admin_url
from tests.factories import PriceLevelFactory, ProductFactory, ProductPriceLevelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser():
    return User.objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def admin_client_(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def api(superuser):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=superuser).key}")
    return client


@pytest.fixture
def kept():
    return PriceLevelFactory(name="Integration price list", is_integration_managed=True)


def test_the_admin_shows_the_kept_price_list_and_its_lines_read_only(admin_client_, kept):
    line = ProductPriceLevelFactory(price_level=kept)
    page = admin_client_.get(admin_url(PriceLevel, "change", kept.pk))
    assert page.status_code == 200 and 'name="name"' not in page.content.decode()  # a view, not a form
    assert admin_client_.post(admin_url(PriceLevel, "change", kept.pk), {"name": "Renamed"}).status_code == 403
    assert admin_client_.post(admin_url(PriceLevel, "delete", kept.pk), {"post": "yes"}).status_code == 403
    assert admin_client_.post(admin_url(ProductPriceLevel, "change", line.pk), {}).status_code == 403
    kept.refresh_from_db()
    assert kept.name == "Integration price list"


def test_the_admin_refuses_a_new_line_on_the_kept_price_list_and_takes_one_on_another(admin_client_, kept):
    product = ProductFactory()
    add = admin_url(ProductPriceLevel, "add")
    data = admin_form_data(admin_client_.get(add))
    data.update(price_level=str(kept.pk), product=str(product.pk), amount="10")
    response = admin_client_.post(add, data)
    assert response.status_code == 200 and "is kept by the ERP integration" in response.content.decode()
    assert not ProductPriceLevel.objects.exists()

    data["price_level"] = str(PriceLevelFactory(name="Retail").pk)
    assert admin_client_.post(add, data).status_code == 302
    assert ProductPriceLevel.objects.count() == 1


def test_the_api_refuses_changes_to_the_kept_price_list_and_its_lines(api, kept):
    line = ProductPriceLevelFactory(price_level=kept)
    # Refused by the list's state, not by the request's shape: 409 with the code, the field at fault named.
    response = api.patch(f"/api/crm/price-levels/{kept.pk}/", {"name": "Renamed"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "integration_managed"
    assert "kept by the ERP integration" in str(response.json()["is_integration_managed"])
    deleted = api.delete(f"/api/crm/price-levels/{kept.pk}/")
    assert deleted.status_code == 409 and deleted.json()["code"] == "integration_managed"
    assert api.patch(f"/api/crm/product-price-levels/{line.pk}/", {"amount": "1"}, format="json").status_code == 409
    assert api.delete(f"/api/crm/product-price-levels/{line.pk}/").status_code == 409
    moved = api.patch(f"/api/crm/product-price-levels/{ProductPriceLevelFactory().pk}/",
                      {"price_level": str(kept.pk)}, format="json")
    assert moved.status_code == 409 and "kept by the ERP integration" in str(moved.json()["price_level"])
    assert PriceLevel.objects.filter(pk=kept.pk, name="Integration price list").exists()
    assert ProductPriceLevel.objects.filter(pk=line.pk).exists()

    other = PriceLevelFactory(name="Retail")
    assert api.patch(f"/api/crm/price-levels/{other.pk}/", {"name": "Retail 2027"}, format="json").status_code == 200
    assert api.delete(f"/api/crm/price-levels/{other.pk}/").status_code == 204
