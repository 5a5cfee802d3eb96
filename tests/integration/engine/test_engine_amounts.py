"""Amounts are rounded half-up to the destination's decimal places; too large a value fails naming the field and
the value (docs/features.md P4/P5, I5). And the demo data's three F&O projects complete with no failed row."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from crm.models import Account
from erp.models import Customer
from integration.catalogue.fields import decimal_fit
from integration.engine.sync import mapping_synchronize
from integration.fo.projects import project_run_execute, project_run_start
from integration.fo.templates import ACCOUNTS_TEMPLATE, CONTACT_TO_CUSTOMER_TEMPLATE, CONTACTS_TEMPLATE
from integration.models import Coupling, IntegrationFieldMapping, SyncJobError
from tests.integration.fo_helpers import make_account, make_project

pytestmark = pytest.mark.django_db

TO, FROM = "to_integration", "from_integration"


def sync(mapping, direction, **kwargs):
    mapping.refresh_from_db()
    [job] = mapping_synchronize(mapping=mapping, direction=direction, **kwargs)
    return job


@pytest.fixture
def customer_mapping(mappings):
    mapping = mappings["CUSTOMER"]
    mapping.sync_only_coupled = False
    mapping.save()
    # Sales' credit limit (4 decimals) also goes to the ERP (2 decimals).
    IntegrationFieldMapping.objects.create(table_mapping=mapping, erp_field="credit_limit_lcy",
                                           crm_field="credit_limit", direction=FROM)
    return mapping


@pytest.mark.parametrize(("sales", "erp"), [
    ("5000.0000", "5000.00"),  # Sales keeps 4 decimals: 5000 reads 5000.0000
    ("1234.5650", "1234.57"),  # half-up, not half-even
    ("1234.5649", "1234.56"),
    ("0.0050", "0.01"),
    ("-10.0050", "-10.01"),  # half away from zero
])
def test_sales_amounts_are_rounded_half_up_to_the_erp_decimal_places(customer_mapping, salesperson_pair, sales, erp):
    _, user = salesperson_pair
    account = Account.objects.create(name="Amounts AB", customer_type_code="customer", owner=user,
                                     credit_limit=Decimal(sales))

    job = sync(customer_mapping, FROM)

    assert (job.inserted, job.failed) == (1, 0), list(SyncJobError.objects.values_list("message", flat=True))
    coupling = Coupling.objects.get(erp_model="erp.Customer", crm_id=account.pk)
    customer = Customer.objects.get(pk=coupling.erp_id)
    assert customer.credit_limit_lcy == Decimal(erp)
    assert str(customer.credit_limit_lcy) == erp


def test_an_erp_amount_too_large_for_sales_fails_naming_the_field_and_the_value(customer_mapping, salesperson_pair):
    salesperson, _ = salesperson_pair
    # The ERP holds 17 digits before the decimal point, Sales 15 (a value SQLite keeps exactly too).
    too_large = Customer.objects.create(name="Huge Ltd", salesperson=salesperson,
                                        credit_limit_lcy=Decimal("2000000000000000.00"))
    fine = Customer.objects.create(name="Fine Ltd", salesperson=salesperson, credit_limit_lcy=Decimal("99.99"))

    job = sync(customer_mapping, TO)

    assert (job.inserted, job.failed) == (1, 1)
    message = SyncJobError.objects.get(job=job).message
    assert "Credit Limit: 2000000000000000.00 is too large" in message
    assert too_large.no in message
    coupling = Coupling.objects.get(erp_model="erp.Customer", erp_id=fine.pk)
    assert Account.objects.get(pk=coupling.crm_id).credit_limit == Decimal("99.99")


def test_an_amount_too_large_after_rounding_fails_too():
    """99,999,999,999,999,999.995 would round to 18 digits before the point: too large, not an overflow."""
    field = Customer._meta.get_field("credit_limit_lcy")
    assert decimal_fit(Decimal("99999999999999999.994"), field, Decimal("0.01")) == Decimal("99999999999999999.99")
    with pytest.raises(ValidationError, match=r"99999999999999999\.995 is too large"):
        decimal_fit(Decimal("99999999999999999.995"), field, Decimal("0.01"))
    with pytest.raises(ValidationError, match="is not a number"):
        decimal_fit(Decimal("NaN"), field, Decimal("0.01"))


def test_the_fo_accounts_task_rounds_the_credit_limit(fo_projects):
    make_account("Rounded AB", credit_limit=Decimal("2500.1250"))

    run = project_run_execute(run_id=project_run_start(project=fo_projects["accounts"]).pk)

    task_run = run.task_runs.get()
    assert (task_run.inserted, task_run.failed) == (1, 0), task_run.message
    assert Customer.objects.get(name="Rounded AB").credit_limit_lcy == Decimal("2500.13")


@pytest.fixture
def demo_with_fo_projects(db):
    from crm.models import SystemUser
    from integration.defaults import integration_setup_reset
    from integration.demo import demo_seed
    from integration.models import ConnectionSetup

    demo_seed(scale=60)
    integration_setup_reset()
    setup = ConnectionSetup.get_solo()
    setup.is_enabled = True
    setup.integration_user = SystemUser.objects.filter(access_mode="integration").first()
    setup.save()
    return [make_project(template) for template in (ACCOUNTS_TEMPLATE, CONTACTS_TEMPLATE, CONTACT_TO_CUSTOMER_TEMPLATE)]


def test_the_demo_datas_fo_projects_complete_with_no_failed_row(demo_with_fo_projects):
    for project in demo_with_fo_projects:
        run = project_run_execute(run_id=project_run_start(project=project).pk)

        task_runs = list(run.task_runs.all())
        assert run.status == "success", (project.name, run.message)
        assert all(t.failed == 0 for t in task_runs), [(t.task_name, t.message) for t in task_runs]
        assert sum(t.upserted for t in task_runs) > 0, (project.name, run.message)
