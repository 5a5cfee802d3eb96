import pytest

from .kits import KITS


@pytest.fixture(params=list(KITS))
def kit(request, db):
    """Each side of `KITS` in turn, with the database (a side served by another process commits what it does in
    that process, outside the test's transaction: its kit cleans up after itself)."""
    make = KITS[request.param]
    return make(request) if getattr(make, "served", False) else make()


@pytest.fixture(scope="module")
def sales_web_api(django_db_setup, tmp_path_factory):
    """One p2c process serving the Dataverse Web API over HTTPS for the module, and its logins (committed; taken
    away afterwards): a `tests.integration.sales_api.server.Served`."""
    from tests.integration.sales_api.server import serving

    with serving(tmp_path_factory.mktemp("sales-web-api")) as served:
        yield served
