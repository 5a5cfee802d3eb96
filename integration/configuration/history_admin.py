"""The configuration's history in the admin: what each door changed, kept by integration/configuration/history.py.

- `ConfigurationHistoryAdminMixin`: an admin whose POSTs (add, change, delete, list actions) are recorded;
- the one list (Integration → Configuration changes): read-only, filtered by door, action, mapping and date,
  exported as CSV or JSON (the list's filters apply);
- `mapping_history_html`: the last changes of one mapping, on its page.
"""

from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from p2c.admin_read_only import ReadOnlyAdminMixin
from p2c.said import french_typography, said_text

from ..models import ConfigurationChange, ConfigurationChangeSet
from .format import _show
from .history import change_set_summary, configuration_recorded, history_export

MAPPING_PAGE_ROWS = 15


class ConfigurationHistoryAdminMixin:
    """Record in the configuration's history what a POST to this admin changes, as its user through the admin."""

    def _recorded(self, request, view, *args):
        if request.method != "POST":
            return view(*args)
        with configuration_recorded(user=request.user, door=ConfigurationChange.Door.ADMIN):
            return view(*args)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._recorded(request, super().changeform_view, request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        return self._recorded(request, super().delete_view, request, object_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        return self._recorded(request, super().changelist_view, request, extra_context)


def change_text(change):
    """"~ fields[name ↔ name].direction: bidirectional → to_integration" (what integration_import prints)."""
    sign = {"added": "+", "removed": "-", "changed": "~"}[change.action]
    if change.action != ConfigurationChange.Action.CHANGED:
        return f"{sign} {change.path}"
    return f"{sign} {change.path}.{change.key}: {_show(change.old)} → {_show(change.new)}"


def mapping_history_html(mapping):
    """The last `MAPPING_PAGE_ROWS` changes of ``mapping`` with who and when, and a link to all of them."""
    if mapping is None or not mapping.pk:
        return ""
    changes = list(ConfigurationChange.objects.filter(mapping_name=mapping.name)[:MAPPING_PAGE_ROWS])
    url = reverse("admin:integration_configurationchange_changelist") + "?" + urlencode(
        {"mapping_name": mapping.name})
    if not changes:
        return format_html('{} <a href="{}">{}</a>', _("No change recorded yet."), url, _("All changes"))
    rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>", (
        (f"{c.at:%Y-%m-%d %H:%M}", c.username or "-", c.get_door_display(), change_text(c)) for c in changes))
    return format_html('<table class="p2c-mapping-history"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
                       '</tr></thead><tbody>{}</tbody></table><p><a href="{}">{}</a></p>',
                       _("When"), _("By"), _("Through"), _("Change"), rows, url, _("All changes of this mapping"))


class MappingNameFilter(admin.SimpleListFilter):
    title = gettext_lazy("table mapping")
    parameter_name = "mapping_name"

    def lookups(self, request, model_admin):
        names = (ConfigurationChange.objects.exclude(mapping_name="").order_by("mapping_name")
                 .values_list("mapping_name", flat=True).distinct())
        return [(name, name) for name in names]

    def queryset(self, request, queryset):
        return queryset.filter(mapping_name=self.value()) if self.value() else queryset


@admin.register(ConfigurationChange)
class ConfigurationChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "username", "door", "action", "key", "old_shown", "new_shown")
    list_filter = ("door", "action", MappingNameFilter, ("at", admin.DateFieldListFilter))
    search_fields = ("path", "key", "username")
    date_hierarchy = "at"
    list_per_page = 100
    change_list_template = "admin/integration/configurationchange/change_list.html"

    def lookup_allowed(self, lookup, value, request=None):
        return lookup == "batch" or super().lookup_allowed(lookup, value, request)  # a change set's rows

    @admin.display(description=gettext_lazy("Before"))
    def old_shown(self, obj):
        return "" if obj.action != ConfigurationChange.Action.CHANGED else _show(obj.old)

    @admin.display(description=gettext_lazy("After"))
    def new_shown(self, obj):
        return "" if obj.action != ConfigurationChange.Action.CHANGED else _show(obj.new)

    def get_urls(self):
        return [path("export/", self.admin_site.admin_view(self.export_view),
                     name="integration_configurationchange_export"), *super().get_urls()]

    def export_view(self, request):
        """The list as it is filtered, as CSV (``?format=json``: JSON), newest first."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        params = request.GET.copy()
        fmt = params.pop("format", ["csv"])[-1]
        request.GET = params
        changelist = self.get_changelist_instance(request)
        queryset = changelist.get_queryset(request)
        fmt = "json" if fmt == "json" else "csv"
        response = HttpResponse(history_export(queryset, fmt=fmt),
                                content_type="application/json" if fmt == "json" else "text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="configuration-history.{fmt}"'
        return response


# -- change sets: one line per save, import or set-up --------------------------------------------------------------
def change_set_summary_text(change_set):
    """The set's one-line summary in the reader's language (worked out from its rows for a set recorded before)."""
    if change_set.summary_data:
        return said_text(change_set.summary_data)
    return french_typography(str(change_set_summary(list(change_set.rows()), door=change_set.door)))


class ChangeSetObjectFilter(admin.SimpleListFilter):
    """The sets that changed a table mapping (its fields, its filters…)."""

    title = gettext_lazy("table mapping")
    parameter_name = "mapping_name"

    def lookups(self, request, model_admin):
        return MappingNameFilter.lookups(self, request, model_admin)

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(batch__in=ConfigurationChange.objects.filter(mapping_name=self.value())
                               .values("batch"))


@admin.register(ConfigurationChangeSet)
class ConfigurationChangeSetAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "username", "door", "summary", "changes")
    list_display_links = ("at", "summary")
    list_filter = ("door", ("username", admin.AllValuesFieldListFilter), ChangeSetObjectFilter,
                   ("at", admin.DateFieldListFilter))
    search_fields = ("username",)
    date_hierarchy = "at"
    list_per_page = 50
    fields = ("at", "username", "door", "summary", "changes", "change_rows")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("Summary"))
    def summary(self, obj):
        return change_set_summary_text(obj)

    @admin.display(description=gettext_lazy("What changed"))
    def change_rows(self, obj):
        """Each record added or removed and each key changed, with its value before and after."""
        rows = format_html_join("", "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (change.get_action_display(), change.path, change.key,
             "" if change.action != ConfigurationChange.Action.CHANGED else _show(change.old),
             "" if change.action != ConfigurationChange.Action.CHANGED else _show(change.new))
            for change in obj.rows()[:CHANGE_SET_ROWS]))
        more = obj.changes - CHANGE_SET_ROWS
        url = reverse("admin:integration_configurationchange_changelist") + "?" + urlencode({"batch": obj.batch})
        return format_html(
            # A fixed layout, long values wrapped: the Before and After columns stay inside the page at 1,400 px.
            '<table class="p2c-change-set" style="width:100%;table-layout:fixed;overflow-wrap:anywhere"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>'
            '</thead><tbody>{}</tbody></table>{}', _("Action"), _("Record"), _("Key"), _("Before"), _("After"), rows,
            format_html('<p><a href="{}">{}</a></p>', url, ngettext(
                "and %(count)s more change", "and %(count)s more changes", more) % {"count": more}) if more > 0 else "")


CHANGE_SET_ROWS = 300  # rows a change set's page shows; the rest are a link away
