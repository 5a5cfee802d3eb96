"""What the integration's admin screens share: the "are you sure" page, the permission mixin of the actions, the
one-message outcome of an operation, the table-pair filter, and the change list that names the coupled records of
its page."""

import uuid
from collections import defaultdict

# admin.views.main: this package loads in the integration's ready(), before any other admin module.
import django.contrib.admin.views.main  # noqa: F401
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.utils import model_ngettext
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from integration.coupling.state import admin_change_url
from integration.labels import record_labels
from integration.models import Coupling
from integration.permissions import COUPLE_PERMISSION, RUN_PERMISSION
from p2c.doors import outcome_message, refused_message
from p2c.outcomes import OperationRefused

CLEANUP_DAYS = 7  # BC's "Delete entries older than 7 days"


def _confirm_page(modeladmin, request, queryset, *, action, title, summary):
    """An intermediate "are you sure" page in the manner of contrib.admin's delete_selected."""
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title, "opts": opts, "app_label": opts.app_label, "action": action,
        "count": (count := queryset.count()), "summary": summary, "selected_name": model_ngettext(opts, count),
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across") == "1",
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
    }
    return TemplateResponse(request, "admin/integration/coupling_confirm.html", context)


class IntegrationPermissionsMixin:
    """``has_<name>_permission`` for the integration's own permissions, used by ``@admin.action(permissions=…)``."""

    def has_run_synchronization_permission(self, request):
        return request.user.has_perm(RUN_PERMISSION)

    def has_change_couplings_permission(self, request):
        return request.user.has_perm(COUPLE_PERMISSION)

    def changelist_view(self, request, extra_context=None):
        # An action posted by someone who may not run it is refused outright, not silently dropped.
        action = request.POST.get("action") if request.method == "POST" else None
        if action and action in {name for _, name, _ in self._get_base_actions()} and action not in self.get_actions(
                request):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)


def _tell(modeladmin, request, operation, **kwargs):
    """Run an operation and say what it did in one message (its refusal, when refused as a whole)."""
    try:
        outcome = operation(**kwargs)
    except OperationRefused as exc:
        refused_message(modeladmin, request, exc)
        return None
    outcome_message(modeladmin, request, outcome)
    return outcome


class ModelPairFilter(admin.SimpleListFilter):
    title = _("tables")
    parameter_name = "pair"

    def lookups(self, request, model_admin):
        pairs = Coupling.objects.order_by().values_list("erp_model", "crm_model").distinct()
        return [(f"{erp}|{crm}", f"{erp} ↔ {crm}") for erp, crm in sorted(pairs)]

    def queryset(self, request, queryset):
        if self.value() and "|" in self.value():
            erp, crm = self.value().split("|", 1)
            return queryset.filter(erp_model=erp, crm_model=crm)
        return queryset


class LabelledChangeList(admin.views.main.ChangeList):
    """Reads the names of the coupled records of the page: one query per table, whatever the page size."""

    pairs = (("erp_model", "erp_id"), ("crm_model", "crm_id"))

    def get_results(self, request):
        super().get_results(request)
        wanted = defaultdict(set)
        for row in self.result_list:
            for model_field, id_field in self.pairs:
                if getattr(row, model_field) and getattr(row, id_field):
                    wanted[getattr(row, model_field)].add(_typed_id(getattr(row, model_field), getattr(row, id_field)))
        labels = record_labels(wanted)
        for row in self.result_list:
            row._p2c_labels = labels


def _typed_id(label, value):
    """Error rows keep ids as text: Sales ids are UUIDs, ERP ids integers."""
    if isinstance(value, str):
        try:
            return uuid.UUID(value) if label.startswith("crm.") else int(value)
        except ValueError:
            return value
    return value


def _record_link(obj, label, pk):
    if not label or pk in (None, ""):
        return "-"
    pk = _typed_id(label, pk)
    text = getattr(obj, "_p2c_labels", {}).get((label, pk), f"{label} {pk}")
    url = admin_change_url(label, pk)
    return format_html('<a href="{}">{}</a>', url, text) if url else text
