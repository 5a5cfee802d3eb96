"""The assisted set-up (integration/admin/wizard.py): steps kept in the session, defaults applied at the end, the
review page opened, couplings kept when it runs again, and permissions."""

import json

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from crm.models import Account, SystemUser
from erp.models import Customer
from integration import task_names
from integration.coupling.couplings import coupling_create, coupling_for
from integration.models import ConnectionSetup, IntegrationTableMapping
from tests.integration.helpers import THIS_DATABASE, WIZARD, walk

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def test_wizard_sets_up_the_connection_and_the_default_mappings_then_opens_the_review(superuser_client):
    user = SystemUser.objects.create(fullname="Integration", access_mode="integration")
    response = walk(superuser_client, user)
    assert response.url == reverse("admin:integration_full_sync_review")
    setup = ConnectionSetup.get_solo()
    assert setup.is_enabled and setup.integration_user == user
    assert setup.sales_order_integration_enabled and setup.item_availability_enabled
    assert IntegrationTableMapping.objects.filter(name="CUSTOMER").exists()


def scheduled():
    """The recurring synchronisations as (name, task, interval in minutes, mapping id, enabled)."""
    from django_celery_beat.models import PeriodicTask

    tasks = PeriodicTask.objects.filter(name__startswith="Synchronize ").select_related("interval")
    return {(t.name, t.task, t.interval.every, t.interval.period, json.loads(t.kwargs)["mapping_id"], t.enabled)
            for t in tasks}


def test_wizard_schedules_the_enabled_mappings_at_the_chosen_interval(superuser_client):
    user = SystemUser.objects.create(fullname="Integration", access_mode="integration")
    walk(superuser_client, user, every_minutes=15)
    enabled = IntegrationTableMapping.objects.filter(is_enabled=True, parent=None)
    assert enabled.filter(name="CUSTOMER").exists()
    expected = {(f"Synchronize {m.name}", task_names.SYNCHRONIZE_MAPPING, 15, "minutes", m.pk, True)
                for m in enabled}
    assert scheduled() == expected  # one each; none for a child or a disabled mapping
    assert IntegrationTableMapping.objects.exclude(pk__in=enabled).exists()

    walk(superuser_client, user, every_minutes=60, full_sync=False)  # run again: the interval changes, no duplicate
    enabled = IntegrationTableMapping.objects.filter(is_enabled=True, parent=None)
    assert scheduled() == {(f"Synchronize {m.name}", task_names.SYNCHRONIZE_MAPPING, 60, "minutes", m.pk, True)
                           for m in enabled}


def test_wizard_back_keeps_the_answers(superuser_client):
    user = SystemUser.objects.create(fullname="Integration", access_mode="integration")
    url = reverse(WIZARD)
    superuser_client.post(url, THIS_DATABASE)
    superuser_client.post(url, {"connection-is_enabled": "on", "connection-integration_user": str(user.pk)})
    superuser_client.post(url, {"back": "Back"})
    page = superuser_client.get(url)
    assert page.context["step"] == "connection"
    assert str(page.context["form"].initial["integration_user"]) == str(user.pk)


def test_wizard_requires_an_integration_user(superuser_client):
    superuser_client.post(reverse(WIZARD), THIS_DATABASE)
    response = superuser_client.post(reverse(WIZARD), {"connection-is_enabled": "on"})
    assert response.status_code == 200 and response.context["form"].errors


def test_running_the_wizard_again_keeps_the_couplings(superuser_client, mappings):
    account = Account.objects.create(name="Kept", customer_type_code="customer")
    customer = Customer.objects.create(name="Kept")
    coupling_create(erp_record=customer, crm_record=account)
    mappings["CUSTOMER"].field_mappings.filter(erp_field="email").delete()
    user = ConnectionSetup.get_solo().integration_user
    response = walk(superuser_client, user, full_sync=False)
    assert response.url == reverse("admin:integration_connectionsetup_changelist")
    assert coupling_for(account).erp_id == customer.pk
    assert mappings["CUSTOMER"].field_mappings.filter(erp_field="email").exists()  # defaults restored


def test_wizard_is_refused_without_the_permissions(client):
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="change_connectionsetup"))
    client.force_login(user)
    assert client.get(reverse(WIZARD)).status_code == 403
    assert client.post(reverse(WIZARD), {"connection-is_enabled": "on"}).status_code == 403


def test_one_finish_of_the_set_up_is_one_change_set_that_says_the_connection_was_enabled(superuser_client):
    """The configuration history after one Finish: at most 5 change sets (one here), its first line the connection
    enabled; each field's change inside it; the list filtered by door, user and table mapping; in French too."""
    from integration.models import ConfigurationChange, ConfigurationChangeSet

    user = SystemUser.objects.create(fullname="Integration", access_mode="integration")
    walk(superuser_client, user)
    sets = list(ConfigurationChangeSet.objects.all())
    assert 1 <= len(sets) <= 5
    newest = sets[0]
    assert newest.changes == ConfigurationChange.objects.filter(batch=newest.batch).count() > 100
    listed = superuser_client.get(reverse("admin:integration_configurationchangeset_changelist"),
                                  HTTP_ACCEPT_LANGUAGE="en").content.decode()
    summary = listed[listed.index('class="field-summary"'):]
    summary = summary[summary.index(">") + 1:summary.index("</")]
    assert summary.split(";")[0].split(">")[-1] == "Connection enabled", summary
    assert "table mappings reset to their defaults" in summary
    page = superuser_client.get(reverse("admin:integration_configurationchangeset_change", args=[newest.pk]),
                                HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Connexion activée" in page and "is_enabled" in page  # each field's change inside it
    for query in ("door=wizard", "username=root", "mapping_name=CUSTOMER"):
        found = superuser_client.get(reverse("admin:integration_configurationchangeset_changelist") + "?" + query)
        assert found.status_code == 200 and "Connection enabled" in found.content.decode(), query
    empty = superuser_client.get(reverse("admin:integration_configurationchangeset_changelist") + "?door=api")
    assert "Connection enabled" not in empty.content.decode()
