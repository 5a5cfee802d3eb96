"""List actions on coupled models (integration/admin/coupling.py): the coupling column and filter, set up coupling,
match-based coupling, create in Sales/ERP, synchronise now, delete coupling, synchronisation log, permissions."""

import pytest
from django.contrib.auth.models import Permission, User

from crm.models import Account
from erp.models import Customer
from integration.coupling.couplings import coupling_create, coupling_for
from integration.models import Coupling, SyncJob
from tests.admin_helpers import admin_url, changelist_queries
from tests.integration.helpers import ACTIVE, run_action, texts

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client, db):
    user = User.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


def test_coupling_column_and_filter_with_constant_queries(superuser_client, mappings, salesperson_pair):
    salesperson, _ = salesperson_pair
    customers = [Customer.objects.create(name=f"C{i}", salesperson=salesperson) for i in range(3)]
    accounts = [Account.objects.create(name=f"A{i}", **ACTIVE) for i in range(3)]
    coupling_create(erp_record=customers[0], crm_record=accounts[0])
    few, response, _ = changelist_queries(superuser_client, Account)
    html = response.content.decode()
    assert "Coupling" in html and "Not coupled" in html and "Coupled</span> to" in html
    assert admin_url(Customer, "change", customers[0].pk) in html  # a link to the counterpart

    for i in range(3, 30):
        account = Account.objects.create(name=f"A{i}", **ACTIVE)
        coupling_create(erp_record=Customer.objects.create(name=f"C{i}", salesperson=salesperson),
                        crm_record=account)
    many, response, queries = changelist_queries(superuser_client, Account)
    assert many == few, "\n".join(q["sql"][:200] for q in queries)

    _n, coupled, _ = changelist_queries(superuser_client, Account, coupling="coupled")
    _n, uncoupled, _ = changelist_queries(superuser_client, Account, coupling="uncoupled")
    assert len(coupled.context["cl"].result_list) == 28
    assert {a.name for a in uncoupled.context["cl"].result_list} == {"A1", "A2"}


def test_failed_and_skipped_couplings_show_in_the_column_and_filter(superuser_client, mappings):
    account = Account.objects.create(name="Broken", **ACTIVE)
    customer = Customer.objects.create(name="Broken")
    coupling = coupling_create(erp_record=customer, crm_record=account)
    coupling.last_crm_result = "failure"
    coupling.save()
    _n, response, _ = changelist_queries(superuser_client, Account, coupling="failed")
    assert [a.pk for a in response.context["cl"].result_list] == [account.pk]
    assert 'class="p2c-failed"' in response.content.decode()


def test_no_column_or_actions_for_models_outside_enabled_mappings(superuser_client, mappings):
    from erp.models import Vendor

    response = superuser_client.get(admin_url(Vendor, "changelist"))
    assert "couple_by_match" not in response.content.decode()
    assert "Coupling" not in [str(h["text"]) for h in response.context["result_headers"]]


def test_set_up_coupling_searches_and_couples(superuser_client, mappings, salesperson_pair):
    account = Account.objects.create(name="Adatum Corporation", **ACTIVE)
    customer = Customer.objects.create(name="Adatum Corporation", salesperson=salesperson_pair[0])
    Customer.objects.create(name="Someone Else")

    page = run_action(superuser_client, Account, "couple_set_up", [account.pk])
    assert page.status_code == 200
    choices = dict(page.context["form"].fields["counterpart"].choices)
    key = f"{mappings['CUSTOMER'].pk}:{customer.pk}"
    assert key in choices and len(choices) == 1  # searched by the account's name

    searched = run_action(superuser_client, Account, "couple_set_up", [account.pk], {"p2c-search": "Someone",
                                                                                     "p2c-find": "Search"})
    assert "Someone Else" in searched.content.decode()

    done = run_action(superuser_client, Account, "couple_set_up", [account.pk],
                      {"p2c-search": "Adatum", "p2c-counterpart": key, "p2c-synchronize": "to_integration",
                       "p2c-submit": "Couple"})
    assert done.status_code == 302
    assert coupling_for(account).erp_id == customer.pk
    assert SyncJob.objects.filter(mapping_name="CUSTOMER", direction="to_integration").exists()


def test_set_up_coupling_refuses_a_coupled_record_and_names_its_counterpart(superuser_client, mappings):
    account = Account.objects.create(name="Fabrikam", **ACTIVE)
    customer = Customer.objects.create(name="Fabrikam Inc")
    coupling_create(erp_record=customer, crm_record=account)
    response = run_action(superuser_client, Account, "couple_set_up", [account.pk])
    assert response.status_code == 302
    assert any("already coupled to" in t and customer.no in t for t in texts(response))

    other = Account.objects.create(name="Fabrikam Inc", **ACTIVE)
    key = f"{mappings['CUSTOMER'].pk}:{customer.pk}"
    refused = run_action(superuser_client, Account, "couple_set_up", [other.pk],
                         {"p2c-search": "Fabrikam", "p2c-counterpart": key, "p2c-submit": "Couple"})
    assert refused.status_code == 200
    assert "already coupled to" in refused.content.decode()
    assert coupling_for(other) is None


def match_criteria(mapping, *, use=("email",), extra=None):
    data = {"p2c-mapping": str(mapping.pk), "p2c-submit": "Couple by match"}
    for fm in mapping.field_mappings.exclude(erp_field="").exclude(crm_field="").filter(constant_value=""):
        data[f"p2c-priority_{fm.pk}"] = "1"
        if fm.erp_field in use:
            data[f"p2c-use_{fm.pk}"] = "on"
    data.update(extra or {})
    return data


def test_match_based_coupling_from_the_sales_list(superuser_client, mappings, salesperson_pair):
    salesperson, _ = salesperson_pair
    mapping = mappings["CUSTOMER"]
    account = Account.objects.create(name="Litware", emailaddress1="HI@litware.com", **ACTIVE)
    lonely = Account.objects.create(name="Lonely", emailaddress1="lonely@example.com", **ACTIVE)
    customer = Customer.objects.create(name="Litware Inc", email="hi@litware.com", salesperson=salesperson)

    page = run_action(superuser_client, Account, "couple_by_match", [account.pk, lonely.pk])
    assert page.status_code == 200 and "Coupling criteria" in page.content.decode()

    done = run_action(superuser_client, Account, "couple_by_match", [account.pk, lonely.pk], match_criteria(mapping))
    assert done.status_code == 302
    assert coupling_for(account).erp_id == customer.pk
    assert coupling_for(lonely) is None
    message = " ".join(texts(done))
    assert "1 coupled" in message and "1 without a unique match" in message
    job = SyncJob.objects.get(type="coupling")
    assert (job.coupled, job.failed) == (1, 1)
    fm = mapping.field_mappings.get(erp_field="email")
    assert fm.use_for_match_coupling and mapping.field_mappings.get(erp_field="name").use_for_match_coupling is False


def test_match_based_coupling_from_the_erp_list_creates_and_synchronises(superuser_client, mappings,
                                                                           salesperson_pair):
    salesperson, _ = salesperson_pair
    mapping = mappings["CUSTOMER"]
    customer = Customer.objects.create(name="Northwind", email="n@northwind.com", phone_no="555",
                                       salesperson=salesperson)
    new = Customer.objects.create(name="Brand New", email="new@example.com", salesperson=salesperson)
    account = Account.objects.create(name="Northwind Traders", emailaddress1="N@northwind.com", **ACTIVE)
    mapping.update_conflict_resolution = "send_update"
    mapping.save()

    done = run_action(superuser_client, Customer, "couple_by_match", [customer.pk, new.pk],
                      match_criteria(mapping, extra={"p2c-sync_after": "on", "p2c-create_new": "on"}))
    assert done.status_code == 302, done.content.decode()[:2000]
    assert coupling_for(customer).crm_id == account.pk
    assert coupling_for(new) is not None
    account.refresh_from_db()
    assert account.telephone1 == "555"  # synchronised after coupling
    assert "1 coupled, 1 created" in " ".join(texts(done))


def test_match_based_coupling_without_fields_is_refused_by_the_form(superuser_client, mappings):
    account = Account.objects.create(name="X", **ACTIVE)
    response = run_action(superuser_client, Account, "couple_by_match", [account.pk],
                          match_criteria(mappings["CUSTOMER"], use=()))
    assert response.status_code == 200
    assert "should be used for match-based coupling" in response.content.decode()


def test_create_in_erp_runs_in_the_background_and_skips_the_coupled(superuser_client, mappings, salesperson_pair,
                                                                    django_capture_on_commit_callbacks):
    _salesperson, user = salesperson_pair
    new = Account.objects.create(name="Wide World Importers", emailaddress1="ww@example.com", owner=user, **ACTIVE)
    coupled = Account.objects.create(name="Already", **ACTIVE)
    existing = Customer.objects.create(name="Already")
    coupling_create(erp_record=existing, crm_record=coupled)
    customers_before = Customer.objects.count()

    confirm = run_action(superuser_client, Account, "create_in_counterpart", [new.pk, coupled.pk])
    assert confirm.status_code == 200 and "coupled already" in confirm.content.decode()
    with django_capture_on_commit_callbacks() as queued:
        done = run_action(superuser_client, Account, "create_in_counterpart", [new.pk, coupled.pk],
                          {"p2c-submit": "Confirm"})
    assert done.status_code == 302
    # The request only queued the job: nothing is created until the worker runs it.
    job = SyncJob.objects.get(mapping_name="CUSTOMER", direction="from_integration")
    assert job.status == "queued" and Customer.objects.count() == customers_before
    message = " ".join(texts(done))
    assert "Create in ERP: 1 queued, 1 skipped" in message and "(Already): already coupled" in message
    assert "scheduled for 1 of 2 records. 0 records failed. 1 record was skipped." in message
    assert admin_url(SyncJob, "change", job.pk) in message

    for callback in queued:  # the worker
        callback()
    job.refresh_from_db()
    assert (job.status, job.inserted, job.failed) == ("success", 1, 0)
    assert Customer.objects.count() == customers_before + 1
    assert Customer.objects.get(pk=coupling_for(new).erp_id).name == "Wide World Importers"
    assert coupling_for(coupled).erp_id == existing.pk  # untouched


def test_create_in_erp_never_duplicates_a_record_coupled_before_the_job_runs(superuser_client, mappings,
                                                                              salesperson_pair,
                                                                              django_capture_on_commit_callbacks):
    _salesperson, user = salesperson_pair
    account = Account.objects.create(name="Fourth Coffee", owner=user, **ACTIVE)
    with django_capture_on_commit_callbacks() as queued:
        run_action(superuser_client, Account, "create_in_counterpart", [account.pk], {"p2c-submit": "Confirm"})
    twin = Customer.objects.create(name="Fourth Coffee")  # someone couples it by hand meanwhile
    coupling_create(erp_record=twin, crm_record=account)
    customers = Customer.objects.count()

    for callback in queued:
        callback()
    job = SyncJob.objects.get(mapping_name="CUSTOMER", direction="from_integration")
    assert (job.inserted, job.skipped, job.failed) == (0, 1, 0)
    assert "1 already coupled: skipped" in job.message
    assert Customer.objects.count() == customers and coupling_for(account).erp_id == twin.pk


def test_create_in_erp_of_a_coupled_record_whose_counterpart_is_gone_creates_it_again(
        superuser_client, mappings, salesperson_pair, django_capture_on_commit_callbacks):
    _salesperson, user = salesperson_pair
    account = Account.objects.create(name="Margie's Travel", owner=user, **ACTIVE)
    gone = Customer.objects.create(name="Margie's Travel")
    coupling_create(erp_record=gone, crm_record=account)
    gone.delete()  # the coupling is stale: BC deletes it and creates the record

    with django_capture_on_commit_callbacks(execute=True):
        done = run_action(superuser_client, Account, "create_in_counterpart", [account.pk],
                          {"p2c-submit": "Confirm"})
    assert "scheduled for 1 of 1 record. 0 records failed. 0 records were skipped." in " ".join(texts(done))
    created = Customer.objects.get(pk=coupling_for(account).erp_id)
    assert created.name == "Margie's Travel"


def test_synchronise_now_asks_the_direction_for_bidirectional_mappings(superuser_client, mappings,
                                                                         salesperson_pair, django_capture_on_commit_callbacks):
    salesperson, user = salesperson_pair
    account = Account.objects.create(name="Proseware", telephone1="1", owner=user, **ACTIVE)
    customer = Customer.objects.create(name="Proseware", phone_no="2", salesperson=salesperson)
    uncoupled = Account.objects.create(name="Loose", **ACTIVE)
    coupling_create(erp_record=customer, crm_record=account)

    page = run_action(superuser_client, Account, "synchronize_now", [account.pk, uncoupled.pk])
    assert page.status_code == 200 and "Send data update to Sales" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = run_action(superuser_client, Account, "synchronize_now", [account.pk, uncoupled.pk],
                          {"p2c-direction": "send", "p2c-submit": "Synchronise"})
    assert done.status_code == 302
    account.refresh_from_db()
    assert account.telephone1 == "2"
    job = SyncJob.objects.get(mapping_name="CUSTOMER", direction="to_integration")
    message = " ".join(texts(done))
    assert "Synchronise now: 1 queued, 1 skipped." in message and "(Loose): not coupled" in message
    assert "scheduled for 1 of 2 records. 0 records failed. 1 record was skipped." in message
    assert admin_url(SyncJob, "change", job.pk) in message


def test_delete_coupling_asks_first_then_uncouples(superuser_client, mappings):
    account = Account.objects.create(name="Tailspin", **ACTIVE)
    customer = Customer.objects.create(name="Tailspin")
    coupling_create(erp_record=customer, crm_record=account)
    confirm = run_action(superuser_client, Customer, "coupling_remove", [customer.pk])
    assert confirm.status_code == 200 and coupling_for(customer) is not None
    done = run_action(superuser_client, Customer, "coupling_remove", [customer.pk], {"p2c-submit": "Confirm"})
    assert done.status_code == 302 and coupling_for(customer) is None
    assert Account.objects.filter(pk=account.pk).exists() and Customer.objects.filter(pk=customer.pk).exists()
    assert "Delete coupling: 1 done." in " ".join(texts(done))


def test_synchronisation_log_lists_jobs_and_errors_of_the_selection(superuser_client, mappings):
    account = Account.objects.create(name="Logged", **ACTIVE)
    customer = Customer.objects.create(name="Logged")
    coupling = coupling_create(erp_record=customer, crm_record=account)
    job = SyncJob.objects.create(mapping_name="CUSTOMER", direction="to_integration", status="error", failed=1)
    job.errors.create(source_model="erp.Customer", source_id=str(customer.pk), destination_model="crm.Account",
                      destination_id=str(account.pk), message="Owner is not coupled")
    coupling.last_crm_job = job
    coupling.save()
    other = SyncJob.objects.create(mapping_name="CUSTOMER", direction="to_integration")
    response = run_action(superuser_client, Account, "synchronization_log", [account.pk])
    assert response.status_code == 200
    html = response.content.decode()
    assert "Owner is not coupled" in html and f"#{job.pk}" in html and f">#{other.pk}<" not in html


def test_synchronisation_log_leaves_out_errors_of_another_table_with_the_same_id(superuser_client, mappings):
    account = Account.objects.create(name="Logged", **ACTIVE)
    customer = Customer.objects.create(name="Logged")
    coupling_create(erp_record=customer, crm_record=account)
    job = SyncJob.objects.create(mapping_name="ITEM-PRODUCT", direction="to_integration", status="error", failed=1)
    job.errors.create(source_model="erp.Item", source_id=str(customer.pk), message="Unit BOX is not coupled")
    job.errors.create(source_model="erp.Customer", source_id=str(customer.pk), message="Owner is not coupled")
    html = run_action(superuser_client, Account, "synchronization_log", [account.pk]).content.decode()
    assert "Owner is not coupled" in html
    assert "Unit BOX is not coupled" not in html  # an item that happens to share the customer's id


# -- permissions ------------------------------------------------------------------------------------------------
@pytest.fixture
def staff_client(client, db):
    """Staff that may view and change accounts and customers, but has neither integration permission."""
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(
        codename__in=["view_account", "change_account", "view_customer", "change_customer"]))
    client.force_login(user)
    return client, user


ACTIONS = ("couple_set_up", "couple_by_match", "create_in_counterpart", "synchronize_now", "coupling_remove")


def test_actions_are_hidden_and_refused_without_the_integration_permissions(staff_client, mappings):
    client, _user = staff_client
    account = Account.objects.create(name="Guarded", **ACTIVE)
    response = client.get(admin_url(Account, "changelist"))
    assert response.status_code == 200
    action_form = response.context["action_form"]
    choices = [name for name, _ in action_form.fields["action"].choices] if action_form else []
    assert not set(ACTIONS) & set(choices)
    assert "Coupling" not in [str(h["text"]) for h in response.context["result_headers"]]
    for action in ACTIONS:
        assert run_action(client, Account, action, [account.pk]).status_code == 403
    assert not Coupling.objects.exists()


def test_each_permission_unlocks_its_own_actions(staff_client, mappings):
    client, user = staff_client
    user.user_permissions.add(Permission.objects.get(codename="change_couplings"))
    response = client.get(admin_url(Account, "changelist"))
    choices = {name for name, _ in response.context["action_form"].fields["action"].choices}
    assert {"couple_set_up", "couple_by_match", "coupling_remove"} <= choices
    assert not {"create_in_counterpart", "synchronize_now"} & choices
    account = Account.objects.create(name="Guarded", **ACTIVE)
    assert run_action(client, Account, "synchronize_now", [account.pk]).status_code == 403
    user = User.objects.get(pk=user.pk)  # permissions are cached per user object
    user.user_permissions.add(Permission.objects.get(codename="run_synchronization"))
    client.force_login(user)
    response = client.get(admin_url(Account, "changelist"))
    choices = {name for name, _ in response.context["action_form"].fields["action"].choices}
    assert set(ACTIONS) <= choices


def test_products_go_to_the_mapping_whose_filter_they_meet(superuser_client, mappings,
                                                           django_capture_on_commit_callbacks):
    """A Sales product is an item (sales inventory) or a resource (services): Create in ERP picks the mapping."""
    from crm.models import Product
    from erp.models import Item, Resource

    service = Product.objects.create(product_number="SVC-1", name="Installation", product_type_code="services")
    stock = Product.objects.create(product_number="INV-1", name="Bicycle", product_type_code="sales_inventory")
    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(superuser_client, Product, "create_in_counterpart", [service.pk, stock.pk],
                              {"p2c-submit": "Confirm"})
    assert response.status_code == 302
    couplings = {c.crm_id: c.erp_model for c in Coupling.objects.filter(crm_model="crm.Product")}
    jobs = SyncJob.objects.filter(direction="from_integration")
    assert {j.mapping_name for j in jobs} == {"ITEM-PRODUCT", "RESOURCE-PRODUCT"}
    assert couplings == {service.pk: "erp.Resource", stock.pk: "erp.Item"}
    assert all(j.inserted == 1 and j.failed == 0 for j in jobs)
    assert Resource.objects.filter(pk=Coupling.objects.get(crm_id=service.pk).erp_id, name="Installation").exists()
    assert Item.objects.filter(pk=Coupling.objects.get(crm_id=stock.pk).erp_id, description="Bicycle").exists()


def test_synchronise_now_from_a_records_page_returns_to_it_and_its_job_is_a_one_record_run(
        superuser_client, mappings, salesperson_pair, django_capture_on_commit_callbacks):
    salesperson, user = salesperson_pair
    account = Account.objects.create(name="Proseware", telephone1="1", owner=user, **ACTIVE)
    customer = Customer.objects.create(name="Proseware", phone_no="2", salesperson=salesperson)
    coupling_create(erp_record=customer, crm_record=account)
    record_page = admin_url(Account, "change", account.pk)
    tools = superuser_client.get(record_page).content.decode()
    assert f'name="p2c-next" value="{record_page}"' in tools

    asked = run_action(superuser_client, Account, "synchronize_now", [account.pk], {"p2c-next": record_page})
    html = asked.content.decode()
    # The direction page carries the way back, and Cancel goes back to the record too.
    assert html.count(f'value="{record_page}"') == 1 and f'href="{record_page}" class="button cancel-link"' in html
    assert f'<a href="{record_page}">{account}</a>' in html  # the record in the breadcrumbs
    with django_capture_on_commit_callbacks(execute=True):
        done = run_action(superuser_client, Account, "synchronize_now", [account.pk],
                          {"p2c-direction": "send", "p2c-submit": "Synchronise", "p2c-next": record_page})
    assert done.status_code == 302 and done["Location"] == record_page
    job = SyncJob.objects.get(mapping_name="CUSTOMER", direction="to_integration")
    assert (job.full, job.records_given) == (False, 1)
    job_page = superuser_client.get(admin_url(SyncJob, "change", job.pk), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Run of 1 selected record" in job_page and "Full synchronisation" not in job_page
    # Another site's address is not followed.
    elsewhere = run_action(superuser_client, Account, "coupling_remove", [account.pk],
                           {"p2c-submit": "1", "p2c-next": "https://example.com/"})
    assert elsewhere.status_code == 302 and "example.com" not in elsewhere["Location"]
