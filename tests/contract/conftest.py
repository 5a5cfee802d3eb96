import pytest

from .kits import KITS


@pytest.fixture(params=[pytest.param(name, marks=() if getattr(make, "served", False) else pytest.mark.django_db)
                        for name, make in KITS.items()])
def kit(request):
    """Each side of `KITS` in turn, with the database (a side served by another process commits what it does: its
    kit cleans up after itself rather than running in a transaction rolled back)."""
    make = KITS[request.param]
    return make(request) if getattr(make, "served", False) else make()


@pytest.fixture(scope="module")
def sales_web_api(django_db_setup, django_db_blocker, tmp_path_factory):
    """One p2c process serving the Dataverse Web API over HTTPS for the module, and its application user (committed;
    taken away afterwards): a `tests.integration.sales_api.server.Served`."""
    from tests.integration.sales_api.server import serving

    with serving(django_db_blocker, tmp_path_factory.mktemp("sales-web-api")) as served:
        yield served
