"""Admin extensions (p2c/admin_extensions.py): what an app above adds to a Sales or ERP admin is asked on each
request, not built into the admin classes, so an extension registered after those classes were made still shows."""

import pytest
from django.contrib import admin

from crm.models import Account
from p2c import extensions
from p2c.admin_extensions import AdminExtension
from tests.admin_helpers import admin_url, make_row

pytestmark = pytest.mark.django_db


class ShoutedName(AdminExtension):
    display_methods = ("shouted_name",)

    def get_list_display(self, request, list_display):
        return (*list_display, "shouted_name")

    @admin.display(description="Shouted name")
    def shouted_name(self, account):
        return account.name.upper()


def test_an_extension_registered_after_the_admin_classes_were_made_shows_on_the_next_page(admin_client, monkeypatch):
    make_row(Account, name="Contoso Ltd")
    model_admin = admin.site.get_model_admin(Account)
    monkeypatch.setitem(extensions._registry, (extensions.ADMIN_EXTENSION, Account), [ShoutedName])
    monkeypatch.delitem(model_admin.__dict__, "_admin_extensions", raising=False)  # made again, as on a new process

    page = admin_client.get(admin_url(Account, "changelist")).content.decode()

    assert "Shouted name" in page
    assert '<td class="field-shouted_name">CONTOSO LTD</td>' in page


def test_the_sales_and_erp_admin_classes_hold_none_of_the_integration_s_classes():
    # What the integration adds is asked for on each request: nothing of it is a base of an admin class.
    for model_admin in admin.site._registry.values():
        if model_admin.opts.app_label in ("crm", "erp"):
            assert not [cls for cls in type(model_admin).__mro__ if cls.__module__.startswith("integration")]
