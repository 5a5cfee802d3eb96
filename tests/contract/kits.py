"""The sides the contract kit runs against, each as a `SideKit`: the side, and what the kit needs beyond the `Side`
interface to exercise it (a row's values, and someone other than the integration changing or deleting a row).

To hold a new side to the contract, add a kit here (a function returning a `SideKit`, named in `KITS`): the same tests
then run against it.
"""

import uuid
from dataclasses import dataclass

import pytest

from integration.engine.sides import DjangoSide, MemorySide
from p2c.databases import database_for, sales_separate


@dataclass
class SideKit:
    side: object
    name_field: str  # a text field to match on (case-insensitive index where the side has one)
    unique_field: str  # a field no two rows may share
    writer: object  # the integration's writer id, as `Side.write` takes it
    other_writer: object  # someone else's
    knows_writers: bool  # whether `Side.writers` can tell (Sales can; the ERP keeps no writer)
    change_outside: object  # change_outside(key, name): someone else renames the row
    delete_outside: object  # delete_outside(key): someone else deletes the row

    def values(self, n, name=None):
        return {self.name_field: name or f"Name {n:04d}", self.unique_field: f"K{n:05d}"}


def memory_kit():
    side = MemorySide(key="crm", label="memory.Account", fields={"name": "", "number": ""}, unique=("number",))

    def change(key, name):
        side.write(updates=[(key, {"name": name})], writer="someone")

    return SideKit(side=side, name_field="name", unique_field="number", writer="integration", other_writer="someone",
                   knows_writers=True, change_outside=change, delete_outside=side.delete)


def django_erp_kit():
    """erp.Customer: in the couplings' database, always (one database)."""
    from erp.models import Customer

    def change(key, name):
        Customer.objects.filter(pk=key).update(name=name)

    def delete(key):
        Customer.objects.get(pk=key).delete()

    return SideKit(side=DjangoSide(Customer), name_field="name", unique_field="no", writer=None, other_writer=None,
                   knows_writers=False, change_outside=change, delete_outside=delete)


def django_sales_kit():
    """crm.Account: in a database of its own when SALES_DATABASE_URL is set (two databases), else in the ERP's."""
    from crm.models import Account
    from tests.factories import SystemUserFactory

    integration, other = SystemUserFactory(integration=True), SystemUserFactory()

    def change(key, name):
        from p2c.records import writing_as

        with writing_as(other.pk):
            Account.objects.filter(pk=key).update(name=name)

    def delete(key):
        Account.objects.get(pk=key).delete()

    return SideKit(side=DjangoSide(Account), name_field="name", unique_field="account_number", writer=integration.pk,
                   other_writer=other.pk, knows_writers=True, change_outside=change, delete_outside=delete)


def dataverse_kit(request):
    """crm.Account reached over HTTP: `DataverseSide` signed in with client credentials to a p2c process serving the
    Dataverse Web API over HTTPS (on this run's databases: PostgreSQL, or SQLite in a file). Someone else changes
    and deletes rows through the Web API too, as another Sales user; the accounts are deleted after each test."""
    from crm.models import Account
    from integration.engine.sides.dataverse import DataverseSide
    from tests.integration.sales_api.server import accounts_delete

    served = request.getfixturevalue("sales_web_api")
    monkeypatch = request.getfixturevalue("monkeypatch")
    side = DataverseSide(Account, served.transport(monkeypatch))
    someone_else = served.someone_else(monkeypatch)
    accounts_delete(someone_else)
    request.addfinalizer(side.transport.close)
    request.addfinalizer(lambda: accounts_delete(someone_else))

    def change(key, name):
        assert someone_else.request("PATCH", f"accounts({key})", json={"name": name}, headers={"If-Match": "*"},
                                    what="test").status_code == 204

    def delete(key):
        assert someone_else.request("DELETE", f"accounts({key})", what="test").status_code == 204

    other_id = uuid.UUID(someone_else.who_am_i())
    return SideKit(side=side, name_field="name", unique_field="account_number", writer=side.user_id,
                   other_writer=other_id, knows_writers=True, change_outside=change, delete_outside=delete)


dataverse_kit.served = True  # by another process

KITS = {
    "memory": memory_kit,
    "django-one-database": django_erp_kit,
    # its id says where it runs: CI's PostgreSQL pass has Sales in a database of its own
    "django-sales-" + ("two-databases" if sales_separate() else "one-database"): django_sales_kit,
    "dataverse-web-api": dataverse_kit,
}


def kit_params(names):
    """The kits ``names`` as the parameters of a ``kit`` fixture, each with what it needs of the test: the test's
    database transaction for a side in this process; none for a side served by another process (which commits what
    it does, and the kit cleans up), which must not wait for it: on SQLite the transaction holds the file's write lock
    until the test ends. A served side skips on an in-memory SQLite database (`make test` runs it again on a file)."""
    return [pytest.param(name, marks=pytest.mark.child_process if getattr(KITS[name], "served", False)
                         else pytest.mark.django_db) for name in names]


def kit_made(request):
    make = KITS[request.param]
    return make(request) if getattr(make, "served", False) else make()


def kit_database(kit):
    side = kit.side
    return database_for(side.model) if isinstance(side, DjangoSide) else None


def insert(kit, *numbers, names=None):
    """Insert rows numbered ``numbers`` with keys the side chose beforehand; their keys, in order."""
    side = kit.side
    keys = side.new_keys(len(numbers))
    names = names or [None] * len(numbers)
    answers = side.write(inserts=[(key, kit.values(n, name)) for key, n, name in zip(keys, numbers, names,
                                                                                      strict=True)],
                         writer=kit.writer)
    assert all(answer.ok for answer in answers), answers
    return [answer.key for answer in answers]
