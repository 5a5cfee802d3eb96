"""The Sales admin: every model's pages, constant-query changelists, search, autocomplete and ``modifiedby``."""

import pytest
from django.contrib.auth import get_user_model
from django.core import checks

from crm.admin import SYSTEM_FIELDS
from crm.models import Account, Contact, Quote, QuoteDetail, SalesOrder, SystemUser
from crm.users import systemuser_for_user
from tests.admin_helpers import (
    admin_form_data,
    admin_form_tests,
    admin_list_tests,
    admin_url,
    autocomplete_cases,
    changelist_queries,
    make_row,
    model_ids,
    registered_admins,
)

pytestmark = pytest.mark.django_db


ADMINS = registered_admins("crm")
AUTOCOMPLETES = autocomplete_cases("crm")


def test_every_sales_model_has_an_admin():
    from django.apps import apps

    registered = {model for model, _model_admin in ADMINS}
    assert set(apps.get_app_config("crm").get_models()) == registered


def test_admin_system_checks_pass_for_sales_and_erp():
    # Among them: every autocomplete field's target admin has search fields (admin.E039, admin.E040).
    def ours(error):
        model = getattr(error.obj, "model", None)
        return model is not None and model._meta.app_label in ("crm", "erp")

    errors = [e for e in checks.run_checks(tags=[checks.Tags.admin]) if e.is_serious() and ours(e)]
    assert errors == []


(
    test_changelist_query_count_does_not_grow_with_rows,
    test_heavy_changelists_stay_constant_over_a_full_page,
    test_search_runs_on_every_changelist,
) = admin_list_tests(ADMINS, heavy=[Account, Contact, SalesOrder])


@pytest.mark.parametrize(("model", "model_admin"), ADMINS, ids=model_ids(ADMINS))
def test_add_and_change_pages_render(admin_client, rf, admin_user, model, model_admin):
    request = rf.get("/")
    request.user = admin_user
    adds = model_admin.has_add_permission(request)  # a log written by the system (deleted records) is read-only
    assert admin_client.get(admin_url(model, "add")).status_code == (200 if adds else 403)
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
    form_fields = set(model_admin.get_form(request)().fields)
    assert not form_fields & {"id", "createdon", "modifiedon", "modifiedby", "full_name", "is_company_an_account",
                              "is_active_customer"}


test_every_editable_field_is_on_the_page, test_foreign_keys_are_autocompletes, test_autocomplete_answers = (
    admin_form_tests(ADMINS, AUTOCOMPLETES)
)


def test_account_search_finds_name_number_and_email(admin_client):
    contoso = make_row(Account, name="Contoso Ltd", emailaddress1="info@contoso.example")
    fabrikam = make_row(Account, name="Fabrikam Inc", emailaddress1="sales@fabrikam.example")
    for term in ("contoso", contoso.account_number, "info@contoso"):
        _queries, response, _sql = changelist_queries(admin_client, Account, q=term)
        assert list(response.context["cl"].result_list) == [contoso], term
    _queries, response, _sql = changelist_queries(admin_client, Account, q="fabrikam.example")
    assert list(response.context["cl"].result_list) == [fabrikam]


def test_contact_search_finds_full_name(admin_client):
    make_row(Contact, first_name="Nancy", last_name="Davolio", parent_account=None, parent_contact=None)
    make_row(Contact, first_name="Andrew", last_name="Fuller", parent_account=None, parent_contact=None)
    _queries, response, _sql = changelist_queries(admin_client, Contact, q="nancy davolio")
    assert [c.full_name for c in response.context["cl"].result_list] == ["Nancy Davolio"]


def test_changelist_columns_use_verbose_names(admin_client):
    make_row(Account)
    content = admin_client.get(admin_url(Account, "changelist")).content.decode()
    for header in ("Account Name", "Account Number", "Relationship Type", "City"):
        assert header in content


def test_big_lists_skip_the_full_count(admin_client):
    for model in (Account, Contact):
        _queries, response, _sql = changelist_queries(admin_client, model)
        assert response.context["cl"].show_full_result_count is False
        assert response.context["cl"].list_per_page == 100


def test_site_header(admin_client):
    assert "p2c administration" in admin_client.get("/admin/").content.decode()


def test_non_staff_user_is_redirected_to_login(client):
    user = get_user_model().objects.create_user("clerk")
    client.force_login(user)
    response = client.get(admin_url(Account, "changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_anonymous_user_is_redirected_to_login(client):
    response = client.get(admin_url(Account, "changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# modifiedby ---------------------------------------------------------------------------------------------------------
def test_systemuser_for_user_creates_one_linked_sales_user():
    user = get_user_model().objects.create_user("nancy", email="nancy@example.com", first_name="Nancy",
                                                last_name="Davolio")
    systemuser = systemuser_for_user(user=user)
    assert systemuser.user == user
    assert systemuser.fullname == "Nancy Davolio"
    assert systemuser.internal_email == "nancy@example.com"
    # Not a salesperson: unlicensed, so the salesperson synchronisation leaves it out.
    assert systemuser.is_licensed is False
    assert systemuser_for_user(user=user) == systemuser
    assert SystemUser.objects.filter(user=user).count() == 1


def test_systemuser_for_user_uses_the_username_without_a_name():
    user = get_user_model().objects.create_user("jdoe")
    assert systemuser_for_user(user=user).fullname == "jdoe"


def test_systemuser_for_user_keeps_an_existing_link():
    user = get_user_model().objects.create_user("andrew")
    existing = SystemUser.objects.create(fullname="Andrew Fuller", user=user)
    assert systemuser_for_user(user=user) == existing


def test_systemuser_for_anonymous_is_none():
    from django.contrib.auth.models import AnonymousUser

    assert systemuser_for_user(user=AnonymousUser()) is None
    assert systemuser_for_user(user=None) is None


def test_saving_an_account_records_modifiedby(admin_client, admin_user):
    account = make_row(Account, name="Contoso", primary_contact=None, parent_account=None, owner=None)
    assert account.modifiedby is None
    url = admin_url(Account, "change", account.pk)
    data = admin_form_data(admin_client.get(url))
    data["name"] = "Contoso Ltd"
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    account.refresh_from_db()
    assert account.name == "Contoso Ltd"
    assert account.modifiedby.user == admin_user
    assert account.modifiedby.fullname == admin_user.get_username()


def test_saving_a_quote_records_modifiedby_on_its_lines(admin_client, admin_user):
    systemuser = SystemUser.objects.create(fullname="Admin", user=admin_user)
    url = admin_url(Quote, "add")
    data = admin_form_data(admin_client.get(url))
    data.update({
        "name": "Big deal",
        "lines-TOTAL_FORMS": "1",
        "lines-0-line_number": "1",
        "lines-0-product_description": "Consulting",
        "lines-0-quantity": "2",
        "lines-0-price_per_unit": "100",
        "lines-0-manual_discount_amount": "0",
        "lines-0-base_amount": "200",
        "lines-0-tax": "0",
        "lines-0-extended_amount": "200",
    })
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    quote = Quote.objects.get(name="Big deal")
    assert quote.number.startswith("QUO-")
    assert quote.modifiedby == systemuser
    line = QuoteDetail.objects.get(quote=quote)
    assert line.modifiedby == systemuser
    assert line.is_product_overridden is True


def test_editing_a_line_inline_records_modifiedby(admin_client, admin_user):
    quote = make_row(Quote, customer_account=None, customer_contact=None)
    line = make_row(QuoteDetail, quote=quote, product=None, uom=None)
    assert line.modifiedby is None
    url = admin_url(Quote, "change", quote.pk)
    data = admin_form_data(admin_client.get(url))
    data["lines-0-quantity"] = "7"
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    line.refresh_from_db()
    assert line.quantity == 7
    assert line.modifiedby.user == admin_user


def test_saving_twice_keeps_the_same_writer(admin_client, admin_user):
    # A save that leaves modifiedby as it was loaded would clear it (p2c.records): the admin writes as the user.
    account = make_row(Account, name="Contoso", primary_contact=None, parent_account=None, owner=None)
    url = admin_url(Account, "change", account.pk)
    for name in ("Contoso Ltd", "Contoso Limited"):
        data = admin_form_data(admin_client.get(url))
        data["name"] = name
        assert admin_client.post(url, data).status_code == 302
        account.refresh_from_db()
        assert account.name == name
        assert account.modifiedby is not None
        assert account.modifiedby.user == admin_user
    assert SystemUser.objects.filter(user=admin_user).count() == 1


def test_deleting_an_order_in_the_admin_updates_its_contact_as_the_user(admin_client, admin_user):
    contact = make_row(Contact, parent_account=None, parent_contact=None, owner=None)
    order = make_row(SalesOrder, customer_account=None, customer_contact=contact)
    contact.refresh_from_db()
    assert contact.is_active_customer is True
    response = admin_client.post(admin_url(SalesOrder, "delete", order.pk), {"post": "yes"})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.is_active_customer is False
    assert contact.modifiedby.user == admin_user


def test_a_price_list_with_many_lines_links_to_them_instead_of_editing_them_inline(admin_client, monkeypatch):
    from crm.admin import PriceLevelAdmin
    from crm.models import PriceLevel, ProductPriceLevel

    monkeypatch.setattr(PriceLevelAdmin, "max_inline_lines", 2)
    price_list = make_row(PriceLevel, transaction_currency=None)
    for _ in range(2):
        make_row(ProductPriceLevel, price_level=price_list)
    url = admin_url(PriceLevel, "change", price_list.pk)
    assert len(admin_client.get(url).context["inline_admin_formsets"]) == 1
    make_row(ProductPriceLevel, price_level=price_list)
    response = admin_client.get(url)
    assert response.context["inline_admin_formsets"] == []
    assert "3 items" in response.content.decode()
    lines_url = admin_url(ProductPriceLevel, "changelist")
    response = admin_client.get(lines_url, {"price_level__id__exact": str(price_list.pk)})
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 3


# Number sequences: next value goes up, never down ------------------------------------------------------------------
def test_a_number_sequence_next_value_cannot_be_lowered_in_the_admin(admin_client):
    from crm.models import NumberSequence
    from crm.numbering import numbers_allocate

    numbers_allocate(prefix="CON", count=5)  # CON-01000 … CON-01004 handed out
    url = admin_url(NumberSequence, "change", "CON")
    data = admin_form_data(admin_client.get(url))
    assert data["next_value"] == "1005"

    response = admin_client.post(url, {**data, "next_value": "1000"})
    assert response.status_code == 200  # the form again, with the error on the field
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["next_value"]
    assert "cannot go down" in errors["next_value"][0] and "1005" in errors["next_value"][0]
    assert NumberSequence.objects.get(name="CON").next_value == 1005

    assert admin_client.post(url, {**data, "next_value": "1005"}).status_code == 302  # unchanged is fine
    assert admin_client.post(url, {**data, "next_value": "2000"}).status_code == 302  # skipping numbers is fine
    assert NumberSequence.objects.get(name="CON").next_value == 2000
    assert numbers_allocate(prefix="CON", count=1)[0].startswith("CON-02000-")

