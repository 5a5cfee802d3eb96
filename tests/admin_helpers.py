"""Helpers for the admin tests: rows of any model with their foreign keys filled, and admin form data.

`make_row(model)` builds a valid row of any Sales or ERP model from its field definitions: required and
unique fields get values, and every foreign key (nullable or not) points to a fresh row of its own, so a
changelist that reads a relation per row shows it as a growing query count.
"""

import itertools
import uuid
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import models
from django.urls import reverse
from django.utils import timezone

_serial = itertools.count(1)


def registered_admins(app_label):
    """(model, model admin) of every model of ``app_label`` registered in the admin site, in a stable order."""
    return sorted(
        ((model, model_admin) for model, model_admin in admin.site._registry.items()
         if model._meta.app_label == app_label),
        key=lambda pair: pair[0]._meta.label,
    )


def model_ids(pairs):
    return [model._meta.label for model, _model_admin in pairs]


def is_singleton(model):
    return hasattr(model, "get_solo")


def admin_url(model, view, *args):
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def _text(field, serial):
    value = f"{field.name[:6].upper()}{serial}"
    if isinstance(field, models.EmailField):
        value = f"user{serial}@example.com"
    elif isinstance(field, models.URLField):
        value = f"https://example.com/{serial}"
    max_length = field.max_length or 200
    return value[-max_length:]


def _value(field, serial):
    if field.choices:
        return next(value for value, _label in field.flatchoices if value != "")
    if isinstance(field, models.CharField | models.TextField):
        return _text(field, serial)
    if isinstance(field, models.DecimalField):
        return Decimal("1")
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, models.IntegerField):
        return serial
    if isinstance(field, models.DateTimeField):
        return timezone.now()
    if isinstance(field, models.DateField):
        return timezone.localdate()
    if isinstance(field, models.UUIDField):
        return uuid.UUID(int=serial)
    raise NotImplementedError(f"no test value for {field!r}")


def row_kwargs(model, *, relations="all", serial=None):
    """Field values for a new row of ``model``. ``relations``: fill "all" foreign keys or only "required" ones."""
    serial = next(_serial) if serial is None else serial
    kwargs = {}
    for field in model._meta.concrete_fields:
        if field.auto_created or (field.primary_key and field.has_default()):
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            continue
        if field.is_relation:
            if not field.editable:
                continue
            if field.null and relations != "all":
                continue
            # The related row's own keys: required ones only, so the chain of rows stays finite.
            kwargs[field.name] = make_row(field.related_model, relations="required")
            continue
        if not field.editable:
            continue
        needed = not field.blank and not field.has_default()
        if needed or field.unique or field.name in ("no", "number"):
            kwargs[field.name] = _value(field, serial)
    _make_consistent(model, kwargs, serial)
    return kwargs


def _make_consistent(model, kwargs, serial):
    """What the field definitions cannot say: the models' check constraints."""
    label = model._meta.label
    if label == "crm.Contact" and kwargs.get("parent_account") and kwargs.get("parent_contact"):
        # The company of a contact is an account or a contact: alternate, so both columns are exercised.
        kwargs.pop("parent_contact" if serial % 2 else "parent_account")
    if label == "erp.Contact" and kwargs.get("company"):
        kwargs["type"] = model.Type.PERSON
    if label == get_user_model()._meta.label:
        kwargs.update(is_staff=False, is_superuser=False, password="!")


def make_row(model, *, relations="all", **overrides):
    """Create and return a row of ``model`` (see `row_kwargs`), with ``overrides`` applied."""
    kwargs = row_kwargs(model, relations=relations)
    kwargs.update(overrides)
    return model.objects.create(**kwargs)


def make_rows(model, count):
    return [make_row(model) for _ in range(count)]


def admin_form_data(response):
    """The POST data a browser would send for the admin form in ``response``, as the page shows it."""
    data = {}

    def add(bound_field):
        value = bound_field.value()
        if value is None or value is False:
            return
        if value is True:
            data[bound_field.html_name] = "on"
        elif isinstance(value, list | tuple):
            data[bound_field.html_name] = [str(v) for v in value]
        else:
            data[bound_field.html_name] = str(value)

    form = response.context["adminform"].form
    for name in form.fields:
        add(form[name])
    for inline_admin_formset in response.context["inline_admin_formsets"]:
        formset = inline_admin_formset.formset
        management_form = formset.management_form
        for name in management_form.fields:
            data[management_form.add_prefix(name)] = str(management_form[name].value())
        for inline_form in formset.forms:
            for name in inline_form.fields:
                add(inline_form[name])
    return data


def changelist_queries(client, model, **params):
    """GET the changelist of ``model``; return (number of queries it ran, response)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(admin_url(model, "changelist"), params)
    assert response.status_code == 200, response
    return len(captured.captured_queries), response, captured.captured_queries


def assert_changelist_queries_constant(client, model, *, few=5, many=50):
    """Load the changelist with ``few`` then ``many`` rows (foreign keys filled): the query count must not grow.

    Returns the number of queries of the changelist.
    """
    make_rows(model, few)
    queries_few, _response, _queries = changelist_queries(client, model)
    make_rows(model, many - few)
    queries_many, response, queries = changelist_queries(client, model)
    changelist = response.context["cl"]
    assert len(changelist.result_list) >= many
    assert queries_many == queries_few, (
        f"{model._meta.label} changelist: {queries_few} queries with {few} rows, {queries_many} with {many}:\n"
        + "\n".join(q["sql"][:300] for q in queries[:30])
    )
    return queries_many


def form_foreign_keys_not_autocomplete(form_class, *, exclude=()):
    """Names of the foreign-key fields of ``form_class`` whose widget is not an autocomplete."""
    from django import forms
    from django.contrib.admin.widgets import AutocompleteSelect, RelatedFieldWidgetWrapper

    offenders = []
    for name, field in form_class.base_fields.items():
        if name in exclude or not isinstance(field, forms.ModelChoiceField):
            continue
        widget = field.widget.widget if isinstance(field.widget, RelatedFieldWidgetWrapper) else field.widget
        if not isinstance(widget, AutocompleteSelect):
            offenders.append(name)
    return offenders


def autocomplete_cases(app_label):
    """(model, field name) of every autocomplete field of the admins of ``app_label`` and of their inlines."""
    cases = []
    for model, model_admin in registered_admins(app_label):
        for field_name in model_admin.autocomplete_fields:
            cases.append((model, field_name))
        for inline_class in model_admin.inlines:
            for field_name in inline_class.autocomplete_fields:
                cases.append((inline_class.model, field_name))
    return sorted(set(cases), key=lambda case: (case[0]._meta.label, case[1]))


def admin_list_tests(lists, heavy):
    """The changelist tests every app's admin passes: over ``lists`` ((model, model admin) pairs of the admins that
    have a list) the query count does not grow with the rows and search runs; over the ``heavy`` models it stays
    constant over a full page. A test module binds them to its own ``test_`` names.
    """

    @pytest.mark.parametrize(("model", "model_admin"), lists, ids=model_ids(lists))
    def test_changelist_query_count_does_not_grow_with_rows(admin_client, model, model_admin):
        assert_changelist_queries_constant(admin_client, model)

    @pytest.mark.parametrize("model", heavy, ids=lambda m: m._meta.label)
    def test_heavy_changelists_stay_constant_over_a_full_page(admin_client, model):
        assert_changelist_queries_constant(admin_client, model, few=5, many=100)

    @pytest.mark.parametrize(("model", "model_admin"), lists, ids=model_ids(lists))
    def test_search_runs_on_every_changelist(admin_client, model, model_admin):
        assert model_admin.search_fields, f"{model._meta.label} has no search fields"
        make_row(model)
        _queries, response, _sql = changelist_queries(admin_client, model, q="nothing-matches-this")
        assert list(response.context["cl"].result_list) == []

    return (
        test_changelist_query_count_does_not_grow_with_rows,
        test_heavy_changelists_stay_constant_over_a_full_page,
        test_search_runs_on_every_changelist,
    )


def admin_form_tests(admins, autocompletes):
    """The form tests every app's admin passes, parametrized over ``admins`` ((model, model admin) pairs) and
    ``autocompletes`` ((model, field name) pairs): every editable field is on the page, foreign keys are
    autocompletes, and every autocomplete answers. A test module binds them to its own ``test_`` names.
    """

    @pytest.mark.parametrize(("model", "model_admin"), admins, ids=model_ids(admins))
    def test_every_editable_field_is_on_the_page(rf, admin_user, model, model_admin):
        from django.contrib.admin.utils import flatten_fieldsets

        request = rf.get("/")
        request.user = admin_user
        shown = set(flatten_fieldsets(model_admin.get_fieldsets(request, None)))
        editable = {f.name for f in model._meta.concrete_fields if f.editable and not f.auto_created}
        assert editable - shown == set()

    @pytest.mark.parametrize(("model", "model_admin"), admins, ids=model_ids(admins))
    def test_foreign_keys_are_autocompletes(rf, admin_user, model, model_admin):
        request = rf.get("/")
        request.user = admin_user
        assert form_foreign_keys_not_autocomplete(model_admin.get_form(request)) == []
        for inline in model_admin.get_inline_instances(request):
            formset = inline.get_formset(request)
            assert form_foreign_keys_not_autocomplete(formset.form, exclude={formset.fk.name}) == [], inline

    @pytest.mark.parametrize(("model", "field_name"), autocompletes,
                             ids=[f"{m._meta.label}.{f}" for m, f in autocompletes])
    def test_autocomplete_answers(admin_client, model, field_name):
        # Its own keys left blank: a contact with a company is a person, and the company field offers only companies.
        target = make_row(model._meta.get_field(field_name).related_model, relations="required")
        response = admin_client.get(
            "/admin/autocomplete/",
            {"app_label": model._meta.app_label, "model_name": model._meta.model_name, "field_name": field_name,
             "term": ""},
        )
        assert response.status_code == 200
        assert str(target.pk) in {result["id"] for result in response.json()["results"]}

    return test_every_editable_field_is_on_the_page, test_foreign_keys_are_autocompletes, test_autocomplete_answers
