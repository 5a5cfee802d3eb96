"""The admin screen of an app's deletion log (p2c.deletions): the records deleted in the last days, to look at."""

from django.apps import apps
from django.contrib import admin
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from p2c.admin_read_only import ReadOnlyAdminMixin
from p2c.deletions import tables_logged


class DeletionLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """A deletion log's entries, newest first: written by the deletes, never by hand."""

    class TableFilter(admin.SimpleListFilter):
        title = _("Table")
        parameter_name = "model"

        def lookups(self, request, model_admin):
            # The tables that log their deletes here (no DISTINCT over a log of millions)
            return tables_logged(model_admin.model)

        def queryset(self, request, queryset):
            return queryset.filter(model=self.value()) if self.value() else queryset

    list_display = ("deleted_on", "table", "record_id")
    readonly_fields = ("id", "model", "record_id", "deleted_on")
    list_filter = (TableFilter,)
    search_fields = ("=record_id",)
    date_hierarchy = "deleted_on"
    ordering = ("-deleted_on", "-id")
    list_per_page = 100
    show_full_result_count = False

    @admin.display(description=_("Table"), ordering="model")
    def table(self, obj):
        try:
            return capfirst(apps.get_model(obj.model)._meta.verbose_name)
        except (LookupError, ValueError):  # a table since removed (or no label): what was written is all there is
            return obj.model
