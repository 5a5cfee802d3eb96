"""The *Coupling* column and filter on the Sales and ERP changelists (docs/features.md I4, X1; Business Central's
coupling screens).

`CouplingStateAdminExtension` is the list part of `integration.admin.coupling.CouplingAdminExtension` (which adds
the actions and provides ``_shows_coupling``). Each row tells its record's state, as
integration.coupling.state decides it: *not coupled*; *queued* (with its job); *coupled* (with a link to the
counterpart); *failed* (the last error, truncated, its full text on hover, one click to the error or the job);
*skipped* (the same, with *Restore*, which restores that one record). The states of the page are read after its
rows in a constant number of queries; the filter offers the same states, on the same rules, in SQL.
"""


from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from p2c.admin_extensions import AdminExtension

from ..coupling.couplings import couplings_restore_skipped, failed_inserts_restore
from ..coupling.state import (
    CONFLICT,
    COUPLED,
    FAILED,
    QUEUED,
    SKIPPED,
    STATES,
    admin_change_url,
    counterpart_url_maker,
    other_side,
    record_mappings,
    records_in_state,
    records_state,
    side_of,
)
from ..permissions import COUPLE_PERMISSION
from .selectors import page_coupling_states

RESTORE_PERMISSION = COUPLE_PERMISSION
MESSAGE_CHARS = 60  # the column stays narrow; the full message is on hover and one click away


def record_names(mappings):
    """How the engine's messages begin when they name a record of ``mappings`` ("Customer C00010 (…): …")."""
    names = set()
    for m in mappings:
        for label in (m.erp_model, m.crm_model):
            try:
                names.add(f"{capfirst(apps.get_model(label)._meta.verbose_name)} ")
            except (LookupError, ValueError):
                continue
    return tuple(names)


def message_without_record(message, names):
    """``message`` less its leading record label: the row is that record, the narrow column shows the reason."""
    label, sep, rest = message.partition(": ")
    if sep and rest and len(label) <= 120 and label.startswith(names):
        return rest
    return message


# -- the filter and the changelist -----------------------------------------------------------------------------------
class CouplingStateFilter(admin.SimpleListFilter):
    title = _("coupling")
    parameter_name = "coupling"

    def __init__(self, request, params, model, model_admin):
        self.mappings = coupling_mappings(request, model)
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        return STATES

    def queryset(self, request, queryset):
        if self.value() in dict(STATES):
            return records_in_state(queryset, self.value(), self.mappings)
        return queryset


class CouplingChangeList(ChangeList):
    """Reads the states of the page's records, and the counterparts' keys, after the page's rows (constant queries)."""

    def get_results(self, request):
        super().get_results(request)
        rows = list(self.result_list)
        mappings = coupling_mappings(request, self.model)
        states, labels = page_coupling_states(model=self.model, ids=[row.pk for row in rows], mappings=mappings)
        can_restore = request.user.has_perm(RESTORE_PERMISSION)
        names = record_names(mappings)
        counterpart_url = counterpart_url_maker()
        for row in rows:
            row._p2c_counterpart_url = counterpart_url
            row._p2c_state = states[row.pk]
            row._p2c_labels = labels
            row._p2c_can_restore = can_restore
            row._p2c_names = names


def coupling_mappings(request, model):
    """The enabled mappings ``model`` takes part in, read once per request."""
    if not hasattr(request, "_p2c_coupling_mappings"):
        request._p2c_coupling_mappings = {}
    cache = request._p2c_coupling_mappings
    if model not in cache:
        cache[model] = record_mappings(model)
    return cache[model]


class CouplingStateAdminExtension(AdminExtension):
    """The *Coupling* column, filter and per-record *Restore* of a Sales or ERP ModelAdmin, shown when
    ``self._shows_coupling(request)``."""

    display_methods = ("coupling_state",)

    def coupling_mappings(self, request):
        return coupling_mappings(request, self.model)

    def get_changelist(self, request, changelist):
        if self._shows_coupling(request):
            return CouplingChangeList
        return changelist

    def get_list_display(self, request, columns):
        if self._shows_coupling(request):
            # Second, after the record's link: wide changelists scroll, and the state must stay in sight.
            columns = list(columns)
            return (*columns[:1], "coupling_state", *columns[1:])
        return columns

    def get_list_filter(self, request, filters):
        if self._shows_coupling(request):
            return (*filters, CouplingStateFilter)
        return filters

    def get_urls(self):
        opts = self.model._meta
        return [
            path("<path:object_id>/coupling-restore/", self.admin.admin_site.admin_view(self.coupling_restore_view),
                 name=f"{opts.app_label}_{opts.model_name}_coupling_restore"),
        ]

    @admin.display(description=_("Coupling"))
    def coupling_state(self, obj):
        state = getattr(obj, "_p2c_state", None)
        if state is None:
            return ""
        counterparts = self._counterpart_links(obj, state)
        if state.state == COUPLED:
            # Translators: {coupled} is the word "Coupled" as a coloured badge, {counterparts} the records' links.
            return format_html(gettext("{coupled} to {counterparts}"), counterparts=counterparts, coupled=format_html(
                '<span class="p2c-coupled" style="color:#447e9b;white-space:nowrap">{}</span>', gettext("Coupled")))
        if state.state == QUEUED:
            badge = format_html(
                '<span class="p2c-queued" style="color:#b26a00;white-space:nowrap">{}</span> (<a href="{}">{}</a>)',
                gettext("Queued"),
                reverse("admin:integration_syncjob_change", args=[state.job_id]),
                gettext("job #%(pk)s") % {"pk": state.job_id},
            )
        elif state.state == CONFLICT:
            badge = format_html(
                '<a class="p2c-conflict" style="color:#b26a00;font-weight:bold;white-space:nowrap" href="{}">{}</a>',
                reverse("admin:integration_syncconflict_change", args=[state.conflict_id]), gettext("Conflict"))
        elif state.state in (FAILED, SKIPPED):
            badge = self._failure(obj, state)
        else:
            return format_html('<span class="p2c-uncoupled" style="color:#999;white-space:nowrap">{}</span>',
                               gettext("Not coupled"))
        return format_html("{} · {}", badge, counterparts) if state.couplings else badge

    def _failure(self, obj, state):
        """*Failed* or *Skipped*: the message truncated (whole on hover), a link to its error or job, Restore."""
        if state.error_id:
            url = reverse("admin:integration_syncjoberror_change", args=[state.error_id])
        elif state.job_id:
            url = reverse("admin:integration_syncjob_change", args=[state.job_id])
        else:
            url = None
        message = state.message or (gettext("job #%(pk)s") % {"pk": state.job_id} if state.job_id else "")
        short = Truncator(message_without_record(message, getattr(obj, "_p2c_names", ()))).chars(MESSAGE_CHARS)
        text = (format_html('<a class="p2c-error" href="{}" title="{}">{}</a>', url, message, short) if url
                else format_html('<span class="p2c-error" title="{}">{}</span>', message, short))
        if state.state == FAILED:
            return format_html('<span class="p2c-failed" style="color:#ba2121;white-space:nowrap">{}</span>: {}',
                               gettext("Failed"), text)
        restore = ""
        if getattr(obj, "_p2c_can_restore", False):
            opts = self.model._meta
            restore = format_html('<br><a class="p2c-restore button" href="{}" style="display:inline-block;'
                                  'margin-top:4px;padding:3px 10px">{}</a>',
                                  reverse(f"admin:{opts.app_label}_{opts.model_name}_coupling_restore",
                                          args=[obj.pk]), gettext("Restore"))
        return format_html('<span class="p2c-skipped" style="color:#ba2121;white-space:nowrap">{}</span>: {}{}',
                           gettext("Skipped"), text, restore)

    def _counterpart_links(self, obj, state):
        other = other_side(side_of(self.model))
        links = []
        for c in state.couplings:
            label, pk = getattr(c, f"{other}_model"), getattr(c, f"{other}_id")
            text = obj._p2c_labels.get((label, pk), str(pk))
            url = getattr(obj, "_p2c_counterpart_url", admin_change_url)(label, pk)
            links.append((url, text))
        return format_html_join(", ", "{}", ((format_html('<a href="{}">{}</a>', u, t) if u else t,)
                                             for u, t in links))

    def coupling_restore_view(self, request, object_id):
        """Restore one skipped record (its skipped couplings and failed inserts) after a confirmation."""
        if not self._shows_coupling(request) or not request.user.has_perm(RESTORE_PERMISSION):
            raise PermissionDenied
        obj = self.admin.get_object(request, object_id)
        if obj is None:
            raise Http404(gettext("No %(model)s with the key %(key)r.") % {"model": self.model._meta.verbose_name,
                                                                            "key": object_id})
        if not self.admin.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        state = records_state(self.model, [obj.pk], self.coupling_mappings(request))[obj.pk]
        opts = self.model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        if request.method == "POST":
            restored = (couplings_restore_skipped(couplings=[c for c in state.couplings if c.skipped])
                        + failed_inserts_restore(entries=[e for e in state.failed_inserts if e.skipped]))
            if restored:
                self.admin.log_change(request, obj, gettext("Skipped record restored."))
                self.admin.message_user(
                    request,
                    gettext("%(capfirst)s %(obj)s restored: the next synchronisation tries it again.")
                    % {"capfirst": capfirst(opts.verbose_name), "obj": obj},
                    messages.SUCCESS,
                )
            else:
                self.admin.message_user(
                    request,
                    gettext("%(capfirst)s %(obj)s was not skipped: nothing to restore.")
                    % {"capfirst": capfirst(opts.verbose_name), "obj": obj},
                    messages.WARNING,
                )
            return HttpResponseRedirect(changelist)
        context = {
            **self.admin.admin_site.each_context(request),
            "title": gettext("Restore %(record)s") % {"record": obj},
            "opts": opts,
            "app_label": opts.app_label,
            "record": obj,
            "state": state,
            "changelist_url": changelist,
            "skipped": state.state == SKIPPED,
        }
        request.current_app = self.admin.admin_site.name
        return TemplateResponse(request, "admin/integration/coupling_restore.html", context)
