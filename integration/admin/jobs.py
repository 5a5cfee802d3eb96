"""Admin of the synchronisation jobs, their errors and the failed inserts (docs/features.md I3, I7; BC pages 5338,
5339): thin doors onto integration.operations, as in integration/admin/__init__.py."""

from collections import defaultdict

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integration.admin.helpers import (
    CLEANUP_DAYS,
    IntegrationPermissionsMixin,
    LabelledChangeList,
    ModelPairFilter,
    _confirm_page,
    _record_link,
    _tell,
    _typed_id,
)
from integration.background.sync_log import sync_log_cleanup
from integration.engine.job_log import job_count_text
from integration.labels import record_labels
from integration.models import (
    Coupling,
    Direction,
    FailedInsert,
    SyncConflict,
    SyncJob,
    SyncJobError,
)
from integration.operations import (
    couplings_delete,
    failed_records_retry,
    skipped_restore,
)
from p2c.admin_text import long_text
from p2c.doors import outcome_message, refused_message
from p2c.outcomes import OperationRefused


# -- jobs and errors ----------------------------------------------------------------------------------------------
class SyncJobErrorInline(admin.TabularInline):
    model = SyncJobError
    extra = 0
    can_delete = False
    fields = ("created_at", "source", "destination", "message_told")
    readonly_fields = fields
    max_num = 0
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("pk")

    @admin.display(description=_("Source"))
    def source(self, obj):
        return _record_link(obj, obj.source_model, obj.source_id)

    @admin.display(description=_("Destination"))
    def destination(self, obj):
        return _record_link(obj, obj.destination_model, obj.destination_id)

    @admin.display(description=_("Error Message"))
    def message_told(self, obj):
        """The message in the reader's language (p2c.said), not as the worker wrote it."""
        return obj.message_text or "-"


class MappingNameFilter(admin.SimpleListFilter):
    title = _("mapping")
    parameter_name = "mapping_name"

    def lookups(self, request, model_admin):
        names = SyncJob.objects.order_by("mapping_name").values_list("mapping_name", flat=True).distinct()
        return [(n, n) for n in names]

    def queryset(self, request, queryset):
        return queryset.filter(mapping_name=self.value()) if self.value() else queryset


@admin.register(SyncJob)
class SyncJobAdmin(IntegrationPermissionsMixin, admin.ModelAdmin):
    # (the type and the failed count are on the job's page and in its counts: the list fits 1,400 px)
    list_display = ("id", "mapping_name", "direction_short", "status", "started_at", "counts_summary",
                    "short_message")
    list_display_links = ("id", "mapping_name")
    list_filter = (MappingNameFilter, "status", "type", "direction", "full", ("created_at", admin.DateFieldListFilter))
    search_fields = ("mapping_name", "message")
    date_hierarchy = "created_at"
    inlines = (SyncJobErrorInline,)
    actions = ("jobs_retry",)
    # The message told in the reader's language (SyncJob.message_text), not as the worker wrote it.
    # The scope (selected records, full, changes) where the full flag was: a one-record run is no full one.
    fields = readonly_fields = [{"message": "message_told", "full": "scope"}.get(f.name, f.name)
                                for f in SyncJob._meta.fields if f.name not in ("message_data", "records_given")]
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
        (integration.background.sync_log.sync_log_cleanup) and tells the outcome on the jobs list."""
        if not self.has_delete_permission(request):
            raise PermissionDenied
        changelist_url = reverse("admin:integration_syncjob_changelist")
        try:
            days = int(request.POST.get("days", request.GET.get("days", CLEANUP_DAYS)))
            if request.method != "POST":
                outcome = sync_log_cleanup(older_than_days=days, dry_run=True)
                opts = self.model._meta
                return TemplateResponse(
                    request,
                    "admin/integration/sync_log_cleanup.html",
                    {
                        **self.admin_site.each_context(request),
                        "opts": opts,
                        "outcome": outcome,
                        "days": days,
                        "title": gettext("Delete all entries")
                        if days == 0
                        else gettext("Delete entries older than %(days)s days") % {"days": days},
                        "changelist_url": changelist_url,
                    },
                )
            outcome = sync_log_cleanup(older_than_days=days)
        except ValueError:
            self.message_user(request, gettext("The age must be a whole number of days."), messages.ERROR)
        except OperationRefused as exc:
            refused_message(self, request, exc)
        else:
            outcome_message(self, request, outcome)
        return redirect(changelist_url)

    @admin.display(description=_("Direction"), ordering="direction")
    def direction_short(self, obj):
        return {
            Direction.TO_INTEGRATION: gettext("ERP → Sales"),
            Direction.FROM_INTEGRATION: gettext("Sales → ERP"),
        }.get(obj.direction, obj.get_direction_display())

    @admin.display(description=_("Counts"))
    def counts_summary(self, obj):
        return ", ".join(job_count_text(name, value) for name, value in obj.counts().items() if value) or "-"

    @admin.display(description=_("Message"))
    def short_message(self, obj):
        return long_text(obj.message_text)

    @admin.display(description=_("Message"))
    def message_told(self, obj):
        return obj.message_text or "-"

    @admin.display(description=_("Scope"))
    def scope(self, obj):
        return obj.scope

    @admin.action(description=_("Retry the failed records"), permissions=["run_synchronization"])
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
                       "destination_id", "message_told", "created_at", "conflict")
    fields = ("job_link", "source", "destination", "conflict", "message_told", "created_at")
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

    @admin.display(description=_("Job"))
    def job_link(self, obj):
        return format_html('<a href="{}">#{}</a> {}', reverse("admin:integration_syncjob_change", args=[obj.job_id]),
                           obj.job_id, obj.job.get_direction_display())

    @admin.display(description=_("Mapping"))
    def mapping(self, obj):
        return obj.job.mapping_name

    @admin.display(description=_("Conflict"))
    def conflict(self, obj):
        """The record's entry in the conflict inbox, where the user settles it, when its coupling is in conflict."""
        side = "erp" if obj.source_model.startswith("erp.") else "crm"
        try:
            conflict = SyncConflict.objects.filter(**{f"coupling__{side}_model": obj.source_model,
                                                      f"coupling__{side}_id": obj.source_id}).first()
        except (ValueError, ValidationError):  # a source key of another shape: no coupling holds it
            conflict = None
        if conflict is None:
            return "-"
        return format_html('<a class="p2c-conflict" href="{}">{}</a>',
                           reverse("admin:integration_syncconflict_change", args=[conflict.pk]),
                           gettext("Conflict: compare both sides and choose"))

    @admin.display(description=_("Message"), ordering="message")
    def message_text(self, obj):
        return long_text(obj.message_text)

    @admin.display(description=_("Error Message"))
    def message_told(self, obj):
        """The message in the reader's language (p2c.said), not as the worker wrote it."""
        return obj.message_text or "-"

    @admin.display(description=_("Source record"))
    def source(self, obj):
        return _record_link(obj, obj.source_model, obj.source_id)

    @admin.display(description=_("Destination record"))
    def destination(self, obj):
        return _record_link(obj, obj.destination_model, obj.destination_id)

    @admin.action(description=_("Retry (synchronise the failed records again)"), permissions=["run_synchronization"])
    def errors_retry(self, request, queryset):
        _tell(self, request, failed_records_retry, errors=list(queryset.select_related("job__table_mapping")))

    @admin.action(description=_("Restore skipped records"), permissions=["change_couplings"])
    def errors_restore_skipped(self, request, queryset):
        _tell(self, request, skipped_restore, couplings=_couplings_of_errors(queryset),
              failed_inserts=_failed_inserts_of_errors(queryset))

    @admin.action(description=_("Delete couplings"), permissions=["change_couplings"])
    def errors_delete_couplings(self, request, queryset):
        couplings = _couplings_of_errors(queryset)
        if "p2c-submit" not in request.POST:
            return _confirm_page(
                self,
                request,
                queryset,
                action="errors_delete_couplings",
                title=gettext("Delete couplings"),
                summary=[
                    gettext(
                        "%(count)s coupling(s) of the records behind the selected errors are deleted; the records stay."
                    )
                    % {"count": len(couplings)}
                ],
            )
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
    fields = ("source", "pair", "direction", "message_told", "skipped", "failed_at", "job_link")
    readonly_fields = fields
    actions = ("failed_inserts_retry", "failed_inserts_restore")
    list_per_page = 100

    def get_changelist(self, request, **kwargs):
        return FailedInsertChangeList

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Source record"))
    def source(self, obj):
        return _record_link(obj, obj.source_model, obj.source_id)

    @admin.display(description=_("Tables"))
    def pair(self, obj):
        return f"{obj.erp_model} ↔ {obj.crm_model}"

    @admin.display(description=_("Message"), ordering="message")
    def message_text(self, obj):
        return long_text(obj.message_text)

    @admin.display(description=_("Error Message"))
    def message_told(self, obj):
        """The message in the reader's language (p2c.said), not as the worker wrote it."""
        return obj.message_text or "-"

    @admin.display(description=_("Last job"))
    def job_link(self, obj):
        if not obj.job_id:
            return "-"
        return format_html('<a href="{}">#{}</a>', reverse("admin:integration_syncjob_change", args=[obj.job_id]),
                           obj.job_id)

    @admin.action(description=_("Retry (synchronise the records again)"), permissions=["run_synchronization"])
    def failed_inserts_retry(self, request, queryset):
        _tell(self, request, failed_records_retry, failed_inserts=list(queryset))

    @admin.action(description=_("Restore skipped records"), permissions=["change_couplings"])
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
