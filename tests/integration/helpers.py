"""Helpers the integration's tests share (and the browser tests and benchmarks read): commands run in-process, admin
list actions, a full synchronisation started, the catalogues' strings, a few conflicts. Fixtures are in conftest.py."""

import functools
import re
from io import StringIO

import django
import polib
from django.contrib.admin import helpers
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from crm.models import Account
from erp.models import Customer
from integration.engine.sync import mapping_synchronize
from integration.full_sync.run import full_sync_start
from integration.models import Coupling, SyncConflict
from p2c.catalogues import po_path
from tests.admin_helpers import admin_url

# The assisted set-up, and its first step's answer: Sales in this database.
WIZARD = "admin:integration_setup_wizard"
THIS_DATABASE = {"sales-sales_location": "database", "sales-sales_api_sign_in": "entra"}

# An account as the CUSTOMER mapping's filter takes it.
ACTIVE = {"customer_type_code": "customer", "state_code": "active"}


def call(*args):
    """Run a management command in-process: (exit code, what it wrote out, what it wrote on stderr)."""
    out, err = StringIO(), StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    except CommandError as exc:  # what manage.py prints, exiting with its returncode
        code = exc.returncode
        err.write(str(exc))
    return code, out.getvalue(), err.getvalue()


def run_action(client, model, action, ids, extra=None, select_across=False):
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [str(i) for i in ids], "index": "0"}
    if select_across:
        data["select_across"] = "1"
    if extra is not None:  # the intermediate page posts without "index", as contrib.admin's delete_selected does
        data.pop("index")
        data["post"] = "yes"
        data.update(extra)
    return client.post(admin_url(model, "changelist"), data)


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def lines_by_name(run):
    return {line.mapping_name: line for line in run.lines.all()}


def run_start(django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        run = full_sync_start(**kwargs).jobs[0]
    run.refresh_from_db()
    return run


@functools.cache
def english_strings(lang):
    """English text → its translation in ``lang``, where they differ: ours and Django's admin (singular forms)."""
    site = django.__path__[0]
    strings = {}
    for path in (f"{site}/contrib/admin/locale/{lang}/LC_MESSAGES/django.mo",
                 f"{site}/conf/locale/{lang}/LC_MESSAGES/django.mo", po_path(lang).with_suffix(".mo")):
        for entry in polib.mofile(str(path)):
            # words only: punctuation such as ":" is no string a person reads
            if re.search("[A-Za-z]{2}", entry.msgid) and not entry.msgid_plural and entry.msgstr != entry.msgid:
                strings[entry.msgid] = entry.msgstr
    return strings


def pairs_in_conflict(mapping, salesperson, n):
    """``n`` coupled customers, each then given a new phone number on both sides: ``n`` update conflicts."""
    mapping.sync_only_coupled = False
    mapping.save()
    for i in range(n):
        Customer.objects.create(name=f"Customer {i}", salesperson=salesperson, phone_no=f"+46 8 {i:03}")
    mapping_synchronize(mapping=mapping)
    for coupling in Coupling.objects.filter(erp_model="erp.Customer"):
        customer = Customer.objects.get(pk=coupling.erp_id)
        customer.phone_no = f"ERP {customer.pk}"
        customer.save()
        account = Account.objects.get(pk=coupling.crm_id)
        account.telephone1 = f"Sales {customer.pk}"
        account.save()
    mapping.refresh_from_db()
    mapping_synchronize(mapping=mapping)
    return list(SyncConflict.objects.order_by("pk"))


def walk(client, user, *, sales_orders=True, defaults=True, full_sync=True, every_minutes=15):
    """Walk the assisted set-up as ``client``, ``user`` its integration user: the last step's response."""
    url = reverse(WIZARD)
    assert client.get(url).status_code == 200
    steps = [
        THIS_DATABASE,
        {"connection-is_enabled": "on", "connection-integration_user": str(user.pk)},
        {"synchronize-sales_order_integration_enabled": "on" if sales_orders else "",
         "synchronize-item_availability_enabled": "on"},
        {"defaults-use_default_setup": "on" if defaults else "", "defaults-every_minutes": str(every_minutes)},
        {"finish-run_full_sync": "on" if full_sync else ""},
    ]
    response = None
    for data in steps:
        response = client.post(url, {k: v for k, v in data.items() if v})
        assert response.status_code == 302, response.content.decode()[:3000]
    return response
