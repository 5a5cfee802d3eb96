"""Admin of the integration app (SPEC I1-I4, I6, I7, X1): connection setup, table mappings with their field
mappings, value maps, couplings, synchronisation jobs and their errors, plus the full synchronisation review page
and the set-up wizard (integration/full_sync_page.py, integration/wizard.py), mounted under the connection setup.

Every action is a thin door onto integration.operations (and integration.defaults); each checks its permission
(``integration.run_synchronization`` or ``integration.change_couplings``), asks first when it is destructive or
heavy, and ends with one message that counts what happened (p2c.doors.outcome_message).
The Finance and Operations data integration screens live in integration/fo/admin.py.
"""

from collections import defaultdict
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from integration.fo import admin as fo_admin  # noqa: F401  (F&O data integration admin)
from p2c.admin_text import long_text
from p2c.doors import outcome_message, refused_message
from p2c.outcomes import OperationRefused, Outcome

from . import admin_conflicts  # noqa: F401  (the conflict inbox)
from .admin_coupling import COUPLE_PERMISSION, RUN_PERMISSION
from .coupling_state import admin_change_url, record_labels
from .defaults import default_mapping_names, integration_setup_reset
from .forms import FieldMappingInlineFormSet, TableMappingForm
from .models import (
    ConnectionSetup,
    Coupling,
    Direction,
    FailedInsert,
    IntegrationFieldMapping,
    IntegrationTableMapping,
    SyncJob,
    SyncJobError,
    ValueMap,
    ValueMapEntry,
)
from .operations import (
    GET,
    SEND,
    couplings_delete,
    failed_records_retry,
    skipped_restore,
    synchronize_mappings,
    synchronize_now,
)
from .sync_log import sync_log_cleanup

CLEANUP_DAYS = 7  # BC's "Delete entries older than 7 days"


def _confirm_page(modeladmin, request, queryset, *, action, title, summary):
    """An intermediate "are you sure" page in the manner of contrib.admin's delete_selected."""
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title, "opts": opts, "app_label": opts.app_label, "action": action,
        "count": queryset.count(), "summary": summary,
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


# -- connection setup (singleton) with the wizard and the review page ---------------------------------------------
@admin.register(ConnectionSetup)
class ConnectionSetupAdmin(admin.ModelAdmin):
    fields = ("is_enabled", "integration_user", "sales_order_integration_enabled",
              "create_sales_orders_automatically", "item_availability_enabled", "log_retention_days", "pages")
    readonly_fields = ("pages", "review_page")
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
        fields = [f for f in super().get_fields(request, obj) if f not in ("pages", "review_page")]
        if request.user.has_perm("integration.run_synchronization"):
            fields.append("pages" if request.user.has_perm("integration.change_connectionsetup") else "review_page")
        return fields

    @admin.display(description="Set-up and synchronisation")
    def pages(self, obj):
        return format_html(
            '<a class="button" href="{}">Assisted set-up</a> &nbsp; {}',
            reverse("admin:integration_setup_wizard"), self.review_page(obj),
        )

    @admin.display(description="Synchronisation")
    def review_page(self, obj):
        return format_html('<a class="button" href="{}">Full synchronisation review</a>',
                           reverse("admin:integration_full_sync_review"))

    def get_urls(self):
        from .full_sync_page import full_sync_review_view, full_sync_status_view
        from .wizard import setup_wizard_view

        wrap = self.admin_site.admin_view
        return [
            path("full-synchronization/", wrap(full_sync_review_view), name="integration_full_sync_review"),
            path("full-synchronization/status/", wrap(full_sync_status_view), name="integration_full_sync_status"),
            path("assisted-setup/", wrap(setup_wizard_view), name="integration_setup_wizard"),
            *super().get_urls(),
        ]


# -- value maps ---------------------------------------------------------------------------------------------------
class ValueMapEntryInline(admin.TabularInline):
    model = ValueMapEntry
    extra = 1
    fields = ("erp_value", "crm_value")


@admin.register(ValueMap)
class ValueMapAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "entry_count")
    search_fields = ("name", "description")
    inlines = (ValueMapEntryInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_entries=Count("entries"))

    @admin.display(description="Entries", ordering="_entries")
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
class IntegrationTableMappingAdmin(IntegrationPermissionsMixin, admin.ModelAdmin):
    form = TableMappingForm
    list_display = ("name", "erp_model", "crm_model", "direction", "is_enabled", "realtime_sync",
                    "dependency_names", "sync_only_coupled", "errors_link", "sort_order")
    list_filter = ("is_enabled", "direction", "user_defined", "realtime_sync")
    search_fields = ("name", "erp_model", "crm_model")
    filter_horizontal = ("dependencies",)
    readonly_fields = ("erp_watermark", "crm_watermark", "locked_by", "locked_at", "created_at")
    inlines = (IntegrationFieldMappingInline,)
    actions = ("synchronize_modified", "synchronize_full", "reset_to_default")
    fieldsets = (
        (None, {"fields": ("name", "erp_model", "crm_model", "crm_option_field", "direction", "is_enabled",
                           "realtime_sync", "sort_order")}),
        ("Filters", {"fields": ("erp_filter", "crm_filter", "sync_only_coupled", "create_new_if_no_match",
                                "sync_after_match_coupling")}),
        ("Dependencies", {"fields": ("dependencies", "parent", "parent_erp_field", "parent_crm_field")}),
        ("Conflicts", {"fields": ("update_conflict_resolution", "deletion_conflict_resolution")}),
        ("Rules and state", {"fields": ("rules_module", "user_defined", "erp_watermark", "crm_watermark",
                                        "locked_by", "locked_at", "created_at"), "classes": ("collapse",)}),
    )

    def get_urls(self):
        from .admin_configuration import configuration_export_view, configuration_import_view

        wrap = self.admin_site.admin_view
        return [
            path("export/", wrap(configuration_export_view), name="integration_configuration_export"),
            path("import/", wrap(lambda request: configuration_import_view(request, self)),
                 name="integration_configuration_import"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        from .configuration import EXPORT_PERMISSIONS, IMPORT_PERMISSIONS

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

    @admin.display(description="Dependencies")
    def dependency_names(self, obj):
        return ", ".join(d.name for d in obj.dependencies.all())

    @admin.display(description="Jobs with errors", ordering="_failed")
    def errors_link(self, obj):
        if not obj._failed:
            return "0"
        url = reverse("admin:integration_syncjob_changelist") + "?" + urlencode(
            {"table_mapping__id__exact": obj.pk, "failed__gt": 0})
        return format_html('<a href="{}">{}</a>', url, obj._failed)

    @admin.action(description="Synchronise modified records", permissions=["run_synchronization"])
    def synchronize_modified(self, request, queryset):
        _tell(self, request, synchronize_mappings, mappings=list(queryset))

    @admin.action(description="Run full synchronisation", permissions=["run_synchronization"])
    def synchronize_full(self, request, queryset):
        if "p2c-submit" not in request.POST:
            return _confirm_page(
                self, request, queryset, action="synchronize_full", title="Run full synchronisation",
                summary=["Every record of the selected mappings is read; uncoupled records are not created by this "
                         "action (use the full synchronisation review for the first synchronisation).",
                         *[f"{m.name}: {m.get_direction_display()}" for m in queryset]],
            )
        _tell(self, request, synchronize_mappings, mappings=list(queryset), full=True)

    @admin.action(description="Reset to default", permissions=["change"])
    def reset_to_default(self, request, queryset):
        defaults = set(default_mapping_names())
        names = [m.name for m in queryset if m.name in defaults]
        others = [m.name for m in queryset if m.name not in defaults]
        if "p2c-submit" not in request.POST:
            return _confirm_page(
                self, request, queryset, action="reset_to_default", title="Reset to default",
                summary=[f"{len(names)} mapping(s) get their default filters, direction and field mappings back: "
                         f"{', '.join(names) or '-'}. Changes made to them are lost; couplings are kept.",
                         *([f"Not default mappings, left as they are: {', '.join(others)}."] if others else [])],
            )
        reset = integration_setup_reset(names=names) if names else []
        for mapping in reset:
            self.log_change(request, mapping, "Reset to default.")
        self.message_user(request, f"{len(reset)} mapping(s) reset to default"
                          + (f"; {len(others)} not default mapping(s) left as they were." if others else "."),
                          messages.SUCCESS)


# -- couplings ------------------------------------------------------------------------------------------------------
class ModelPairFilter(admin.SimpleListFilter):
    title = "tables"
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
    import uuid

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


@admin.register(Coupling)
class CouplingAdmin(IntegrationPermissionsMixin, admin.ModelAdmin):
    list_display = ("erp_record", "crm_record", "last_erp_result", "last_crm_result", "skipped",
                    "last_synced_erp_modified", "last_synced_crm_modified", "job_links", "created_at")
    list_filter = (ModelPairFilter, "skipped", "last_erp_result", "last_crm_result")
    search_fields = ("=erp_id", "=crm_id")
    search_help_text = "ERP record id or Sales record id (exact)."
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

    @admin.display(description="ERP record", ordering="erp_id")
    def erp_record(self, obj):
        return _record_link(obj, obj.erp_model, obj.erp_id)

    @admin.display(description="Sales record", ordering="crm_id")
    def crm_record(self, obj):
        return _record_link(obj, obj.crm_model, obj.crm_id)

    @admin.display(description="Last jobs")
    def job_links(self, obj):
        jobs = [pk for pk in (obj.last_erp_job_id, obj.last_crm_job_id) if pk]
        return format_html_join(", ", '<a href="{}">#{}</a>',
                                ((reverse("admin:integration_syncjob_change", args=[pk]), pk) for pk in jobs))

    @admin.action(description="Delete coupling", permissions=["change_couplings"])
    def couplings_delete(self, request, queryset):
        if "p2c-submit" not in request.POST:
            return _confirm_page(self, request, queryset, action="couplings_delete", title="Delete coupling",
                                 summary=["The couplings are deleted; the records stay, on both sides."])
        _tell(self, request, couplings_delete, couplings=list(queryset))

    @admin.action(description="Restore skipped records", permissions=["change_couplings"])
    def skipped_restore(self, request, queryset):
        _tell(self, request, skipped_restore, couplings=list(queryset))

    @admin.action(description="Synchronise now (one record: as preselected)", permissions=["run_synchronization"])
    def couplings_synchronize(self, request, queryset):
        _synchronize_couplings(self, request, queryset, None)

    @admin.action(description="Synchronise now: send (ERP → Sales)", permissions=["run_synchronization"])
    def couplings_send(self, request, queryset):
        _synchronize_couplings(self, request, queryset, SEND)

    @admin.action(description="Synchronise now: get (Sales → ERP)", permissions=["run_synchronization"])
    def couplings_get(self, request, queryset):
        _synchronize_couplings(self, request, queryset, GET)


def _synchronize_couplings(modeladmin, request, couplings, direction):
    """*Synchronise now* of the ERP records of ``couplings`` (one call per ERP table), told in one message."""
    from django.apps import apps

    by_table = defaultdict(list)
    for erp_model, erp_id in couplings.values_list("erp_model", "erp_id"):
        by_table[erp_model].append(erp_id)
    outcome = Outcome("Synchronise now")
    for label, ids in by_table.items():
        try:
            outcome.merge(synchronize_now(model=apps.get_model(label), ids=ids, direction=direction))
        except OperationRefused as exc:
            refused_message(modeladmin, request, exc)
            return
    outcome_message(modeladmin, request, outcome)


# -- jobs and errors ----------------------------------------------------------------------------------------------
class SyncJobErrorInline(admin.TabularInline):
    model = SyncJobError
    extra = 0
    can_delete = False
    fields = ("created_at", "source", "destination", "message")
    readonly_fields = fields
    max_num = 0
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("pk")

    @admin.display(description="Source")
    def source(self, obj):
        return _record_link(obj, obj.source_model, obj.source_id)

    @admin.display(description="Destination")
    def destination(self, obj):
        return _record_link(obj, obj.destination_model, obj.destination_id)


class MappingNameFilter(admin.SimpleListFilter):
    title = "mapping"
    parameter_name = "mapping_name"

    def lookups(self, request, model_admin):
        names = SyncJob.objects.order_by("mapping_name").values_list("mapping_name", flat=True).distinct()
        return [(n, n) for n in names]

    def queryset(self, request, queryset):
        return queryset.filter(mapping_name=self.value()) if self.value() else queryset


@admin.register(SyncJob)
class SyncJobAdmin(IntegrationPermissionsMixin, admin.ModelAdmin):
    list_display = ("id", "mapping_name", "type", "direction_short", "status", "started_at", "counts_summary",
                    "failed", "short_message")
    list_display_links = ("id", "mapping_name")
    list_filter = (MappingNameFilter, "status", "type", "direction", "full", ("created_at", admin.DateFieldListFilter))
    search_fields = ("mapping_name", "message")
    date_hierarchy = "created_at"
    inlines = (SyncJobErrorInline,)
    actions = ("jobs_retry",)
    readonly_fields = [f.name for f in SyncJob._meta.fields]
    list_per_page = 100

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def lookup_allowed(self, lookup, value, request=None):
        return lookup in ("table_mapping__id__exact", "failed__gt", "id__in") or super().lookup_allowed(
            lookup, value, request)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [path("cleanup/", wrap(self.cleanup_view), name="integration_syncjob_cleanup"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        if self.has_delete_permission(request):
            url = reverse("admin:integration_syncjob_cleanup")
            extra_context = {**(extra_context or {}),
                             "cleanup_urls": {"week": f"{url}?days={CLEANUP_DAYS}", "all": f"{url}?days=0"}}
        return super().changelist_view(request, extra_context)

    def cleanup_view(self, request):
        """BC's "Delete entries older than 7 days" / "Delete all entries": asks with what would go, then deletes
        (integration.sync_log.sync_log_cleanup) and tells the outcome on the jobs list."""
        if not self.has_delete_permission(request):
            raise PermissionDenied
        changelist_url = reverse("admin:integration_syncjob_changelist")
        try:
            days = int(request.POST.get("days", request.GET.get("days", CLEANUP_DAYS)))
            if request.method != "POST":
                outcome = sync_log_cleanup(older_than_days=days, dry_run=True)
                opts = self.model._meta
                return TemplateResponse(request, "admin/integration/sync_log_cleanup.html", {
                    **self.admin_site.each_context(request), "opts": opts, "outcome": outcome, "days": days,
                    "title": "Delete all entries" if days == 0 else f"Delete entries older than {days} days",
                    "changelist_url": changelist_url,
                })
            outcome = sync_log_cleanup(older_than_days=days)
        except ValueError:
            self.message_user(request, "The age must be a whole number of days.", messages.ERROR)
        except OperationRefused as exc:
            refused_message(self, request, exc)
        else:
            outcome_message(self, request, outcome)
        return redirect(changelist_url)

    @admin.display(description="Direction", ordering="direction")
    def direction_short(self, obj):
        return {Direction.TO_INTEGRATION: "ERP → Sales", Direction.FROM_INTEGRATION: "Sales → ERP"}.get(
            obj.direction, obj.get_direction_display())

    @admin.display(description="Counts")
    def counts_summary(self, obj):
        return ", ".join(f"{value} {name}" for name, value in obj.counts().items() if value) or "-"

    @admin.display(description="Message")
    def short_message(self, obj):
        return long_text(obj.message)

    @admin.action(description="Retry the failed records", permissions=["run_synchronization"])
    def jobs_retry(self, request, queryset):
        errors = SyncJobError.objects.filter(job__in=queryset).select_related("job__table_mapping")
        _tell(self, request, failed_records_retry, errors=list(errors))


@admin.register(SyncJobError)
class SyncJobErrorAdmin(IntegrationPermissionsMixin, admin.ModelAdmin):
    list_display = ("created_at", "job_link", "mapping", "source", "destination", "message_text")
    list_filter = (("job__mapping_name", admin.AllValuesFieldListFilter), "source_model",
                   ("created_at", admin.DateFieldListFilter))
    search_fields = ("message", "source_id", "destination_id")
    list_select_related = ("job",)
    readonly_fields = ("job", "job_link", "source", "destination", "source_model", "source_id", "destination_model",
                       "destination_id", "message", "created_at")
    fields = ("job_link", "source", "destination", "message", "created_at")
    actions = ("errors_retry", "errors_restore_skipped", "errors_delete_couplings")
    list_per_page = 100

    def get_changelist(self, request, **kwargs):
        return ErrorChangeList

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            wanted = defaultdict(set)
            for label, pk in ((obj.source_model, obj.source_id), (obj.destination_model, obj.destination_id)):
                if label and pk:
                    wanted[label].add(_typed_id(label, pk))
            obj._p2c_labels = record_labels(wanted)
        return obj

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Job")
    def job_link(self, obj):
        return format_html('<a href="{}">#{}</a> {}', reverse("admin:integration_syncjob_change", args=[obj.job_id]),
                           obj.job_id, obj.job.get_direction_display())

    @admin.display(description="Mapping")
    def mapping(self, obj):
        return obj.job.mapping_name

    @admin.display(description="Message", ordering="message")
    def message_text(self, obj):
        return long_text(obj.message)

    @admin.display(description="Source record")
    def source(self, obj):
        return _record_link(obj, obj.source_model, obj.source_id)

    @admin.display(description="Destination record")
    def destination(self, obj):
        return _record_link(obj, obj.destination_model, obj.destination_id)

    @admin.action(description="Retry (synchronise the failed records again)", permissions=["run_synchronization"])
    def errors_retry(self, request, queryset):
        _tell(self, request, failed_records_retry, errors=list(queryset.select_related("job__table_mapping")))

    @admin.action(description="Restore skipped records", permissions=["change_couplings"])
    def errors_restore_skipped(self, request, queryset):
        _tell(self, request, skipped_restore, couplings=_couplings_of_errors(queryset),
              failed_inserts=_failed_inserts_of_errors(queryset))

    @admin.action(description="Delete couplings", permissions=["change_couplings"])
    def errors_delete_couplings(self, request, queryset):
        couplings = _couplings_of_errors(queryset)
        if "p2c-submit" not in request.POST:
            return _confirm_page(self, request, queryset, action="errors_delete_couplings", title="Delete couplings",
                                 summary=[f"{len(couplings)} coupling(s) of the records behind the selected errors "
                                          "are deleted; the records stay."])
        _tell(self, request, couplings_delete, couplings=couplings)


class ErrorChangeList(LabelledChangeList):
    pairs = (("source_model", "source_id"), ("destination_model", "destination_id"))


def _failed_inserts_of_errors(errors):
    """The failed inserts behind errors that have no destination record (one query)."""
    condition = Q(pk__in=[])
    for error in errors:
        if error.source_id and not error.destination_id and error.job.table_mapping_id:
            mapping = error.job.table_mapping
            condition |= Q(erp_model=mapping.erp_model, crm_model=mapping.crm_model, direction=error.job.direction,
                           source_id=error.source_id)
    return list(FailedInsert.objects.filter(condition))


@admin.register(FailedInsert)
class FailedInsertAdmin(IntegrationPermissionsMixin, admin.ModelAdmin):
    """Records that could not be created on the other side: retried by the next run, or skipped after the same
    failure twice (like a skipped coupling) until they change or are restored here."""

    list_display = ("source", "pair", "direction", "message_text", "skipped", "failed_at", "job_link")
    list_filter = ("skipped", "direction", ModelPairFilter)
    search_fields = ("=source_id", "message")
    list_select_related = ("job",)
    fields = ("source", "pair", "direction", "message", "skipped", "failed_at", "job_link")
    readonly_fields = fields
    actions = ("failed_inserts_retry", "failed_inserts_restore")
    list_per_page = 100

    def get_changelist(self, request, **kwargs):
        return FailedInsertChangeList

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Source record")
    def source(self, obj):
        return _record_link(obj, obj.source_model, obj.source_id)

    @admin.display(description="Tables")
    def pair(self, obj):
        return f"{obj.erp_model} ↔ {obj.crm_model}"

    @admin.display(description="Message", ordering="message")
    def message_text(self, obj):
        return long_text(obj.message)

    @admin.display(description="Last job")
    def job_link(self, obj):
        if not obj.job_id:
            return "-"
        return format_html('<a href="{}">#{}</a>', reverse("admin:integration_syncjob_change", args=[obj.job_id]),
                           obj.job_id)

    @admin.action(description="Retry (synchronise the records again)", permissions=["run_synchronization"])
    def failed_inserts_retry(self, request, queryset):
        _tell(self, request, failed_records_retry, failed_inserts=list(queryset))

    @admin.action(description="Restore skipped records", permissions=["change_couplings"])
    def failed_inserts_restore(self, request, queryset):
        _tell(self, request, skipped_restore, failed_inserts=list(queryset))


class FailedInsertChangeList(LabelledChangeList):
    pairs = (("source_model", "source_id"),)


def _couplings_of_errors(errors):
    """The couplings of the source records of ``errors`` (one query per source table)."""
    by_side = defaultdict(set)
    for error in errors:
        if error.source_id:
            by_side[error.source_model].add(_typed_id(error.source_model, error.source_id))
    condition = Q(pk__in=[])
    for label, ids in by_side.items():
        side = "crm" if label.startswith("crm.") else "erp"
        condition |= Q(**{f"{side}_model": label, f"{side}_id__in": list(ids)})
    return list(Coupling.objects.filter(condition))
