"""The ERP admin: every model's pages, constant-query changelists, search, autocomplete, setup tables, numbers."""

import pytest
from django.contrib.auth import get_user_model

from erp.admin import SYSTEM_FIELDS
from erp.models import (
    BusinessRelation,
    Contact,
    ContactBusinessRelation,
    Customer,
    GeneralLedgerSetup,
    MarketingSetup,
    NoSeries,
    PurchasesPayablesSetup,
    SalesHeader,
    SalesReceivablesSetup,
)
from tests.admin_helpers import (
    admin_form_data,
    admin_form_tests,
    admin_list_tests,
    admin_url,
    autocomplete_cases,
    changelist_queries,
    is_singleton,
    make_row,
    model_ids,
    registered_admins,
)

pytestmark = pytest.mark.django_db


ADMINS = registered_admins("erp")
LISTS = [(model, model_admin) for model, model_admin in ADMINS if not is_singleton(model)]
SINGLETONS = [(model, model_admin) for model, model_admin in ADMINS if is_singleton(model)]
AUTOCOMPLETES = autocomplete_cases("erp")


def test_every_erp_model_has_an_admin():
    from django.apps import apps

    registered = {model for model, _model_admin in ADMINS}
    assert set(apps.get_app_config("erp").get_models()) == registered
    assert {model for model, _admin in SINGLETONS} == {
        MarketingSetup, SalesReceivablesSetup, PurchasesPayablesSetup, GeneralLedgerSetup
    }


(
    test_changelist_query_count_does_not_grow_with_rows,
    test_heavy_changelists_stay_constant_over_a_full_page,
    test_search_runs_on_every_changelist,
) = admin_list_tests(LISTS, heavy=[Customer, Contact, SalesHeader])


@pytest.mark.parametrize(("model", "model_admin"), LISTS, ids=model_ids(LISTS))
def test_add_and_change_pages_render(admin_client, rf, admin_user, model, model_admin):
    # Contact business relations are made with the contact actions: no add page, a read-only change page. A log
    # written by the system (deleted records) is read-only.
    request = rf.get("/")
    request.user = admin_user
    addable = model is not ContactBusinessRelation and model_admin.has_add_permission(request)
    assert admin_client.get(admin_url(model, "add")).status_code == (200 if addable else 403)
    row = make_row(model)
    response = admin_client.get(admin_url(model, "change", row.pk))
    assert response.status_code == 200
    assert response.context["original"] == row


@pytest.mark.parametrize(("model", "model_admin"), ADMINS, ids=model_ids(ADMINS))
def test_system_fields_are_read_only(rf, admin_user, model, model_admin):
    request = rf.get("/")
    request.user = admin_user
    model_fields = {f.name for f in model._meta.get_fields()}
    readonly = set(model_admin.get_readonly_fields(request, None))
    assert {f for f in SYSTEM_FIELDS if f in model_fields} <= readonly
    if "search_name" in model_fields:
        assert "search_name" in readonly
    form_fields = set(model_admin.get_form(request)().fields)
    assert not form_fields & {"system_id", "created_at", "modified_at", "search_name", "no_series"}


test_every_editable_field_is_on_the_page, test_foreign_keys_are_autocompletes, test_autocomplete_answers = (
    admin_form_tests(ADMINS, AUTOCOMPLETES)
)


def test_company_autocomplete_offers_only_companies(admin_client):
    company = make_row(Contact, no="CT-1", name="Contoso", type=Contact.Type.COMPANY, company=None)
    person = make_row(Contact, no="CT-2", name="Nancy", type=Contact.Type.PERSON, company=None)
    response = admin_client.get(
        "/admin/autocomplete/", {"app_label": "erp", "model_name": "contact", "field_name": "company", "term": ""}
    )
    ids = {result["id"] for result in response.json()["results"]}
    assert str(company.pk) in ids
    assert str(person.pk) not in ids


# Setup tables -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("model", "model_admin"), SINGLETONS, ids=model_ids(SINGLETONS))
def test_setup_list_opens_its_single_record(admin_client, model, model_admin):
    assert not model.objects.exists()
    response = admin_client.get(admin_url(model, "changelist"))
    assert response.status_code == 302
    assert response["Location"] == admin_url(model, "change", 1)
    assert model.objects.count() == 1
    assert admin_client.get(response["Location"]).status_code == 200
    # Again: the same row, no second one.
    admin_client.get(admin_url(model, "changelist"))
    assert model.objects.count() == 1


@pytest.mark.parametrize(("model", "model_admin"), SINGLETONS, ids=model_ids(SINGLETONS))
def test_setup_cannot_be_added_or_deleted(admin_client, model, model_admin):
    model.get_solo()
    assert admin_client.get(admin_url(model, "add")).status_code == 403
    assert admin_client.get(admin_url(model, "delete", 1)).status_code == 403


def test_setup_change_is_saved(admin_client):
    series = NoSeries.objects.create(code="CUST", starting_no="C00001")
    url = admin_url(SalesReceivablesSetup, "change", SalesReceivablesSetup.get_solo().pk)
    data = admin_form_data(admin_client.get(url))
    data["customer_nos"] = str(series.pk)
    response = admin_client.post(url, data)
    assert response.status_code == 302
    assert SalesReceivablesSetup.get_solo().customer_nos == series


def test_setup_list_needs_permission(client):
    user = get_user_model().objects.create_user("clerk", is_staff=True)
    client.force_login(user)
    assert client.get(admin_url(MarketingSetup, "changelist")).status_code == 403
    assert not MarketingSetup.objects.exists()


# Numbers --------------------------------------------------------------------------------------------------------------
def test_customer_without_no_and_without_series_is_a_form_error(admin_client):
    url = admin_url(Customer, "add")
    data = admin_form_data(admin_client.get(url))
    data.update({"name": "Contoso", "no": ""})
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "no number series is set" in str(response.context["adminform"].form.errors)
    assert not Customer.objects.exists()


def test_customer_with_explicit_no_is_added(admin_client):
    url = admin_url(Customer, "add")
    data = admin_form_data(admin_client.get(url))
    data.update({"name": "Contoso", "no": "C-100"})
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    customer = Customer.objects.get(no="C-100")
    assert customer.search_name == "CONTOSO"


def test_customer_without_no_takes_it_from_the_series(admin_client):
    setup = SalesReceivablesSetup.get_solo()
    setup.customer_nos = NoSeries.objects.create(code="CUST", starting_no="C00001")
    setup.save()
    url = admin_url(Customer, "add")
    data = admin_form_data(admin_client.get(url))
    data.update({"name": "Fabrikam", "no": ""})
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    assert Customer.objects.get(name="Fabrikam").no == "C00001"


def test_existing_customer_no_cannot_be_blanked(admin_client):
    customer = make_row(Customer, no="C-200")
    url = admin_url(Customer, "change", customer.pk)
    data = admin_form_data(admin_client.get(url))
    data["no"] = ""
    response = admin_client.post(url, data)
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.no == "C-200"


def test_sales_order_without_no_and_without_series_is_a_form_error(admin_client):
    customer = make_row(Customer, no="C-300")
    url = admin_url(SalesHeader, "add")
    data = admin_form_data(admin_client.get(url))
    data.update({"document_type": "order", "no": "", "sell_to_customer": str(customer.pk)})
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "Order Nos." in str(response.context["adminform"].form.errors)


def test_person_contact_name_is_made_of_its_names(admin_client):
    url = admin_url(Contact, "add")
    data = admin_form_data(admin_client.get(url))
    data.update({"no": "CT-10", "type": "person", "name": "", "first_name": "Nancy", "surname": "Davolio"})
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    assert Contact.objects.get(no="CT-10").name == "Nancy Davolio"


def test_company_contact_needs_a_name(admin_client):
    url = admin_url(Contact, "add")
    data = admin_form_data(admin_client.get(url))
    data.update({"no": "CT-11", "type": "company", "name": ""})
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "name" in response.context["adminform"].form.errors


def test_contact_business_relations_are_shown_inline_read_only(admin_client):
    # Links are made with the card's actions (tests/erp/test_business_relations_admin.py), never typed in.
    contact = make_row(Contact, no="CT-20", name="Contoso", company=None, salesperson=None, currency=None)
    relation = BusinessRelation.objects.create(code="CUST", description="Customer")
    ContactBusinessRelation.objects.create(contact=contact, business_relation=relation, link_to_table="vendor", no="V-1")
    url = admin_url(Contact, "change", contact.pk)
    page = admin_client.get(url)
    assert "V-1" in page.content.decode() and 'name="business_relations-0-no"' not in page.content.decode()
    data = admin_form_data(page)
    data.update({
        "business_relations-TOTAL_FORMS": "2",
        "business_relations-0-no": "V-2",
        "business_relations-1-business_relation": str(relation.pk),
        "business_relations-1-link_to_table": "customer",
        "business_relations-1-no": "C-1",
    })
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    assert list(ContactBusinessRelation.objects.values_list("link_to_table", "no")) == [("vendor", "V-1")]


# Lists ------------------------------------------------------------------------------------------------------------
def test_customer_search_finds_no_name_and_email(admin_client):
    contoso = make_row(Customer, no="C-10000", name="Contoso", email="info@contoso.example")
    make_row(Customer, no="C-20000", name="Fabrikam", email="sales@fabrikam.example")
    for term in ("C-10000", "conto", "info@contoso"):
        _queries, response, _sql = changelist_queries(admin_client, Customer, q=term)
        assert list(response.context["cl"].result_list) == [contoso], term


def test_contact_search_finds_company_name(admin_client):
    company = make_row(Contact, no="CT-30", name="Contoso", type=Contact.Type.COMPANY, company=None)
    make_row(Contact, no="CT-31", name="Fabrikam", type=Contact.Type.COMPANY, company=None)
    _queries, response, _sql = changelist_queries(admin_client, Contact, q="contoso")
    assert list(response.context["cl"].result_list) == [company]


def test_changelist_columns_use_verbose_names(admin_client):
    make_row(Customer)
    content = admin_client.get(admin_url(Customer, "changelist")).content.decode()
    for header in ("No.", "Salesperson Code", "City", "Blocked", "Name"):
        assert header in content


def test_big_lists_skip_the_full_count(admin_client):
    for model in (Customer, Contact):
        _queries, response, _sql = changelist_queries(admin_client, model)
        assert response.context["cl"].show_full_result_count is False
        assert response.context["cl"].list_per_page == 100


def test_non_staff_user_is_redirected_to_login(client):
    user = get_user_model().objects.create_user("clerk")
    client.force_login(user)
    response = client.get(admin_url(Customer, "changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
