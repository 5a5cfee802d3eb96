"""docs/features.md P4: customer group default 10, language en-us, site and warehouse with no template value but a
default or a value map keyed on country/region or city; a required value still missing fails the row naming it."""

import pytest
from django.core.exceptions import ValidationError

from erp.models import Customer
from integration.fo.projects import project_run_execute, project_run_start
from integration.models import IntegrationProjectTaskDefault, IntegrationTemplateTask
from tests.integration.fo_helpers import make_account, make_contact

pytestmark = pytest.mark.django_db


def run(project, **kwargs):
    return project_run_execute(run_id=project_run_start(project=project, **kwargs).pk)


def task_default(project, erp_field):
    return IntegrationProjectTaskDefault.objects.get(task__project=project, erp_field=erp_field)


def test_templates_ship_the_documented_defaults(fo_projects):
    for task_name in ("Accounts - Customers", "ContactToCustomer"):
        defaults = IntegrationTemplateTask.objects.get(name=task_name).definition["defaults"]
        assert defaults["customer_group"] == {"default": "10", "required": True}
        assert defaults["language_code"] == {"default": "en-us"}
        assert defaults["site"] == {"default": ""} and defaults["warehouse"] == {"default": ""}


def test_customer_group_language_defaults_and_blank_site_warehouse(fo_projects):
    account = make_account("Fabrikam")
    buyer = make_contact("Buyer", active=True)
    run(fo_projects["accounts"])
    run(fo_projects["contact_to_customer"])
    for no in (account.account_number, buyer.contact_number):
        customer = Customer.objects.get(no=no)
        assert (customer.customer_group, customer.language_code, customer.site, customer.warehouse) == (
            "10", "en-us", "", ""
        )
        assert customer.externally_maintained


def test_site_and_warehouse_from_a_value_map_on_country_else_the_default(fo_projects):
    project = fo_projects["accounts"]
    site = task_default(project, "site")
    site.key_field, site.value_map, site.default_value = "address1_country", {"SE": "S1", "no": "S1", "US": "S2"}, "1"
    site.full_clean()
    site.save()
    warehouse = task_default(project, "warehouse")
    warehouse.key_field, warehouse.value_map = "address1_city", {"Stockholm": "13", "Oslo": "21"}
    warehouse.full_clean()
    warehouse.save()
    sweden = make_account("Sweden AB", address1_country="SE", address1_city="Stockholm")
    norway = make_account("Norway AS", address1_country="NO", address1_city="Oslo")
    france = make_account("France SA", address1_country="FR", address1_city="Paris")
    run(project)
    assert Customer.objects.values_list("site", "warehouse").get(no=sweden.account_number) == ("S1", "13")
    assert Customer.objects.values_list("site", "warehouse").get(no=norway.account_number) == ("S1", "21")
    # No entry for FR: the site default; no warehouse default: blank.
    assert Customer.objects.values_list("site", "warehouse").get(no=france.account_number) == ("1", "")


def test_a_value_set_in_the_erp_is_kept_when_the_default_would_only_fill_a_blank(fo_projects):
    account = make_account("Kept")
    run(fo_projects["accounts"])
    Customer.objects.filter(no=account.account_number).update(site="HQ")
    account.telephone1 = "+46 8 000"
    account.save()
    run(fo_projects["accounts"])
    customer = Customer.objects.get(no=account.account_number)
    assert customer.site == "HQ" and customer.phone_no == "+46 8 000"


def test_required_customer_group_missing_fails_the_row_naming_field_and_record(fo_projects):
    project = fo_projects["contact_to_customer"]
    group = task_default(project, "customer_group")
    group.default_value = ""
    group.save()
    buyer = make_contact("Nogroup", active=True)
    run(fo_projects["accounts"])
    result = run(project)
    task_run = result.task_runs.get()
    assert task_run.failed == 1 and result.status == "warning"
    message = task_run.sync_job.errors.get().message
    assert buyer.contact_number in message and "Customer Group is required" in message
    assert not Customer.objects.filter(no=buyer.contact_number).exists()
    # Fixing the default and re-running creates the customer.
    group.default_value = "20"
    group.save()
    rerun = run(project, full=True)
    assert rerun.task_runs.get().inserted == 1
    assert Customer.objects.get(no=buyer.contact_number).customer_group == "20"


def test_task_default_validation(fo_projects):
    task = fo_projects["accounts"].tasks.get()
    with pytest.raises(ValidationError) as info:
        IntegrationProjectTaskDefault(task=task, erp_field="no_such_field").full_clean()
    assert "no_such_field" in str(info.value)
    with pytest.raises(ValidationError) as info:
        IntegrationProjectTaskDefault(task=task, erp_field="price", value_map={"SE": "S1"}).full_clean()
    assert "key_field" in info.value.message_dict
    with pytest.raises(ValidationError):
        IntegrationProjectTaskDefault(task=task, erp_field="site", key_field="address1_city",
                                      value_map={"SE": 1}).full_clean()


def test_each_project_has_its_own_defaults(fo_projects, integration_user):
    from integration.fo.templates import ACCOUNTS_TEMPLATE
    from tests.integration.fo_helpers import make_project

    other = make_project(ACCOUNTS_TEMPLATE, name="Accounts EU")
    group = task_default(other, "customer_group")
    group.default_value = "EU"
    group.save()
    assert task_default(fo_projects["accounts"], "customer_group").default_value == "10"
    assert other.tasks.get().table_mapping_id != fo_projects["accounts"].tasks.get().table_mapping_id
