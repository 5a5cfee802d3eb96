"""Each pytest-xdist worker (``make test`` runs the suite in several) its own Redis database and var/ broker folder.

Loaded with ``-p`` (pyproject's addopts), before pytest-django reads the settings: what the settings and the
processes a test starts read from the environment is rewritten here, once per worker. pytest-django gives each
worker its own test databases (``test_<name>_gw1``); PostgreSQL's advisory locks are per database too.
"""

import os
from urllib.parse import urlsplit, urlunsplit

REDIS_DATABASES = 16  # Redis' default number of databases


def worker_number(environ=os.environ):
    """0 for the first pytest-xdist worker (``gw0``) and without xdist, 1 for ``gw1``..."""
    worker = environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker.removeprefix("gw") or 0)


def worker_redis_url(url, number):
    """The broker URL's Redis database counted down by the worker's number: ``/15`` for gw0, ``/14`` for gw1..."""
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(database - number) % REDIS_DATABASES}"))


number = worker_number()
if number:
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if broker.startswith(("redis://", "rediss://")):
        os.environ["CELERY_BROKER_URL"] = worker_redis_url(broker, number)
