"""Which database holds which app: the ERP side in ``default``, Sales in ``sales`` when it has a database of its own.

Business Central keeps its couplings (CRM Integration Records) on its own side and Dataverse is another system: so
``default`` holds the ERP, the integration's state (mappings, couplings, jobs), auth, sessions and beat, and with
``SALES_DATABASE_URL`` set the Sales app (``crm``) lives in the ``sales`` database (`SalesRouter`, settings'
``DATABASE_ROUTERS``). Unset, there is no ``sales`` alias and Sales shares ``default`` exactly as before.

No query may join or nest tables of two databases: code that relates them reads keys from one side and asks the
other (`same_database` tells whether a sub-query may stay), and every transaction, lock, COPY and statistics
refresh names the database it acts on (`database_for`, ``transaction.atomic(using=…)``).
"""

from contextlib import ExitStack, contextmanager

from django.conf import settings
from django.db import router, transaction

SALES = "sales"  # the alias of the Sales database, when it has one
SALES_APPS = frozenset({"crm"})


def sales_database():
    """The alias that holds the Sales app: ``sales`` when configured, else ``default``."""
    return SALES if SALES in settings.DATABASES else "default"


def sales_separate():
    """Whether Sales has a database of its own (``SALES_DATABASE_URL``)."""
    return sales_database() != "default"


def database_for(model):
    """The alias ``model``'s rows are written to (and read from)."""
    return router.db_for_write(model)


def same_database(*models):
    """Whether these models' tables are in one database, so that one query may join or nest them."""
    return len({database_for(model) for model in models}) <= 1


def databases_of(*models):
    """The distinct aliases of these models, in a stable order (``default`` first)."""
    aliases = {database_for(model) for model in models}
    return sorted(aliases, key=lambda alias: (alias != "default", alias))


@contextmanager
def atomic_on(*models, savepoint=True):
    """``transaction.atomic`` on the database of every one of ``models`` (one block per database, ERP side first).

    This is no distributed transaction: the blocks commit one after the other, so code writing to two databases
    must make its writes idempotent (integration.engine.intents), not rely on this to undo one side's commit.
    """
    with ExitStack() as stack:
        for alias in databases_of(*models):
            stack.enter_context(transaction.atomic(using=alias, savepoint=savepoint))
        yield


class SalesRouter:
    """Sales (``crm``) in the ``sales`` database when there is one; everything else in ``default``.

    Relations between the two (a Sales user's login, the connection setup's integration user) are allowed: they
    are plain key columns without a database constraint, resolved by the ORM in each row's own database.
    """

    def _alias(self, model):
        return sales_database() if model._meta.app_label in SALES_APPS else "default"

    def db_for_read(self, model, **hints):
        return self._alias(model)

    def db_for_write(self, model, **hints):
        return self._alias(model)

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if not sales_separate():
            return db == "default"
        return db == (SALES if app_label in SALES_APPS else "default")
