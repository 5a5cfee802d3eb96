"""The *Coupling* column and filter on the Sales and ERP changelists (SPEC I4, X1; BC §6 "Coupling UX").

`CouplingStateAdminMixin` is the column/filter part of `integration.admin_coupling.CouplingAdminMixin` (which
adds the actions and provides ``_shows_coupling``). The couplings of the page are read in one query after the
page's rows, and the counterparts' keys in one query per counterpart table (integration.coupling_state), so the
changelist keeps a constant query count.
"""

from collections import defaultdict

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from .coupling_state import admin_change_url, couplings_of, other_side, record_labels, side_of
from .models import Coupling

FAILURE = "failure"


# -- the filter and the changelist -----------------------------------------------------------------------------------
class CouplingStateFilter(admin.SimpleListFilter):
    title = "coupling"
    parameter_name = "coupling"

    def lookups(self, request, model_admin):
        return (
            ("coupled", "Coupled"),
            ("failed", "Last synchronisation failed"),
            ("skipped", "Skipped"),
            ("uncoupled", "Not coupled"),
        )

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        side = side_of(queryset.model)
        couplings = Coupling.objects.filter(**{f"{side}_model": queryset.model._meta.label, f"{side}_id": OuterRef("pk")})
        if value == "coupled":
            return queryset.filter(Exists(couplings))
        if value == "failed":
            return queryset.filter(Exists(couplings.filter(Q(last_erp_result=FAILURE) | Q(last_crm_result=FAILURE))))
        if value == "skipped":
            return queryset.filter(Exists(couplings.filter(skipped=True)))
        if value == "uncoupled":
            return queryset.filter(~Exists(couplings))
        return queryset


class CouplingChangeList(ChangeList):
    """Reads the couplings of the page, and the counterparts' keys, after the page's rows (constant queries)."""

    def get_results(self, request):
        super().get_results(request)
        rows = list(self.result_list)
        found = couplings_of(self.model, [row.pk for row in rows])
        other = other_side(side_of(self.model))
        wanted = defaultdict(set)
        for couplings in found.values():
            for c in couplings:
                wanted[getattr(c, f"{other}_model")].add(getattr(c, f"{other}_id"))
        labels = record_labels(wanted)
        for row in rows:
            row._p2c_couplings = found.get(row.pk, [])
            row._p2c_labels = labels


class CouplingStateAdminMixin:
    """The *Coupling* column and filter of a Sales or ERP ModelAdmin, shown when ``self._shows_coupling(request)``."""

    def get_changelist(self, request, **kwargs):
        if self._shows_coupling(request):
            return CouplingChangeList
        return super().get_changelist(request, **kwargs)

    def get_list_display(self, request):
        columns = super().get_list_display(request)
        if self._shows_coupling(request):
            # Second, after the record's link: wide changelists scroll, and the state must stay in sight.
            columns = list(columns)
            return (*columns[:1], "coupling_state", *columns[1:])
        return columns

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if self._shows_coupling(request):
            return (*filters, CouplingStateFilter)
        return filters

    @admin.display(description="Coupling")
    def coupling_state(self, obj):
        couplings = getattr(obj, "_p2c_couplings", None)
        if not couplings:
            return mark_safe('<span class="p2c-uncoupled" style="color:#999">Not coupled</span>')
        parts = []
        other = other_side(side_of(self.model))
        for c in couplings:
            label = getattr(c, f"{other}_model")
            pk = getattr(c, f"{other}_id")
            text = obj._p2c_labels.get((label, pk), str(pk))
            url = admin_change_url(label, pk)
            link = format_html('<a href="{}">{}</a>', url, text) if url else text
            if c.skipped:
                parts.append(format_html('<span class="p2c-skipped" style="color:#ba2121">Skipped</span> · {}', link))
            elif FAILURE in (c.last_erp_result, c.last_crm_result):
                job_id = c.last_erp_job_id if c.last_erp_result == FAILURE else c.last_crm_job_id
                job = (format_html(' (<a href="{}">log</a>)', reverse("admin:integration_syncjob_change",
                                                                        args=[job_id])) if job_id else "")
                parts.append(format_html(
                    '<span class="p2c-failed" style="color:#ba2121">Last sync failed</span>{} · {}', job, link))
            else:
                parts.append(format_html('<span class="p2c-coupled" style="color:#447e9b">Coupled</span> to {}',
                                         link))
        return format_html("<br>".join(["{}"] * len(parts)), *parts)
