"""Conflicts where the user looks (docs/decisions.md#messages-stored-as-what-they-mean): a record whose coupling is in
the conflict inbox says "Conflict" in the coupling column, linked to the conflict, and its filter finds it; the error of
its failed write links there too."""

import pytest
from django.urls import reverse

from crm.models import Account
from erp.models import Customer
from integration.engine.sync import mapping_synchronize
from integration.models import Coupling, SyncConflict, SyncJob, SyncJobError

pytestmark = pytest.mark.django_db


@pytest.fixture
def conflict(mappings, salesperson_pair):
    """Two coupled pairs; one changed on both sides since: in the conflict inbox."""
    salesperson, _ = salesperson_pair
    mapping = mappings["CUSTOMER"]
    mapping.sync_only_coupled = False
    mapping.save()
    for i in range(2):
        Customer.objects.create(name=f"Adatum {i}", salesperson=salesperson, phone_no=f"+46 8 00{i}")
    mapping_synchronize(mapping=mapping)
    customer = Customer.objects.get(name="Adatum 0")
    account = Account.objects.get(pk=Coupling.objects.get(erp_model="erp.Customer", erp_id=customer.pk).crm_id)
    customer.phone_no, account.telephone1 = "+46 8 111", "+46 8 222"
    customer.save()
    account.save()
    mapping.refresh_from_db()
    mapping_synchronize(mapping=mapping)
    return SyncConflict.objects.get(), customer, account


@pytest.mark.parametrize("model", ["erp_customer", "crm_account"])
def test_the_coupling_column_says_conflict_and_links_to_it(admin_client, conflict, model):
    entry, customer, account = conflict
    url = reverse(f"admin:{model}_changelist")
    page = admin_client.get(url).content.decode()
    link = reverse("admin:integration_syncconflict_change", args=[entry.pk])
    assert f'href="{link}">Conflict</a>' in page
    assert page.count('class="p2c-conflict"') == 1
    assert "p2c-failed" not in page  # a conflict is not told as a failure

    filtered = admin_client.get(url, {"coupling": "conflict"}).content.decode()
    record = customer if model == "erp_customer" else account
    assert record.name in filtered and "Adatum 1" not in filtered
    french = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert f'href="{link}">Conflit</a>' in french


def test_the_error_page_of_a_record_in_conflict_links_to_it(admin_client, conflict):
    entry, customer, account = conflict
    # The write that met the conflict, as an error of its job (a failed update names its source record).
    SyncJobError.objects.create(job=SyncJob.objects.order_by("-pk").first(), source_model="erp.Customer",
                                source_id=str(customer.pk), message="Cannot update a record in the Customer table")
    SyncJobError.objects.create(job=SyncJob.objects.order_by("-pk").first(), source_model="erp.Customer",
                                source_id=str(Customer.objects.get(name="Adatum 1").pk), message="Another failure")
    errors = SyncJobError.objects.filter(source_id__in=[str(customer.pk), str(account.pk)])
    assert errors
    link = reverse("admin:integration_syncconflict_change", args=[entry.pk])
    for error in errors:
        page = admin_client.get(reverse("admin:integration_syncjoberror_change", args=[error.pk])).content.decode()
        assert f'href="{link}"' in page
    other = SyncJobError.objects.get(message="Another failure")
    assert link not in admin_client.get(
        reverse("admin:integration_syncjoberror_change", args=[other.pk])).content.decode()


def test_a_record_page_shows_its_coupling_and_the_tools_for_it(admin_client, conflict):
    entry, _customer, account = conflict
    other = Customer.objects.get(name="Adatum 1")
    other_account = Account.objects.get(pk=Coupling.objects.get(erp_model="erp.Customer", erp_id=other.pk).crm_id)
    page = admin_client.get(reverse("admin:erp_customer_change", args=[other.pk])).content.decode()
    coupling = page[page.index('id="p2c-record-coupling"'):]
    coupling = coupling[:coupling.index("</p>")]
    assert "Coupled" in coupling and reverse("admin:crm_account_change", args=[other_account.pk]) in coupling
    for action in ("synchronize_now", "couple_set_up", "create_in_counterpart", "coupling_remove"):
        assert f'name="action" value="{action}"' in page, action
    disputed = admin_client.get(reverse("admin:crm_account_change", args=[account.pk])).content.decode()
    assert reverse("admin:integration_syncconflict_change", args=[entry.pk]) in disputed

    # Synchronise now, from the record's page: the list's action for this record, asking the direction.
    asked = admin_client.post(reverse("admin:erp_customer_changelist"),
                              {"action": "synchronize_now", "index": "0", "_selected_action": [str(other.pk)]})
    assert asked.status_code == 200 and 'name="p2c-direction"' in asked.content.decode()
    assert f'name="_selected_action" value="{other.pk}"' in asked.content.decode()
