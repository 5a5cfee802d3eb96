import pytest

from .kits import KITS, kit_made, kit_params


@pytest.fixture(params=kit_params(KITS))
def kit(request):
    """Each side of `KITS` in turn (`kit_params`: with the database a side in this process needs)."""
    return kit_made(request)


@pytest.fixture(scope="module")
def sales_web_api(django_db_setup, tmp_path_factory):
    """One p2c process serving the Dataverse Web API over HTTPS for the module, and its logins (committed; taken
    away afterwards): a `tests.integration.sales_api.server.Served`."""
    from tests.integration.sales_api.server import serving

    with serving(tmp_path_factory.mktemp("sales-web-api")) as served:
        yield served
