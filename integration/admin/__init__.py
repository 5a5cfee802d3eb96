"""The integration's admin screens and their forms (docs/features.md I1-I4, I6, I7, X1): doors onto the operations.

This module (what Django's admin autodiscovery imports) registers the connection setup, table mappings with their
field mappings, value maps and couplings, and mounts the full synchronisation review page (full_sync), the health
page (health) and the set-up wizard (wizard) under the connection setup. Beside it: jobs, their errors and failed
inserts (jobs), the conflict inbox (conflicts), the coupling column, filter and actions of the Sales and ERP lists
(coupling, coupling_state; added to them by integration.contributions), the configuration's export and import
(configuration; the list of its history is integration/configuration/history_admin.py, which the F&O admin uses
too), the forms of the intermediate pages and the wizard (forms), what the screens share (helpers) and their reads
(selectors).

The screens may import anything of the integration below the doors (operations, coupling, full_sync, health,
background, configuration, the engine's validation, the models), never the API, the commands or the tasks; nothing
below them imports them (the contracts of pyproject.toml).

Every action is a thin door onto integration.operations (and integration.defaults); each checks its permission
(``integration.run_synchronization`` or ``integration.change_couplings``), asks first when it is destructive or
heavy, and ends with one message that counts what happened (p2c.doors.outcome_message).
The Finance and Operations data integration screens live in integration/fo/admin.py.
"""

from collections import defaultdict
from urllib.parse import urlencode

from django.apps import apps
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.utils.translation import gettext_lazy as _

from integration.fo import admin as fo_admin  # noqa: F401  (F&O data integration admin)
from p2c.doors import outcome_message, refused_message
from p2c.outcomes import OperationRefused, Outcome

from ..configuration import EXPORT_PERMISSIONS, IMPORT_PERMISSIONS
from ..configuration.history_admin import ConfigurationHistoryAdminMixin, mapping_history_html
from ..defaults import default_mapping_names, integration_setup_reset
from ..labels import record_labels
from ..models import (
    ConnectionSetup,
    Coupling,
    IntegrationFieldMapping,
    IntegrationTableMapping,
    ValueMap,
    ValueMapEntry,
    sales_connection_effective,
)
from ..operations import (
    GET,
    SEND,
    couplings_delete,
    skipped_restore,
    synchronize_mappings,
    synchronize_now,
)
from ..operations.connection import sales_connection_test
from ..operations.sales_connection import sales_connection_description
from ..permissions import RUN_PERMISSION
from . import (
    conflicts as conflicts_admin,  # noqa: F401  (the conflict inbox)
)
from . import (
    jobs as jobs_admin,  # noqa: F401  (jobs, errors, failed inserts)
)
from .configuration import configuration_export_view, configuration_import_view
from .coupling import COUPLE_PERMISSION
from .forms import FieldMappingInlineFormSet, TableMappingForm
from .full_sync import full_sync_review_view, full_sync_status_view
from .health import health_view
from .helpers import (
    IntegrationPermissionsMixin,
    LabelledChangeList,
    ModelPairFilter,
    _confirm_page,
    _record_link,
    _tell,
)
from .wizard import setup_wizard_view


# -- connection setup (singleton) with the wizard and the review page ---------------------------------------------
@admin.register(ConnectionSetup)
class ConnectionSetupAdmin(ConfigurationHistoryAdminMixin, admin.ModelAdmin):
    fields = ("sales_connection", "is_enabled", "integration_user", "sales_order_integration_enabled",
              "create_sales_orders_automatically", "item_availability_enabled", "log_retention_days",
              "alert_recipients", "alert_lag_minutes", "alert_worker_minutes", "alert_period_minutes", "pages")
    readonly_fields = ("sales_connection", "sales_connection_testable", "pages", "review_page")
    autocomplete_fields = ("integration_user",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        obj = ConnectionSetup.get_solo()
        return redirect(reverse("admin:integration_connectionsetup_change", args=[obj.pk],
                                current_app=self.admin_site.name))

    def get_fields(self, request, obj=None):
        # The set-up wizard and the review page need integration.run_synchronization (the wizard also the right
        # to change this setup): a user without it does not see links that would answer 403.
        fields = [f for f in super().get_fields(request, obj)
                  if f not in ("pages", "review_page", "sales_connection_testable")]
        if self.has_change_permission(request, obj):
            fields[fields.index("sales_connection")] = "sales_connection_testable"
        if request.user.has_perm(RUN_PERMISSION):
            fields.append("pages" if request.user.has_perm("integration.change_connectionsetup") else "review_page")
        return fields

    @admin.display(description=_("Sales connection"))
    def sales_connection(self, obj):
        return sales_connection_description()  # changed in the assisted set-up (its first step)

    @admin.display(description=_("Sales connection"))
    def sales_connection_testable(self, obj):
        # With Test connection, for a user who may change the setup: the button posts the page's form (and its
        # CSRF token) to the test's own address, which changes nothing.
        if sales_connection_effective() is None:
            return self.sales_connection(obj)
        return format_html('{} &nbsp; <button type="submit" class="button" id="p2c-sales-test" formaction="{}" '
                           'formnovalidate>{}</button>', sales_connection_description(),
                           reverse("admin:integration_sales_connection_test"), gettext("Test connection"))

    def sales_connection_test_view(self, request):
        """*Test connection* of the Sales connection in force: green naming the Sales user, red naming what failed."""
        if request.method != "POST":
            return redirect("admin:integration_connectionsetup_changelist")
        if not self.has_change_permission(request):
            raise PermissionDenied
        try:
            messages.success(request, sales_connection_test())
        except OperationRefused as exc:
            messages.error(request, exc.message)
        return redirect("admin:integration_connectionsetup_changelist")

    @admin.display(description=_("Set-up and synchronisation"))
    def pages(self, obj):
        return format_html(
            '<a class="button" href="{}">{}</a> &nbsp; {}',
            reverse("admin:integration_setup_wizard"), gettext("Assisted set-up"), self.review_page(obj),
        )

    @admin.display(description=_("Synchronisation"))
    def review_page(self, obj):
        return format_html('<a class="button" href="{}">{}</a>', reverse("admin:integration_full_sync_review"),
                           gettext("Full synchronisation review"))

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("full-synchronization/", wrap(full_sync_review_view), name="integration_full_sync_review"),
            path("full-synchronization/status/", wrap(full_sync_status_view), name="integration_full_sync_status"),
            path("assisted-setup/", wrap(setup_wizard_view), name="integration_setup_wizard"),
            path("health/", wrap(health_view), name="integration_health"),
            path("sales-connection-test/", wrap(self.sales_connection_test_view),
                 name="integration_sales_connection_test"),
            *super().get_urls(),
        ]


# -- value maps ---------------------------------------------------------------------------------------------------
class ValueMapEntryInline(admin.TabularInline):
    model = ValueMapEntry
    extra = 1
    fields = ("erp_value", "crm_value")


@admin.register(ValueMap)
class ValueMapAdmin(ConfigurationHistoryAdminMixin, admin.ModelAdmin):
    list_display = ("name", "description", "entry_count")
    search_fields = ("name", "description")
    inlines = (ValueMapEntryInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_entries=Count("entries"))

    @admin.display(description=_("Entries"), ordering="_entries")
    def entry_count(self, obj):
        return obj._entries


# -- table mappings -----------------------------------------------------------------------------------------------
class IntegrationFieldMappingInline(admin.TabularInline):
    model = IntegrationFieldMapping
    formset = FieldMappingInlineFormSet
    extra = 0
    fields = ("erp_field", "crm_field", "direction", "constant_value", "default_value", "status", "value_map",
              "transformation", "validate_field", "clear_value_on_failed_sync", "not_null", "create_only",
              "use_for_match_coupling", "match_priority", "case_sensitive_matching")
    autocomplete_fields = ("value_map",)


@admin.register(IntegrationTableMapping)
class IntegrationTableMappingAdmin(ConfigurationHistoryAdminMixin, IntegrationPermissionsMixin, admin.ModelAdmin):
    form = TableMappingForm
    list_display = ("name", "erp_model", "crm_model", "direction", "is_enabled", "realtime_sync",
                    "dependency_names", "sync_only_coupled", "errors_link", "sort_order")
    list_filter = ("is_enabled", "direction", "user_defined", "realtime_sync")
    search_fields = ("name", "erp_model", "crm_model")
    filter_horizontal = ("dependencies",)
    readonly_fields = ("erp_watermark", "crm_watermark", "locked_by", "locked_at", "created_at",
                       "configuration_history")
    inlines = (IntegrationFieldMappingInline,)
    actions = ("synchronize_modified", "synchronize_full", "reset_to_default")
    fieldsets = (
        (None, {"fields": ("name", "erp_model", "crm_model", "crm_option_field", "direction", "is_enabled",
                           "realtime_sync", "sort_order")}),
        (gettext_lazy("Filters"), {"fields": ("erp_filter", "crm_filter", "sync_only_coupled", "create_new_if_no_match",
                                "sync_after_match_coupling")}),
        (gettext_lazy("Dependencies"), {"fields": ("dependencies", "parent", "parent_erp_field", "parent_crm_field")}),
        (gettext_lazy("Conflicts"), {"fields": ("update_conflict_resolution", "deletion_conflict_resolution")}),
        (gettext_lazy("Rules and state"), {"fields": ("definition_key", "user_defined", "erp_watermark", "crm_watermark",
                                        "locked_by", "locked_at", "created_at"), "classes": ("collapse",)}),
        (gettext_lazy("History"), {"fields": ("configuration_history",)}),
    )

    @admin.display(description=gettext_lazy("Configuration changes"))
    def configuration_history(self, obj):
        return mapping_history_html(obj)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("export/", wrap(configuration_export_view), name="integration_configuration_export"),
            path("import/", wrap(lambda request: configuration_import_view(request, self)),
                 name="integration_configuration_import"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        urls = {"export": reverse("admin:integration_configuration_export")
                if request.user.has_perms(EXPORT_PERMISSIONS) else None,
                "import": reverse("admin:integration_configuration_import")
                if request.user.has_perms(IMPORT_PERMISSIONS) else None}
        return super().changelist_view(request, {**(extra_context or {}), "configuration_urls": urls})

    def save_formset(self, request, form, formset, change):
        if formset.model is IntegrationFieldMapping and form.instance.is_option_mapping:
            # The mapping's direction, chosen on this form, is the one its option field mappings go.
            for row in formset.forms:
                row.instance.direction = form.instance.direction
        super().save_formset(request, form, formset, change)

    def get_queryset(self, request):
        return (super().get_queryset(request).prefetch_related("dependencies")
                .annotate(_failed=Count("jobs", filter=Q(jobs__failed__gt=0))))

    @admin.display(description=_("Dependencies"))
    def dependency_names(self, obj):
        return ", ".join(d.name for d in obj.dependencies.all())

    @admin.display(description=_("Jobs with errors"), ordering="_failed")
    def errors_link(self, obj):
        if not obj._failed:
            return "0"
        url = reverse("admin:integration_syncjob_changelist") + "?" + urlencode(
            {"table_mapping__id__exact": obj.pk, "failed__gt": 0})
        return format_html('<a href="{}">{}</a>', url, obj._failed)

    @admin.action(description=_("Synchronise modified records"), permissions=["run_synchronization"])
    def synchronize_modified(self, request, queryset):
        _tell(self, request, synchronize_mappings, mappings=list(queryset))

    @admin.action(description=_("Run full synchronisation"), permissions=["run_synchronization"])
    def synchronize_full(self, request, queryset):
        if "p2c-submit" not in request.POST:
            return _confirm_page(
                self,
                request,
                queryset,
                action="synchronize_full",
                title=gettext("Run full synchronisation"),
                summary=[
                    (
                        gettext(
                            "Every record of the selected mappings is read; uncoupled records are not created by this "
                            "action (use the full synchronisation review for the first synchronisation)."
                        )
                    ),
                    *[f"{m.name}: {m.get_direction_display()}" for m in queryset],
                ],
            )
        _tell(self, request, synchronize_mappings, mappings=list(queryset), full=True)

    @admin.action(description=_("Reset to default"), permissions=["change"])
    def reset_to_default(self, request, queryset):
        defaults = set(default_mapping_names())
        names = [m.name for m in queryset if m.name in defaults]
        others = [m.name for m in queryset if m.name not in defaults]
        if "p2c-submit" not in request.POST:
            return _confirm_page(
                self,
                request,
                queryset,
                action="reset_to_default",
                title=gettext("Reset to default"),
                summary=[
                    (
                        gettext(
                            "%(count)s mapping(s) get their default filters, direction and field mappings back: %(value)s. "
                            "Changes made to them are lost; couplings are kept."
                        )
                        % {"count": len(names), "value": ", ".join(names) or "-"}
                    ),
                    *(
                        [gettext("Not default mappings, left as they are: %(others)s.") % {"others": ", ".join(others)}]
                        if others
                        else []
                    ),
                ],
            )
        reset = integration_setup_reset(names=names) if names else []
        for mapping in reset:
            self.log_change(request, mapping, gettext("Reset to default."))
        text = ngettext("%(count)s mapping reset to default.", "%(count)s mappings reset to default.",
                        len(reset)) % {"count": len(reset)}
        if others:
            text += " " + ngettext("%(count)s mapping that is no default left as it was.",
                                   "%(count)s mappings that are no default left as they were.",
                                   len(others)) % {"count": len(others)}
        self.message_user(request, text, messages.SUCCESS)


# -- couplings ------------------------------------------------------------------------------------------------------

@admin.register(Coupling)
class CouplingAdmin(IntegrationPermissionsMixin, admin.ModelAdmin):
    list_display = ("erp_record", "crm_record", "last_erp_result", "last_crm_result", "skipped",
                    "last_synced_erp_modified", "last_synced_crm_modified", "job_links", "created_at")
    list_filter = (ModelPairFilter, "skipped", "last_erp_result", "last_crm_result")
    search_fields = ("=erp_id", "=crm_id")
    search_help_text = gettext_lazy("ERP record id or Sales record id (exact).")
    readonly_fields = ("erp_model", "crm_model", "erp_id", "crm_id", "erp_record", "crm_record",
                       "last_synced_erp_modified", "last_synced_crm_modified", "last_erp_result", "last_crm_result",
                       "last_erp_job", "last_crm_job", "created_at")
    fields = ("erp_record", "crm_record", "skipped", "last_synced_erp_modified", "last_synced_crm_modified",
              "last_erp_result", "last_crm_result", "last_erp_job", "last_crm_job", "created_at")
    actions = ("couplings_delete", "skipped_restore", "couplings_synchronize", "couplings_send", "couplings_get")
    list_per_page = 100
    show_full_result_count = False

    def get_changelist(self, request, **kwargs):
        return LabelledChangeList

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # "Delete coupling" says what it does and needs change_couplings
        return actions

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm(COUPLE_PERMISSION) and super().has_change_permission(request, obj)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj._p2c_labels = record_labels({obj.erp_model: [obj.erp_id], obj.crm_model: [obj.crm_id]})
        return obj

    @admin.display(description=_("ERP record"), ordering="erp_id")
    def erp_record(self, obj):
        return _record_link(obj, obj.erp_model, obj.erp_id)

    @admin.display(description=_("Sales record"), ordering="crm_id")
    def crm_record(self, obj):
        return _record_link(obj, obj.crm_model, obj.crm_id)

    @admin.display(description=_("Last jobs"))
    def job_links(self, obj):
        jobs = [pk for pk in (obj.last_erp_job_id, obj.last_crm_job_id) if pk]
        return format_html_join(", ", '<a href="{}">#{}</a>',
                                ((reverse("admin:integration_syncjob_change", args=[pk]), pk) for pk in jobs))

    @admin.action(description=_("Delete coupling"), permissions=["change_couplings"])
    def couplings_delete(self, request, queryset):
        if "p2c-submit" not in request.POST:
            return _confirm_page(self, request, queryset, action="couplings_delete", title=gettext("Delete coupling"),
                                 summary=[gettext("The couplings are deleted; the records stay, on both sides.")])
        _tell(self, request, couplings_delete, couplings=list(queryset))

    @admin.action(description=_("Restore skipped records"), permissions=["change_couplings"])
    def skipped_restore(self, request, queryset):
        _tell(self, request, skipped_restore, couplings=list(queryset))

    @admin.action(description=_("Synchronise now (one record: as preselected)"), permissions=["run_synchronization"])
    def couplings_synchronize(self, request, queryset):
        _synchronize_couplings(self, request, queryset, None)

    @admin.action(description=_("Synchronise now: send (ERP → Sales)"), permissions=["run_synchronization"])
    def couplings_send(self, request, queryset):
        _synchronize_couplings(self, request, queryset, SEND)

    @admin.action(description=_("Synchronise now: get (Sales → ERP)"), permissions=["run_synchronization"])
    def couplings_get(self, request, queryset):
        _synchronize_couplings(self, request, queryset, GET)


def _synchronize_couplings(modeladmin, request, couplings, direction):
    """*Synchronise now* of the ERP records of ``couplings`` (one call per ERP table), told in one message."""
    by_table = defaultdict(list)
    for erp_model, erp_id in couplings.values_list("erp_model", "erp_id"):
        by_table[erp_model].append(erp_id)
    outcome = Outcome(gettext("Synchronise now"))
    for label, ids in by_table.items():
        try:
            outcome.merge(synchronize_now(model=apps.get_model(label), ids=ids, direction=direction))
        except OperationRefused as exc:
            refused_message(modeladmin, request, exc)
            return
    outcome_message(modeladmin, request, outcome)
