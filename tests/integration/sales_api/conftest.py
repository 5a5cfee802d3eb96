import pytest

from .server import serving


@pytest.fixture
def remote(transactional_db, tmp_path, monkeypatch):
    """A Sales server of its own for the test, and this process configured to reach it over the Web API."""
    with serving(tmp_path) as served:
        served.point_at(monkeypatch)
        yield served
