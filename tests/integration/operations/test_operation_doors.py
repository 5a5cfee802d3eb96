"""Door parity (docs/decisions.md#one-operation-every-door): each coupling and synchronisation operation
(integration.operations) started from the admin action, the API, the management command (and the Celery task where there
is one) on the same arranged data tells the same outcome (the same counts and reasons, or the same refusal), at the
door's own level (admin message level, HTTP status, exit code), and writes the same records.

Each door runs inside a savepoint that is rolled back afterwards, so every door starts from the same data; the
work it queued runs (Celery's eager mode) before its effects are read.
"""

import re
from dataclasses import dataclass, field
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.core.management.base import CommandError

from crm.models import Account, TransactionCurrency
from erp.models import Currency, Customer
from integration.coupling.couplings import coupling_create, coupling_for
from integration.models import ConnectionSetup, Coupling, IntegrationTableMapping, SyncJob
from integration.tasks import synchronize_mapping_task
from tests.databases import rolled_back
from tests.integration.helpers import ACTIVE, run_action

pytestmark = pytest.mark.django_db

LEVELS = {25: "success", 30: "warning", 40: "error", 20: "info"}
# An outcome's summary opens with its verb; anything else in an admin message is a refusal.
OUTCOME = re.compile(r"^(Synchronise( \S+)?|Create in \w+|Set up coupling|Match-based coupling|Delete coupling|"
                     r"Restore skipped records|Retry failed records): ")


@dataclass
class Told:
    """What one door said: ``refused`` (the whole request) or not, the text (the outcome's summary without the
    job links, or the refusal's reason) and the door's own code (admin level, HTTP status, exit code)."""

    refused: bool
    text: str
    code: object
    effects: object = field(default=None)


def _plain(text):
    text = re.sub(r"<[^>]+>", "", str(text))
    return text.split(" Jobs: ")[0].strip()


def told_by_admin(response):
    if response.status_code == 403:  # the list offers no coupling action: no enabled mapping couples its records
        return Told(True, "not offered", 403)
    messages = list(get_messages(response.wsgi_request))
    if response.status_code == 200 and not messages:  # the page again, with the form's error
        form = response.context["form"]
        return Told(True, " ".join(e for errors in form.errors.values() for e in errors), "form")
    assert len(messages) == 1, [str(m) for m in messages]  # one message per action
    text = _plain(messages[0])
    return Told(not OUTCOME.match(text), text, LEVELS[messages[0].level])


def told_by_api(response):
    body = response.json()
    if response.status_code in (400, 409):
        return Told(True, body["detail"], response.status_code)
    return Told(False, _plain(body["summary"]), response.status_code)


def told_by_command(*args, verb):
    out, err = StringIO(), StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        code = exc.returncode
        if not verb or verb not in out.getvalue() + err.getvalue():
            return Told(True, str(exc), code)
    lines = (out.getvalue() + err.getvalue()).splitlines()
    return Told(False, _plain(next(line for line in lines if line.startswith(verb))), code)


def told_by_task(mapping, **kwargs):
    result = synchronize_mapping_task.apply(args=[mapping.pk], kwargs=kwargs).get()
    if "skipped" in result:
        return Told(True, result["skipped"], "skipped")
    return Told(False, _plain(result["summary"]), "ran")


def each_door(doors, effects, capture):
    """Start the operation from every door of ``doors`` ({name: start}), each from the same data (a savepoint
    rolled back after it); read ``effects()`` once its queued work ran."""
    told = {}
    for name, start in doors.items():
        with rolled_back():
            with capture(execute=True):
                said = start()
            said.effects = effects()
        told[name] = said
    return told


def assert_same(told, *, doors=None):
    """The doors (all, or those named) said the same thing and wrote the same records. An admin list whose
    records no enabled mapping couples offers no coupling action at all (403): it is left out."""
    chosen = {name: told[name] for name in (doors or told) if told[name].code != 403}
    assert len({t.text for t in chosen.values()}) == 1, {n: t.text for n, t in chosen.items()}
    assert len({t.refused for t in chosen.values()}) == 1, {n: t.refused for n, t in chosen.items()}
    assert len({repr(t.effects) for t in chosen.values()}) == 1, {n: t.effects for n, t in chosen.items()}


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


@pytest.fixture
def world(mappings, salesperson_pair):
    salesperson, user = salesperson_pair
    account = Account.objects.create(name="Proseware", telephone1="1", owner=user, **ACTIVE)
    customer = Customer.objects.create(name="Proseware", phone_no="2", salesperson=salesperson)
    coupling_create(erp_record=customer, crm_record=account)
    loose_customer = Customer.objects.create(name="Loose", phone_no="3", salesperson=salesperson)
    loose_account = Account.objects.create(name="Wide World", owner=user, **ACTIVE)
    currency = Currency.objects.create(code="EUR", description="Euro")
    sales_currency = TransactionCurrency.objects.create(iso_currency_code="EUR", currency_name="Euro")
    coupling_create(erp_record=currency, crm_record=sales_currency)
    return {"mappings": mappings, "customer": customer, "account": account, "loose_customer": loose_customer,
            "loose_account": loose_account, "currency": currency, "sales_currency": sales_currency}


def refuse(world, case):
    """Arrange a refusal: the connection disabled, the mapping disabled."""
    if case == "connection":
        ConnectionSetup.objects.update(is_enabled=False)
    elif case == "mapping":
        IntegrationTableMapping.objects.filter(name="CUSTOMER").update(is_enabled=False)


def jobs():
    return sorted(SyncJob.objects.values_list("mapping_name", "direction", "status"))


# -- synchronise now -------------------------------------------------------------------------------------------------
def sync_now_doors(client, api, model, record, direction, *, admin_direction=True):
    url = {Customer: f"/api/erp/customers/{record.pk if model is not Customer else record.no}/synchronize/",
           Currency: f"/api/erp/currencies/{getattr(record, 'code', '')}/synchronize/"}[model]
    form = {"p2c-submit": "Synchronise", **({"p2c-direction": direction} if direction and admin_direction else {})}
    doors = {
        "admin": lambda: told_by_admin(run_action(client, model, "synchronize_now", [record.pk], form)),
        "api": lambda: told_by_api(api.post(url, {"direction": direction or ""}, format="json")),
        "command": lambda: told_by_command("sync", "--model", model._meta.label, "--ids", str(record.pk),
                                           *(["--direction", direction] if direction else []),
                                           verb="Synchronise now"),
    }
    if not admin_direction:
        doors.pop("admin")  # the admin offers no direction a mapping lacks
    return doors


def test_synchronise_now_one_coupled_record_is_sent_from_every_door(world, admin_client, api,
                                                                   django_capture_on_commit_callbacks):
    customer, account = world["customer"], world["account"]
    told = each_door(sync_now_doors(admin_client, api, Customer, customer, "send"),
                     lambda: (Account.objects.get(pk=account.pk).telephone1, jobs()),
                     django_capture_on_commit_callbacks)
    assert_same(told)
    assert told["admin"].text == ("Synchronise now: 1 queued. The synchronisation has been scheduled for 1 of 1 "
                                  "record. 0 records failed. 0 records were skipped.")
    assert told["admin"].effects == ("2", [("CUSTOMER", "to_integration", "success")])
    assert (told["admin"].code, told["api"].code, told["command"].code) == ("success", 202, 0)


@pytest.mark.parametrize("only_coupled", [True, False])
def test_synchronise_now_refuses_an_uncoupled_record_from_every_door(world, admin_client, api,
                                                                    django_capture_on_commit_callbacks, only_coupled):
    """BC: Synchronize Now on an uncoupled record opens the coupling dialog (several: skipped), whatever *Synch.
    Only Coupled Records* says; creating it is *Create in Sales*. The API used to insert and couple it; a refusal
    by the record's state is a 409 with its code (docs/decisions.md#the-two-apis)."""
    IntegrationTableMapping.objects.filter(name="CUSTOMER").update(sync_only_coupled=only_coupled)
    loose = world["loose_customer"]
    told = each_door(sync_now_doors(admin_client, api, Customer, loose, None),
                     lambda: (Account.objects.count(), coupling_for(loose), jobs()),
                     django_capture_on_commit_callbacks)
    assert_same(told)
    assert "(Loose) is not coupled: set up a coupling, or use Create in Sales." in told["api"].text
    assert told["api"].effects == (2, None, [])
    assert (told["admin"].code, told["api"].code, told["command"].code) == ("error", 409, 1)


@pytest.mark.parametrize("case, status", [("connection", 409), ("mapping", 409), ("direction", 409)])
def test_synchronise_now_is_refused_the_same_way_from_every_door(world, admin_client, api,
                                                                django_capture_on_commit_callbacks, case, status):
    refuse(world, case)
    if case == "direction":  # CURRENCY goes ERP → Sales only
        doors = sync_now_doors(admin_client, api, Currency, world["currency"], "get", admin_direction=False)
    else:
        doors = sync_now_doors(admin_client, api, Customer, world["customer"], "send")
    told = each_door(doors, jobs, django_capture_on_commit_callbacks)
    assert_same(told)
    assert all(t.refused for t in told.values()) and told["api"].code == status and told["command"].code == 1
    assert told["api"].effects == []
    assert "admin" not in told or told["admin"].code in ("error", 403)


def test_synchronise_now_of_several_records_skips_those_whose_target_holds_newer_data(
        world, admin_client, api, django_capture_on_commit_callbacks):
    from integration.engine.sync import mapping_synchronize

    customer, account = world["customer"], world["account"]
    other_account = Account.objects.create(name="Other", owner=account.owner, **ACTIVE)
    other = Customer.objects.create(name="Other", salesperson=world["customer"].salesperson)
    coupling_create(erp_record=other, crm_record=other_account)
    mapping_synchronize(mapping=world["mappings"]["CUSTOMER"], direction="to_integration", only_ids=[customer.pk,
                                                                                                     other.pk])
    Account.objects.filter(pk=account.pk).first().save()  # the Sales side changed after the synchronisation
    ids = [customer.pk, other.pk]
    doors = {
        "admin": lambda: told_by_admin(run_action(admin_client, Customer, "synchronize_now", ids,
                                                  {"p2c-direction": "send", "p2c-submit": "Synchronise"})),
        "command": lambda: told_by_command("sync", "--model", "erp.Customer", "--ids", *map(str, ids),
                                           "--direction", "send", verb="Synchronise now"),
    }
    told = each_door(doors, lambda: len(SyncJob.objects.filter(status="queued")), django_capture_on_commit_callbacks)
    assert_same(told)
    assert "Proseware): the Sales record holds newer data" in told["admin"].text
    assert "scheduled for 1 of 2 records. 0 records failed. 1 record was skipped." in told["admin"].text
    assert told["admin"].code == "warning" and told["command"].code == 0
    # Merge is for one record; several need a direction.
    refused = told_by_command("sync", "--model", "erp.Customer", "--ids", *map(str, ids), "--direction", "merge",
                              verb="")
    assert refused.refused and refused.code == 1 and "one record" in refused.text


@pytest.mark.parametrize("direction, directions", [("get", ["from_integration"]),
                                                   ("merge", ["from_integration", "to_integration"])])
def test_synchronise_now_one_record_get_or_merge_from_every_door(world, admin_client, api,
                                                                django_capture_on_commit_callbacks, direction,
                                                                directions):
    page = run_action(admin_client, Customer, "synchronize_now", [world["customer"].pk])
    assert "Merge data" in page.content.decode()  # one record of a bidirectional mapping: Send, Get and Merge
    told = each_door(sync_now_doors(admin_client, api, Customer, world["customer"], direction),
                     lambda: sorted(SyncJob.objects.values_list("direction", flat=True)),
                     django_capture_on_commit_callbacks)
    assert_same(told)
    assert told["api"].effects == directions and told["api"].text.startswith("Synchronise now: 1 queued.")


def test_synchronise_now_preselects_the_side_that_changed(world):
    from integration.engine.sync import mapping_synchronize
    from integration.operations import synchronize_now_choices

    customer, account = world["customer"], world["account"]
    assert synchronize_now_choices(model=Customer, ids=[customer.pk]) == (["send", "get", "merge"], "merge")
    mapping_synchronize(mapping=world["mappings"]["CUSTOMER"], only_ids=None, full=True)
    Account.objects.get(pk=account.pk).save()
    assert synchronize_now_choices(model=Customer, ids=[customer.pk])[1] == "get"  # only Sales changed
    mapping_synchronize(mapping=world["mappings"]["CUSTOMER"], full=True)
    Customer.objects.get(pk=customer.pk).save()
    assert synchronize_now_choices(model=Account, ids=[account.pk])[1] == "send"  # only the ERP changed
    assert synchronize_now_choices(model=Customer, ids=[customer.pk, world["loose_customer"].pk]) == (
        ["send", "get"], "send")
    assert synchronize_now_choices(model=Currency, ids=[world["currency"].pk]) == ([], None)  # one-way: no choice


# -- synchronise a mapping -------------------------------------------------------------------------------------------
def sync_mapping_doors(client, api, mapping, direction=None, *, admin=True):
    doors = {
        "admin": lambda: told_by_admin(run_action(client, IntegrationTableMapping, "synchronize_modified",
                                                  [mapping.pk])),
        "api": lambda: told_by_api(api.post(f"/api/integration/table-mappings/{mapping.pk}/synchronize/",
                                            {"direction": direction or ""}, format="json")),
        "command": lambda: told_by_command("sync", mapping.name, *(["--direction", direction] if direction else []),
                                           verb=f"Synchronise {mapping.name}"),
        "task": lambda: told_by_task(mapping, direction=direction),
    }
    if not admin:
        doors.pop("admin")
    return doors


def test_synchronise_a_mapping_from_every_door(world, admin_client, api,
                                               django_capture_on_commit_callbacks):
    mapping, account = world["mappings"]["CUSTOMER"], world["account"]
    told = each_door(sync_mapping_doors(admin_client, api, mapping),
                     lambda: (Account.objects.get(pk=account.pk).telephone1,
                              sorted(SyncJob.objects.values_list("direction", "status"))),
                     django_capture_on_commit_callbacks)
    # The same records written; queued (admin, API) or run here (command, task) told alike within each pair.
    assert len({repr(t.effects) for t in told.values()}) == 1, {n: t.effects for n, t in told.items()}
    assert told["admin"].effects[0] == "2"
    assert_same(told, doors=["admin", "api"])
    assert_same(told, doors=["command", "task"])
    assert told["admin"].text == "Synchronise CUSTOMER: 2 queued."
    assert (told["admin"].code, told["api"].code, told["command"].code) == ("success", 202, 0)


@pytest.mark.parametrize("case, status", [("connection", 409), ("mapping", 409), ("direction", 409)])
def test_synchronising_a_mapping_is_refused_the_same_way_from_every_door(
        world, admin_client, api, django_capture_on_commit_callbacks, case, status):
    """A disabled mapping used to give 409 in the API, be dropped silently by the admin and run from `sync`."""
    refuse(world, case)
    if case == "direction":
        doors = sync_mapping_doors(admin_client, api, world["mappings"]["CURRENCY"], "get", admin=False)
    else:
        doors = sync_mapping_doors(admin_client, api, world["mappings"]["CUSTOMER"])
    told = each_door(doors, jobs, django_capture_on_commit_callbacks)
    assert_same(told)
    assert all(t.refused for t in told.values())
    assert told["api"].code == status and told["command"].code == 1 and told["api"].effects == []
    assert "admin" not in told or told["admin"].code == "error"


def test_sync_all_with_a_disabled_connection_runs_nothing_and_exits_1(world):
    ConnectionSetup.objects.update(is_enabled=False)
    told = told_by_command("sync", "--all", verb="")
    assert told.refused and told.code == 1 and "connection is not enabled" in told.text
    assert not SyncJob.objects.exists()


# -- create in the other side -----------------------------------------------------------------------------------------
def create_doors(client, api, model, record):
    url = {Customer: f"/api/erp/customers/{getattr(record, 'no', '')}/create-counterpart/",
           TransactionCurrency: f"/api/crm/transaction-currencies/{record.pk}/create-counterpart/"}[model]
    verb = "Create in Sales" if model is Customer else "Create in ERP"
    return {
        "admin": lambda: told_by_admin(run_action(client, model, "create_in_counterpart", [record.pk],
                                                  {"p2c-submit": "Confirm"})),
        "api": lambda: told_by_api(api.post(url)),
        "command": lambda: told_by_command("create_in_other_side", model._meta.label, str(record.pk), verb=verb),
    }


def test_create_in_sales_from_every_door(world, admin_client, api, django_capture_on_commit_callbacks):
    loose = world["loose_customer"]
    told = each_door(create_doors(admin_client, api, Customer, loose),
                     lambda: (coupling_for(loose) is not None,
                              list(Account.objects.filter(name="Loose").values_list("telephone1", flat=True))),
                     django_capture_on_commit_callbacks)
    assert_same(told)
    assert told["api"].text == ("Create in Sales: 1 queued. The synchronisation has been scheduled for 1 of 1 "
                                "record. 0 records failed. 0 records were skipped.")
    assert told["api"].effects == (True, ["3"])
    assert (told["admin"].code, told["api"].code, told["command"].code) == ("success", 202, 0)


def test_create_in_sales_skips_a_coupled_record_from_every_door(world, admin_client, api,
                                                               django_capture_on_commit_callbacks):
    customer = world["customer"]
    told = each_door(create_doors(admin_client, api, Customer, customer), lambda: Account.objects.count(),
                     django_capture_on_commit_callbacks)
    assert_same(told)
    assert "1 skipped" in told["api"].text and "(Proseware): already coupled" in told["api"].text
    assert told["api"].effects == 2
    assert (told["admin"].code, told["api"].code, told["command"].code) == ("error", 200, 0)


@pytest.mark.parametrize("case, status", [("connection", 409), ("mapping", 409), ("direction", 409)])
def test_create_in_the_other_side_is_refused_the_same_way_from_every_door(
        world, admin_client, api, django_capture_on_commit_callbacks, case, status):
    refuse(world, case)
    if case == "direction":  # CURRENCY goes ERP → Sales only: no ERP currency is created from Sales
        sales_only = TransactionCurrency.objects.create(iso_currency_code="SEK", currency_name="Krona")
        doors = create_doors(admin_client, api, TransactionCurrency, sales_only)
    else:
        doors = create_doors(admin_client, api, Customer, world["loose_customer"])
    told = each_door(doors, lambda: (Account.objects.count(), Currency.objects.count()),
                     django_capture_on_commit_callbacks)
    assert_same(told)
    assert all(t.refused for t in told.values()) and told["api"].code == status and told["command"].code == 1
    assert told["admin"].code in ("error", 403)  # 403: no enabled mapping, the list offers no coupling action


# -- set up coupling ---------------------------------------------------------------------------------------------------
def set_up_doors(client, api, mapping, erp_record, crm_record, then, *, admin=True):
    search = getattr(crm_record, "name", None) or crm_record.currency_name
    form = {"p2c-search": search, "p2c-counterpart": f"{mapping.pk}:{crm_record.pk}",
            "p2c-synchronize": {"send": "to_integration", "get": "from_integration"}.get(then, ""),
            "p2c-submit": "Couple"}
    lookup = getattr(erp_record, "no", None) or erp_record.code
    path = "customers" if isinstance(erp_record, Customer) else "currencies"
    doors = {
        "admin": lambda: told_by_admin(run_action(client, type(erp_record), "couple_set_up", [erp_record.pk], form)),
        "api": lambda: told_by_api(api.post(f"/api/erp/{path}/{lookup}/couple/",
                                            {"crm_id": str(crm_record.pk), "synchronize": then or ""},
                                            format="json")),
        "command": lambda: told_by_command("couple", mapping.name, "--pair", str(erp_record.pk), str(crm_record.pk),
                                           *(["--then", then] if then else []), verb="Set up coupling"),
    }
    if not admin:
        doors.pop("admin")  # the admin offers no direction a mapping lacks
    return doors


def test_set_up_coupling_then_send_from_every_door(world, admin_client, api,
                                                  django_capture_on_commit_callbacks):
    loose, account = world["loose_customer"], world["loose_account"]
    told = each_door(set_up_doors(admin_client, api, world["mappings"]["CUSTOMER"], loose, account, "send"),
                     lambda: (getattr(coupling_for(loose), "crm_id", None) == account.pk,
                              Account.objects.get(pk=account.pk).name, jobs()),
                     django_capture_on_commit_callbacks)
    assert_same(told)
    assert told["api"].text.startswith("Set up coupling: 1 done.") and "Loose is coupled to Account Wide World" in told["api"].text
    assert told["api"].effects == (True, "Loose", [("CUSTOMER", "to_integration", "success")])
    assert (told["admin"].code, told["api"].code, told["command"].code) == ("success", 201, 0)


@pytest.mark.parametrize("case, status", [("connection", 409), ("mapping", 409), ("coupled", 409),
                                          ("direction", 409)])
def test_set_up_coupling_is_refused_the_same_way_from_every_door(
        world, admin_client, api, django_capture_on_commit_callbacks, case, status):
    refuse(world, case)
    mapping = world["mappings"]["CUSTOMER"]
    if case == "direction":
        currency = Currency.objects.create(code="SEK", description="Krona")
        krona = TransactionCurrency.objects.create(iso_currency_code="SEK", currency_name="Krona")
        doors = set_up_doors(admin_client, api, world["mappings"]["CURRENCY"], currency, krona, "get", admin=False)
    elif case == "coupled":  # Proseware is coupled to another account already
        doors = set_up_doors(admin_client, api, mapping, world["customer"], world["loose_account"], None)
    else:
        doors = set_up_doors(admin_client, api, mapping, world["loose_customer"], world["loose_account"], None)
    told = each_door(doors, lambda: Coupling.objects.count(), django_capture_on_commit_callbacks)
    assert_same(told)
    assert all(t.refused for t in told.values()) and told["api"].code == status and told["command"].code == 1
    assert told["api"].effects == 3  # the salesperson's, Proseware's and the currency's
    assert "admin" not in told or told["admin"].code in ("error", "form", 403)


# -- match-based coupling --------------------------------------------------------------------------------------------
@pytest.fixture
def to_match(world):
    salesperson = world["customer"].salesperson
    fabrikam = Customer.objects.create(name="Fabrikam", salesperson=salesperson)
    account = Account.objects.create(name="FABRIKAM", owner=world["account"].owner, **ACTIVE)
    lonely = Customer.objects.create(name="Lonely", salesperson=salesperson)
    return fabrikam, account, lonely


def match_doors(client, api, mapping, model, ids, *, fields=("name",), from_side=None, sync_after=False):
    usable = {fm.erp_field: fm for fm in mapping.field_mappings.all()}
    form = {"p2c-mapping": str(mapping.pk), "p2c-submit": "Couple", **({"p2c-sync_after": "on"} if sync_after else {})}
    for fm in usable.values():
        form[f"p2c-priority_{fm.pk}"] = "1" if fm.erp_field in fields else "0"
        if fm.erp_field in fields:
            form[f"p2c-use_{fm.pk}"] = "on"

    def by_api():
        if fields:  # the API couples on the criteria saved (the admin form and the command save them)
            mapping.field_mappings.update(use_for_match_coupling=False)
            mapping.field_mappings.filter(erp_field__in=fields).update(use_for_match_coupling=True, match_priority=1)
        return told_by_api(api.post(f"/api/integration/table-mappings/{mapping.pk}/couple/",
                                    {"ids": [str(i) for i in ids], "create_new": False, "sync_after": False,
                                     "from_side": from_side}, format="json"))

    return {
        "admin": lambda: told_by_admin(run_action(client, model, "couple_by_match", ids, form)),
        "api": by_api,
        "command": lambda: told_by_command("couple", mapping.name, "--match-on", ",".join(fields), "--ids",
                                           *map(str, ids), *(["--from", "sales"] if from_side == "crm" else []),
                                           verb="Match-based coupling"),
    }


def test_match_based_coupling_from_every_door(world, to_match, admin_client, api,
                                              django_capture_on_commit_callbacks):
    fabrikam, account, lonely = to_match
    mapping = world["mappings"]["CUSTOMER"]
    told = each_door(match_doors(admin_client, api, mapping, Customer, [fabrikam.pk, lonely.pk]),
                     lambda: (getattr(coupling_for(fabrikam), "crm_id", None) == account.pk, coupling_for(lonely)),
                     django_capture_on_commit_callbacks)
    assert_same(told)
    assert told["api"].text.startswith("Match-based coupling: 1 done, 1 failed. CUSTOMER: Failed to couple 1 "
                                       "record, because no unique uncoupled matching entity was found")
    assert told["api"].effects == (True, None)
    # Partly done: a warning (no green tick), a 200 batch answer, exit code 1 (a record failed).
    assert (told["admin"].code, told["api"].code, told["command"].code) == ("warning", 200, 1)


@pytest.mark.parametrize("case, status", [("connection", 409), ("mapping", 409), ("fields", 409), ("side", 409)])
def test_match_based_coupling_is_refused_the_same_way_from_every_door(
        world, to_match, admin_client, api, django_capture_on_commit_callbacks, case, status):
    refuse(world, case)
    fabrikam, _account, lonely = to_match
    if case == "side":  # CURRENCY couples from its ERP records only
        doors = match_doors(admin_client, api, world["mappings"]["CURRENCY"], TransactionCurrency,
                            [world["sales_currency"].pk], fields=("iso_code",), from_side="crm")
    else:
        doors = match_doors(admin_client, api, world["mappings"]["CUSTOMER"], Customer, [fabrikam.pk, lonely.pk],
                            fields=() if case == "fields" else ("name",))
    if case == "fields":  # the admin form and the command save the (empty) criteria, refused; the API couples
        IntegrationTableMapping.objects.get(name="CUSTOMER").field_mappings.update(use_for_match_coupling=False)
        doors["command"] = lambda: told_by_command("couple", "CUSTOMER", "--match-on", ",", verb="")
    told = each_door(doors, lambda: Coupling.objects.count(), django_capture_on_commit_callbacks)
    assert_same(told)
    assert all(t.refused for t in told.values()) and told["api"].code == status and told["command"].code == 1
    assert told["api"].effects == 3


def test_couple_command_with_empty_match_on_changes_nothing(world):
    mapping = world["mappings"]["CUSTOMER"]
    before = list(mapping.field_mappings.order_by("pk").values_list("use_for_match_coupling", "match_priority"))
    told = told_by_command("couple", "CUSTOMER", "--match-on", ",", "--create-new", "--sync", verb="")
    assert told.refused and told.code == 1 and "You must specify which fields" in told.text
    mapping.refresh_from_db()
    assert list(mapping.field_mappings.order_by("pk").values_list("use_for_match_coupling", "match_priority")) == before
    assert (mapping.create_new_if_no_match, mapping.sync_after_match_coupling) == (False, False)


def test_couple_command_keeps_synchronise_after_and_create_new_with_the_criteria(world, to_match):
    told_by_command("couple", "CUSTOMER", "--match-on", "name", "--create-new", "--sync", verb="Match-based")
    mapping = IntegrationTableMapping.objects.get(name="CUSTOMER")
    assert (mapping.create_new_if_no_match, mapping.sync_after_match_coupling) == (True, True)
    assert list(mapping.field_mappings.filter(use_for_match_coupling=True).values_list("erp_field", flat=True)) == [
        "name"]


def test_match_based_coupling_whose_synchronisation_fails_is_a_warning_not_a_success(
        world, admin_client, django_capture_on_commit_callbacks):
    """Seen: a green message with a success tick that read "… Synchronised: 6 failed"."""
    from erp.models import SalespersonPurchaser

    stranger = SalespersonPurchaser.objects.create(code="ZZ", name="Not coupled")
    customer = Customer.objects.create(name="Tailspin", salesperson=stranger)
    Account.objects.create(name="Tailspin", owner=world["account"].owner, **ACTIVE)
    mapping = world["mappings"]["CUSTOMER"]
    mapping.update_conflict_resolution = "send_update"
    mapping.save()
    form_post = match_doors(admin_client, None, mapping, Customer, [customer.pk], sync_after=True)["admin"]
    with django_capture_on_commit_callbacks(execute=True):
        told = form_post()
    assert told.code == "warning", told.text  # coupled, but its synchronisation failed
    assert "1 failed" in told.text and "Synchronised after coupling" in told.text


# -- delete coupling, restore skipped --------------------------------------------------------------------------------
def test_delete_coupling_from_every_door(world, admin_client, api, django_capture_on_commit_callbacks):
    customer = world["customer"]
    doors = {
        "admin": lambda: told_by_admin(run_action(admin_client, Customer, "coupling_remove", [customer.pk],
                                                  {"p2c-submit": "Confirm"})),
        "api": lambda: told_by_api(api.post(f"/api/erp/customers/{customer.no}/uncouple/")),
        "command": lambda: told_by_command("uncouple", "erp.Customer", str(customer.pk), verb="Delete coupling"),
    }
    told = each_door(doors, lambda: (coupling_for(customer), Account.objects.count()),
                     django_capture_on_commit_callbacks)
    assert_same(told)
    assert told["api"].text == "Delete coupling: 1 done." and told["api"].effects == (None, 2)
    assert (told["admin"].code, told["api"].code, told["command"].code) == ("success", 200, 0)


def test_delete_coupling_of_a_coupled_and_an_uncoupled_record_is_a_warning(world, admin_client):
    response = run_action(admin_client, Customer, "coupling_remove", [world["customer"].pk,
                                                                      world["loose_customer"].pk],
                          {"p2c-submit": "Confirm"})
    told = told_by_admin(response)
    assert told.code == "warning" and "1 done, 1 skipped" in told.text and "(Loose): not coupled" in told.text


def test_restore_skipped_from_the_admin_and_the_api(world, admin_client, api,
                                                    django_capture_on_commit_callbacks):
    coupling = coupling_for(world["customer"])
    Coupling.objects.filter(pk=coupling.pk).update(skipped=True)
    mapping = world["mappings"]["CUSTOMER"]
    doors = {
        "admin": lambda: told_by_admin(run_action(admin_client, Coupling, "skipped_restore", [coupling.pk])),
        "api": lambda: told_by_api(api.post(f"/api/integration/table-mappings/{mapping.pk}/restore-skipped/")),
    }
    told = each_door(doors, lambda: Coupling.objects.get(pk=coupling.pk).skipped, django_capture_on_commit_callbacks)
    assert_same(told)
    assert told["api"].text == "Restore skipped records: 1 done." and told["api"].effects is False


def test_retry_of_records_of_a_disabled_mapping_is_refused_per_record(world, admin_client):
    job = SyncJob.objects.create(table_mapping=world["mappings"]["CUSTOMER"], mapping_name="CUSTOMER",
                                 direction="to_integration", status="error", failed=1)
    job.errors.create(source_model="erp.Customer", source_id=str(world["customer"].pk), message="Broken")
    IntegrationTableMapping.objects.filter(name="CUSTOMER").update(is_enabled=False)
    told = told_by_admin(run_action(admin_client, SyncJob, "jobs_retry", [job.pk]))
    assert told.code == "error" and "1 refused" in told.text and "disabled" in told.text
    assert SyncJob.objects.count() == 1


# -- command arguments -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, says", [
    (("sync", "CUSTOMER", "--all"), "Mapping names and --all exclude each other"),
    (("sync",), "Name one or more mappings, or use --all"),
    (("sync", "NOPE"), "No such mapping: NOPE"),
    (("sync", "CUSTOMER", "--wait", "-3"), "--wait"),
    (("sync", "--model", "erp.Customer"), "--model and --ids go together"),
    (("sync", "--model", "erp.Nope", "--ids", "1"), "No such table: erp.Nope"),
    (("sync", "--model", "erp.Customer", "--ids", "x"), "Not a valid id for Customer"),
    (("couple", "CUSTOMER", "--then", "send"), "--then goes with --pair"),
    (("couple", "CUSTOMER", "--pair", "x", "y"), "ERP_ID: no Customer with id x"),
])
def test_command_argument_errors_name_what_is_wrong(world, args, says):
    with pytest.raises(CommandError, match=re.escape(says)):
        call_command(*args, stdout=StringIO(), stderr=StringIO())


# -- constant queries ------------------------------------------------------------------------------------------------
def test_synchronise_now_reads_in_a_constant_number_of_queries(world, django_capture_on_commit_callbacks):
    """Which side changed is read per chunk (two queries), not per record: 5 and 40 records cost the same."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from integration.operations import synchronize_now

    owner, salesperson = world["account"].owner, world["customer"].salesperson
    customers = []
    for n in range(40):
        customer = Customer.objects.create(name=f"Many {n}", salesperson=salesperson)
        coupling_create(erp_record=customer, crm_record=Account.objects.create(name=f"Many {n}", owner=owner,
                                                                               **ACTIVE))
        customers.append(customer.pk)
    counts = []
    for ids in (customers[:5], customers):
        with django_capture_on_commit_callbacks(), CaptureQueriesContext(connection) as queries:
            outcome = synchronize_now(model=Customer, ids=ids, direction="send")
        assert outcome.counts["queued"] == len(ids)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
