"""The assisted set-up (docs/features.md I1; BC's "Set up a connection to Dynamics 365 Sales"): a small state machine
whose answers live in the session until the last step, then are applied in one go.

Steps: Sales connection (this database, or a Dataverse Web API: address, sign-in; *Test connection* tries the answers
before they are kept) → connection (enable, integration user) → what to synchronise (sales orders, item availability) → default
synchronisation setup (`integration_setup_reset`, then `schedules_create` for the enabled mappings) → finish
("run full synchronisation" opens the review page). Running it again changes the setup and keeps every coupling:
resetting mappings rewrites mappings and field mappings only. Needs ``integration.change_connectionsetup`` and
``integration.run_synchronization`` (403 otherwise).
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy, ngettext

from crm.models import SystemUser
from p2c.outcomes import OperationRefused
from p2c.sealing import PREFIX as SEALED_PREFIX
from p2c.sealing import sealed, unsealed

from ..background.schedules import log_cleanup_schedule_create, schedules_create
from ..configuration.history import configuration_recorded
from ..defaults import integration_setup_reset
from ..models import ConfigurationChange, ConnectionSetup, IntegrationTableMapping, SalesLocation
from ..operations.connection import sales_connection_test
from ..operations.sales_connection import SALES_CONNECTION_FIELDS, sales_connection_applied
from ..permissions import RUN_PERMISSION
from .forms import (
    WizardConnectionForm,
    WizardDefaultsForm,
    WizardFinishForm,
    WizardSalesForm,
    WizardSynchronizeForm,
)

SESSION_KEY = "p2c_setup_wizard"
SECRET = "sales_api_client_secret"
STEPS = (
    ("sales", gettext_lazy("Sales connection"), WizardSalesForm),
    ("connection", gettext_lazy("Connection"), WizardConnectionForm),
    ("synchronize", gettext_lazy("What to synchronise"), WizardSynchronizeForm),
    ("defaults", gettext_lazy("Synchronisation setup"), WizardDefaultsForm),
    ("finish", gettext_lazy("Finish"), WizardFinishForm),
)
STEP_NAMES = [name for name, _title, _form in STEPS]


# The answers wait in the session (a database table) until the last step: the secret waits there sealed as the
# stored one is (p2c.sealing: P2C_SECRETS_KEY or var/secrets.key), a key every process of the instance shares, which
# DJANGO_SECRET_KEY is not on a development machine (random per process: a step served by another process lost it).
def _unsealed(token):
    """The secret waiting in the session; none (to be entered again) for a token not sealed by p2c.sealing (left by
    an earlier version) or sealed with another key."""
    return unsealed(token) if token and token.startswith(SEALED_PREFIX) else ""


def _initial(step):
    setup = ConnectionSetup.get_solo()
    if step == "sales":
        return {field: getattr(setup, field) for field in SALES_CONNECTION_FIELDS}
    if step == "connection":
        user = setup.integration_user or SystemUser.objects.filter(is_integration_user=True).first()
        return {"is_enabled": True, "integration_user": user.pk if user else None}
    if step == "synchronize":
        return {f: getattr(setup, f) for f in ("sales_order_integration_enabled", "create_sales_orders_automatically",
                                               "item_availability_enabled")}
    return {}


def _form(step, state, data=None, initial=None):
    form_class = {n: f for n, _t, f in STEPS}[step]
    sales = state["data"].get("sales", {})
    kwargs = {}
    if step == "connection":
        kwargs = {"admin_site": admin.site, "sales_remote": sales.get("sales_location") == SalesLocation.WEB_API}
    if step == "sales" and sales.get(SECRET):
        kwargs = {"kept_secret": (_unsealed(sales[SECRET]), sales.get("secret_for"))}
    return form_class(data, initial=initial, prefix=step, **kwargs)


def _serialisable(form):
    data = {k: (str(v.pk) if hasattr(v, "pk") else v) for k, v in form.cleaned_data.items()}
    if isinstance(form, WizardSalesForm):
        data[SECRET], data["secret_for"] = sealed(form.secret()), form.bound_values()
    return data


def setup_wizard_view(request):
    if not (request.user.has_perm("integration.change_connectionsetup") and request.user.has_perm(RUN_PERMISSION)):
        raise PermissionDenied
    state = request.session.get(SESSION_KEY) or {"step": STEP_NAMES[0], "data": {}}
    if request.method == "GET" and "restart" in request.GET:
        state = {"step": STEP_NAMES[0], "data": {}}
    step = state["step"] if state["step"] in STEP_NAMES else STEP_NAMES[0]
    index = STEP_NAMES.index(step)
    if request.method == "POST":
        if "back" in request.POST and index > 0:
            state["step"] = STEP_NAMES[index - 1]
            request.session[SESSION_KEY] = state
            return redirect("admin:integration_setup_wizard")
        form = _form(step, state, request.POST)
        if step == "sales" and "test" in request.POST:
            if form.is_valid():
                _test(request, form)
                # Kept for Next, which comes with the secret's field empty (it is never shown back).
                state["data"][step] = _serialisable(form)
                request.session[SESSION_KEY] = state
            return _page(request, state, step, form)
        if form.is_valid():
            state["data"][step] = _serialisable(form)
            if index + 1 < len(STEP_NAMES):
                state["step"] = STEP_NAMES[index + 1]
                request.session[SESSION_KEY] = state
                return redirect("admin:integration_setup_wizard")
            request.session.pop(SESSION_KEY, None)
            return _finish(request, state["data"])
    else:
        form = _form(step, state, initial=state["data"].get(step) or _initial(step))
    return _page(request, state, step, form)


def _test(request, form):
    """*Test connection* with the step's answers, before they are kept: green naming the Sales user, red naming
    what failed."""
    try:
        messages.success(request, sales_connection_test(form.applied()))
    except OperationRefused as exc:
        messages.error(request, exc.message)


def _page(request, state, step, form):
    index = STEP_NAMES.index(step)
    context = {
        **admin.site.each_context(request),
        "title": gettext("Assisted set-up of the Sales integration"),
        "form": form,
        "steps": [(n, t) for n, t, _f in STEPS],
        "step": step,
        "step_title": STEPS[index][1],
        "first": index == 0,
        "last": index == len(STEPS) - 1,
        "summary": _summary(state["data"]) if step == "finish" else None,
        "environment_names": getattr(form, "environment_names", None),
    }
    return TemplateResponse(request, "admin/integration/setup_wizard.html", context)


def _summary(data):
    connection, sync, defaults = data.get("connection", {}), data.get("synchronize", {}), data.get("defaults", {})
    sales = data.get("sales", {})
    if sales.get("sales_location") == SalesLocation.WEB_API:
        lines = [gettext("Sales: the Dataverse Web API at %(url)s.") % {"url": sales.get("sales_api_url") or "-"}]
    else:
        lines = [gettext("Sales: this database.")]
    user = SystemUser.objects.filter(pk=connection.get("integration_user")).first()
    user_name = user or "-"
    if connection.get("is_enabled"):
        lines.append(gettext("Connection: enabled, integration user %(user)s.") % {"user": user_name})
    else:
        lines.append(gettext("Connection: disabled, integration user %(user)s.") % {"user": user_name})
    if not sync.get("sales_order_integration_enabled"):
        lines.append(gettext("Sales orders: not synchronised."))
    elif sync.get("create_sales_orders_automatically"):
        lines.append(gettext("Sales orders: synchronised, created in the ERP automatically."))
    else:
        lines.append(gettext("Sales orders: synchronised."))
    if sync.get("item_availability_enabled"):
        lines.append(gettext("Item availability: shown in Sales."))
    else:
        lines.append(gettext("Item availability: not shown."))
    if defaults.get("use_default_setup"):
        lines.append(
            gettext(
                "Default synchronisation setup: the default mappings are (re)created, modified records synchronised "
                "every %(minutes)s minutes. Couplings are kept."
            )
            % {"minutes": defaults.get("every_minutes")}
        )
    else:
        lines.append(gettext("The mappings are left as they are."))
    return lines


def _finish(request, data):
    connection, sync, defaults = data.get("connection", {}), data.get("synchronize", {}), data.get("defaults", {})
    finish = data.get("finish", {})
    schedules = 0
    sales = data.get("sales", {})
    with configuration_recorded(user=request.user, door=ConfigurationChange.Door.WIZARD), transaction.atomic():
        setup = ConnectionSetup.get_solo()
        if sales:
            sales_connection_applied(sales, secret=_unsealed(sales.get(SECRET, "")), setup=setup)
        setup.is_enabled = bool(connection.get("is_enabled"))
        setup.integration_user = SystemUser.objects.filter(pk=connection.get("integration_user")).first()
        for field in ("sales_order_integration_enabled", "create_sales_orders_automatically",
                      "item_availability_enabled"):
            setattr(setup, field, bool(sync.get(field)))
        setup.save()
        if setup.integration_user and not setup.integration_user.is_integration_user:
            SystemUser.objects.filter(pk=setup.integration_user.pk).update(is_integration_user=True)
        if defaults.get("use_default_setup"):
            integration_setup_reset()
            schedules = _schedules_create(defaults.get("every_minutes") or 30)
    messages.success(
        request,
        gettext("The connection is set up")
        + (
            ngettext(": default mappings in place, %(schedules)s scheduled synchronisation.",
                     ": default mappings in place, %(schedules)s scheduled synchronisations.", schedules)
            % {"schedules": schedules}
            if defaults.get("use_default_setup")
            else "."
        ),
    )
    if finish.get("run_full_sync"):
        return redirect("admin:integration_full_sync_review")
    return redirect(reverse("admin:integration_connectionsetup_changelist"))


def _schedules_create(every_minutes):
    """Schedule the synchronisation of modified records of the enabled mappings (integration.background.schedules)."""
    mappings = list(IntegrationTableMapping.objects.filter(is_enabled=True, parent=None))
    result = schedules_create(mappings=mappings, every_minutes=every_minutes)
    log_cleanup_schedule_create()
    return len(result) if hasattr(result, "__len__") else len(mappings)
