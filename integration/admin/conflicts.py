"""Integration → Conflicts: the conflict inbox in the admin (docs/decisions.md#the-conflict-inbox).

One row per coupled pair in conflict (mapping, both records linked, since when, the job), filtered by mapping,
kind and age; the pair side by side (the change page: per field in conflict the ERP value, the Sales value and the
value at the last synchronisation, the others folded away) with one-click resolutions; bulk actions take one side
for many. Every resolution is `integration.operations.conflicts.conflicts_resolve`; this module only translates.
"""

from datetime import timedelta

# admin.views.main: this package loads in the integration's ready(), before any other admin module.
import django.contrib.admin.views.main  # noqa: F401
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _

from p2c.admin_read_only import ReadOnlyAdminMixin

from ..coupling.state import admin_change_url
from ..engine.conflicts import REMOVE, RESTORE
from ..models import SyncConflict
from ..operations.conflict_inbox import conflict_sides
from ..operations.conflicts import FIELDS, TAKE_CRM, TAKE_ERP, conflicts_resolve
from ..permissions import RUN_PERMISSION, VIEW_CONFLICT_PERMISSION
from .helpers import _tell
from .selectors import conflict_for_compare, couplings_labels

AGES = {
    "1": (gettext_lazy("older than a day"), 1),
    "7": (gettext_lazy("older than a week"), 7),
    "30": (gettext_lazy("older than 30 days"), 30),
}


class AgeFilter(admin.SimpleListFilter):
    title = _("age")
    parameter_name = "older_than"

    def lookups(self, request, model_admin):
        return [(key, text) for key, (text, _) in AGES.items()]

    def queryset(self, request, queryset):
        if self.value() in AGES:
            return queryset.filter(since__lte=timezone.now() - timedelta(days=AGES[self.value()][1]))
        return queryset


class ConflictChangeList(admin.views.main.ChangeList):
    """Names the coupled records of the page: one query per table, whatever the page size."""

    def get_results(self, request):
        super().get_results(request)
        labels = couplings_labels(row.coupling for row in self.result_list)
        for row in self.result_list:
            row._p2c_labels = labels


def _record_link(obj, label, pk):
    text = getattr(obj, "_p2c_labels", {}).get((label, pk), f"{label} {pk}")
    url = admin_change_url(label, pk)
    return format_html('<a href="{}">{}</a>', url, text) if url else text


def _resolve(modeladmin, request, ids, resolution, fields=None):
    """Run the operation and tell it in one message; the outcome, or None when refused as a whole."""
    return _tell(modeladmin, request, conflicts_resolve, ids=ids, resolution=resolution, fields=fields,
                 decided_by=request.user.get_username())


@admin.register(SyncConflict)
class SyncConflictAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("conflict", "table_mapping", "kind", "erp_record", "crm_record", "fields_text", "since",
                    "job_link")
    list_filter = ("table_mapping", "kind", AgeFilter)
    list_select_related = ("coupling", "table_mapping")
    actions = ("take_erp", "take_crm", "restore", "remove_coupling")
    list_per_page = 100
    show_full_result_count = False
    ordering = ("-since", "-id")

    def get_changelist(self, request, **kwargs):
        return ConflictChangeList

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a conflict goes by resolving it
        return actions

    def has_resolve_permission(self, request):
        return request.user.has_perm(RUN_PERMISSION) and request.user.has_perm(VIEW_CONFLICT_PERMISSION)

    @admin.display(description=_("Conflict"), ordering="id")
    def conflict(self, obj):
        url = reverse("admin:integration_syncconflict_change", args=[obj.pk])
        # Translators: the link of a conflict in the conflicts list, to its side-by-side page.
        return format_html('<a href="{}">{}</a>', url, gettext("Compare #%(pk)s") % {"pk": obj.pk})

    @admin.display(description=_("ERP record"))
    def erp_record(self, obj):
        return _record_link(obj, obj.coupling.erp_model, obj.coupling.erp_id)

    @admin.display(description=_("Sales record"))
    def crm_record(self, obj):
        return _record_link(obj, obj.coupling.crm_model, obj.coupling.crm_id)

    @admin.display(description=_("Fields in conflict"))
    def fields_text(self, obj):
        if obj.kind == SyncConflict.Kind.DELETION:
            return gettext("ERP record deleted") if obj.deleted_side == "erp" else gettext("Sales record deleted")
        return ", ".join(obj.fields)

    @admin.display(description=_("Job"))
    def job_link(self, obj):
        if not obj.job_id:
            return "-"
        return format_html('<a href="{}">#{}</a>', reverse("admin:integration_syncjob_change", args=[obj.job_id]),
                           obj.job_id)

    # -- bulk actions ---------------------------------------------------------------------------------------------
    @admin.action(description=_("Take the ERP side"), permissions=["resolve"])
    def take_erp(self, request, queryset):
        _resolve(self, request, list(queryset.values_list("pk", flat=True)), TAKE_ERP)

    @admin.action(description=_("Take the Sales side"), permissions=["resolve"])
    def take_crm(self, request, queryset):
        _resolve(self, request, list(queryset.values_list("pk", flat=True)), TAKE_CRM)

    @admin.action(description=_("Restore the deleted records"), permissions=["resolve"])
    def restore(self, request, queryset):
        _resolve(self, request, list(queryset.values_list("pk", flat=True)), RESTORE)

    @admin.action(description=_("Remove coupling"), permissions=["resolve"])
    def remove_coupling(self, request, queryset):
        _resolve(self, request, list(queryset.values_list("pk", flat=True)), REMOVE)

    # -- the pair side by side ------------------------------------------------------------------------------------
    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        conflict = conflict_for_compare(object_id)
        changelist = reverse("admin:integration_syncconflict_changelist")
        if conflict is None:
            self.message_user(
                request,
                gettext("Conflict #%(object_id)s is no longer in the inbox (resolved already?).")
                % {"object_id": object_id},
                "warning",
            )
            return redirect(changelist)
        if request.method == "POST":
            if not self.has_resolve_permission(request):
                raise PermissionDenied
            resolution = request.POST.get("resolution", "")
            fields = {name: request.POST.get(f"field_{name}", "") for name in conflict.fields}
            outcome = _resolve(self, request, [conflict.pk], resolution, fields if resolution == FIELDS else None)
            if outcome is not None and not outcome.not_done:
                return redirect(changelist)
            return redirect(request.path)
        sides = conflict_sides(conflict)
        coupling, opts = conflict.coupling, self.model._meta
        labels = couplings_labels([coupling])
        context = {
            **self.admin_site.each_context(request),
            "title": f"{conflict.get_kind_display()}: {conflict.table_mapping.name}",
            "opts": opts, "app_label": opts.app_label, "conflict": conflict, "changelist_url": changelist,
            "erp_link": _record_link(_Labels(labels), coupling.erp_model, coupling.erp_id),
            "crm_link": _record_link(_Labels(labels), coupling.crm_model, coupling.crm_id),
            "in_conflict": [row for row in sides["fields"] if row["in_conflict"]],
            "others": [row for row in sides["fields"] if not row["in_conflict"]],
            "can_resolve": self.has_resolve_permission(request),
            "erp_missing": sides["erp"] is None, "crm_missing": sides["crm"] is None,
        }
        return TemplateResponse(request, "admin/integration/syncconflict/compare.html", context)


class _Labels:
    def __init__(self, labels):
        self._p2c_labels = labels
