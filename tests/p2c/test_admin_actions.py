"""Every admin action declares its permissions, and none runs for a user who may only view
(docs/decisions.md#bounded-and-total-doors).

A view-only colleague posted ``action=create_projects`` to the F&O templates list and a project was created each
time; merely opening that list inserted the built-in templates. Now a system check (p2c.checks) refuses any action
without ``allowed_permissions``, and this walks every action of every admin list as a user holding every view
permission and nothing else: each is refused (403, or Django's "No action selected." as it answers an action the
user is not offered) and no row of any table changes.
"""

import hashlib

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import PermissionDenied
from django.db import connections, router
from django.test import RequestFactory
from django.urls import resolve, reverse

from integration.demo import demo_seed
from integration.fo.templates import ACCOUNTS_TEMPLATE, fo_templates_install
from integration.models import IntegrationProject, IntegrationTemplate
from p2c.checks import admin_actions_declare_permissions, admin_actions_of
from tests.integration.fo_helpers import make_project


def test_every_admin_action_declares_its_permissions():
    assert admin_actions_declare_permissions() == []
    names = {name for modeladmin in admin.site._registry.values() for name, _ in admin_actions_of(modeladmin)}
    assert {"create_projects", "run_project", "couple_set_up", "synchronization_log", "revoke_tokens",
            "delete_selected"} <= names  # the check sees the actions added per request and the OAuth token lists' too


def test_the_check_names_an_action_without_permissions(monkeypatch):
    @admin.action(description="Do it")
    def do_it(modeladmin, request, queryset):
        queryset.delete()

    class CarelessAdmin(admin.ModelAdmin):
        actions = [do_it]

    monkeypatch.setitem(admin.site._registry, IntegrationProject, CarelessAdmin(IntegrationProject, admin.site))
    (error,) = admin_actions_declare_permissions()
    assert error.id == "p2c.E010" and "'do_it' of" in error.msg and "integration.IntegrationProject" in error.msg


@pytest.fixture
def world(mappings):
    """A few rows in every table an admin list shows: demo records, the mappings, an F&O project."""
    demo_seed(scale=5, seed=5)
    make_project(ACCOUNTS_TEMPLATE)
    return mappings


@pytest.fixture
def viewer_user(django_user_model):
    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    return user


@pytest.fixture
def viewer(client, viewer_user):
    client.force_login(viewer_user)
    return client


def fingerprint():
    """Every row of every table (the sessions aside: signing in writes one), as one digest per table."""
    digests = {}
    for model in apps.get_models():
        if model._meta.label == "sessions.Session":
            continue
        alias = router.db_for_read(model)
        if alias not in connections:
            continue
        rows = model.objects.using(alias).order_by("pk").values_list()
        digests[model._meta.label] = hashlib.sha256(repr(list(rows)).encode()).hexdigest()
    return digests


def post_action(view, user, url, data):
    """POST ``data`` to an admin list's view (the site's admin_view wrapper: its sign-in and view-permission checks,
    then the ModelAdmin's changelist_view) as ``user``: ``(status, messages, response)``. Called directly rather
    than through the test client, so that a list page answered with 200 is not rendered: rendering every list ~400
    times (and following each redirect to render it again) was what made this walk take minutes."""
    request = RequestFactory().post(url, data)
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    request._dont_enforce_csrf_checks = True
    try:
        response = view(request)
    except PermissionDenied:
        return 403, [], None
    return response.status_code, [str(message) for message in request._messages], response


def offered(response, name):
    """Whether the list page in ``response`` (not rendered) offers the action ``name`` in its actions menu."""
    action_form = (getattr(response, "context_data", None) or {}).get("action_form")
    return bool(action_form) and name in dict(action_form.fields["action"].choices)


def test_a_view_only_user_runs_no_admin_action(world, viewer_user):
    before = fingerprint()
    walked = 0
    for model, modeladmin in admin.site._registry.items():
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        view = resolve(url).func
        first = model.objects.order_by("pk").values_list("pk", flat=True).first()
        for name, _ in admin_actions_of(modeladmin):
            status, told, response = post_action(view, viewer_user, url,
                                                 {"action": name, "index": "0", "_selected_action": [first or 1]})
            # Refused outright (403), or Django's answer to an action the user is not offered ("No action
            # selected.", then back to the list), or, when the user is offered no action at all, the list itself
            # without this action in it, or a list that is only a way to its one record (the connection set-up:
            # sent to the record's page, nothing told): in no case did the action run.
            refused = status == 403 or (status == 302 and "No action selected." in told)
            ignored = ((status == 200 and not offered(response, name))
                       or (status == 302 and not told and response.url != url))
            assert refused or ignored, (opts.label, name, status, told)
            walked += 1
    assert walked > 100
    assert fingerprint() == before


def test_a_view_only_user_creates_no_project_from_a_template(world, viewer):
    template = IntegrationTemplate.objects.get(name=ACCOUNTS_TEMPLATE)
    projects = list(IntegrationProject.objects.values_list("name", flat=True))
    for _ in range(2):
        response = viewer.post(reverse("admin:integration_integrationtemplate_changelist"),
                               {"action": "create_projects", "index": "0", "_selected_action": [template.pk]},
                               follow=True)
        page = response.content.decode()
        assert response.status_code == 200 and 'value="create_projects"' not in page  # not offered, not run
    assert list(IntegrationProject.objects.values_list("name", flat=True)) == projects


def test_opening_the_templates_list_writes_nothing(db, viewer):
    # A new database has them from its migration (the test database is built without migrations: none here).
    assert not IntegrationTemplate.objects.exists()
    response = viewer.get(reverse("admin:integration_integrationtemplate_changelist"))
    assert response.status_code == 200
    assert not IntegrationTemplate.objects.exists()
    fo_templates_install()  # what the migration and p2c_run --create do
    assert IntegrationTemplate.objects.filter(builtin=True).count() == 3
