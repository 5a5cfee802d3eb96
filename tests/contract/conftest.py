import pytest

from .kits import KITS


@pytest.fixture(params=list(KITS))
def kit(request, db):
    """Each side of `KITS` in turn (with the database for those that need one)."""
    return KITS[request.param]()
