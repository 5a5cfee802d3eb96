"""Coupling and synchronising from the Sales and ERP changelists (docs/features.md I4, X1; Business Central's coupling
screens).

`CouplingAdminExtension` extends the ModelAdmin of every Sales and ERP model (p2c.admin_extensions). When the model
is in an enabled mapping it adds, for users with the integration's permissions:

- the *Coupling* column and its list filter (integration.admin.coupling_state);
- the actions *Set up coupling…*, *Match-based coupling…*, *Create in Sales* / *Create in ERP*,
  *Synchronise now…*, *Delete coupling* and *Synchronisation log*, each an intermediate page in the manner of
  contrib.admin's ``delete_selected`` that ends with one message counting what happened.

Actions are thin doors: each calls its operation in integration.operations (which holds every rule) and tells its
outcome in one message (p2c.doors.outcome_message).
"""


from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import model_ngettext
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from p2c.doors import outcome_message, refused_message
from p2c.outcomes import OperationRefused, Refusal

from ..configuration.history import configuration_recorded
from ..coupling.state import couplings_of, side_of
from ..models import ConfigurationChange, Direction
from ..operations import (
    couple_by_match,
    coupling_set_up,
    couplings_delete,
    records_create_in_other_side,
    synchronize_now,
    synchronize_now_choices,
)
from ..operations.coupling import coupling_set_up_check
from ..permissions import COUPLE_PERMISSION, RUN_PERMISSION, VIEW_COUPLING_PERMISSION, VIEW_JOB_PERMISSION
from .coupling_state import RESTORE_PERMISSION, CouplingStateAdminExtension, record_names
from .forms import CouplingSetUpForm, MatchCouplingForm, SynchronizeNowForm
from .helpers import _tell
from .selectors import LOG_RECORDS, page_coupling_states, records_sync_log

NEXT_FIELD = "p2c-next"  # the record page a record's tool was used from


# -- selectors (the reads shared with the column are in integration.coupling.state) --------------------------------
def mapping_direction_label(mapping, direction):
    if direction == Direction.TO_INTEGRATION:
        return gettext("Send data update to Sales (ERP → Sales)")
    return gettext("Get data update from Sales (Sales → ERP)")


def _action(method):
    """``method`` (an extension's action) as the admin calls a list action: with the ModelAdmin first."""
    def action(modeladmin, request, queryset):
        return method(request, queryset)

    return action


class CouplingAdminExtension(CouplingStateAdminExtension):
    """Coupling column, filter and list actions for a Sales or ERP ModelAdmin (see the module docstring)."""

    coupling_action_names = ("couple_set_up", "couple_by_match", "create_in_counterpart", "synchronize_now",
                             "coupling_remove", "synchronization_log")
    action_names = coupling_action_names

    # -- who may do what, and whether the coupling shows (coupling_mappings: one query per request) ------------
    def has_change_couplings_permission(self, request):
        return request.user.has_perm(COUPLE_PERMISSION)

    def has_run_synchronization_permission(self, request):
        return request.user.has_perm(RUN_PERMISSION)

    def has_view_sync_log_permission(self, request):
        return request.user.has_perm(VIEW_JOB_PERMISSION) or request.user.has_perm(RUN_PERMISSION)

    def _shows_coupling(self, request):
        return bool(self.coupling_mappings(request)) and (
            self.has_change_couplings_permission(request) or self.has_run_synchronization_permission(request)
            or request.user.has_perm(VIEW_COUPLING_PERMISSION)
        )

    # -- actions -------------------------------------------------------------------------------------------------
    def get_actions(self, request, actions):
        if self.coupling_mappings(request) and request.method in ("GET", "POST", "HEAD"):
            create_in = gettext("Create in ERP") if side_of(self.model) == "crm" else gettext("Create in Sales")
            descriptions = {"create_in_counterpart": create_in}
            for name in self.coupling_action_names:
                action = getattr(type(self), name)
                # Each action's declared permissions (has_<permission>_permission), as Django checks its own.
                if all(getattr(self, f"has_{permission}_permission")(request)
                       for permission in action.allowed_permissions):
                    actions[name] = (_action(getattr(self, name)), name,
                                     descriptions.get(name, action.short_description))
        return actions

    # -- the record's page: its coupling state, and the list's actions as object tools (BC's cards) ----------------
    RECORD_TOOLS = ("synchronize_now", "couple_set_up", "create_in_counterpart", "coupling_remove")

    def change_view(self, view, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        obj = self.admin.get_object(request, object_id) if object_id and self._shows_coupling(request) else None
        if obj is not None:
            states, labels = page_coupling_states(model=self.model, ids=[obj.pk],
                                                  mappings=self.coupling_mappings(request))
            obj._p2c_state, obj._p2c_labels = states[obj.pk], labels
            obj._p2c_can_restore = request.user.has_perm(RESTORE_PERMISSION)
            obj._p2c_names = record_names(self.coupling_mappings(request))
            actions = self.admin.get_actions(request)
            opts = self.model._meta
            extra_context["p2c_coupling_state"] = self.coupling_state(obj)
            # Each tool posts the record to the list's action, which asks what it asks there (the direction…) and
            # calls the same operation: one function per operation, the record page only another door onto it.
            # ``next``: once done (or cancelled), the user is back on this page, not on the list.
            extra_context["p2c_coupling_tools"] = [
                {"action": name, "title": actions[name][2].rstrip("…"), "pk": obj.pk,
                 "url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
                 "next": reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])}
                for name in self.RECORD_TOOLS if name in actions]
        return view(request, object_id, form_url, extra_context)

    def changelist_view(self, view, request, extra_context=None):
        # An action of ours posted by someone without its permission is refused outright (not just ignored).
        action = request.POST.get("action") if request.method == "POST" else None
        if action in self.coupling_action_names and action not in self.admin.get_actions(request):
            raise PermissionDenied
        response = view(request, extra_context)
        # Started from a record's page: its outcome is told there, where the user was.
        back = self._next_url(request) if action in self.coupling_action_names else None
        if back and isinstance(response, HttpResponseRedirect):
            return HttpResponseRedirect(back)
        return response

    @staticmethod
    def _next_url(request):
        """The record page an action was started from (``p2c-next``), when it is one of this site's."""
        url = request.POST.get(NEXT_FIELD, "")
        if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
            return url
        return None

    def _action_page(self, request, queryset, *, action, title, template="admin/integration/coupling_action.html",
                     **context):
        opts = self.model._meta
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        context = {
            **self.admin.admin_site.each_context(request),
            "title": title,
            "opts": opts,
            "app_label": opts.app_label,
            "action": action,
            "queryset": queryset,
            "count": queryset.count() if "count" not in context else context.pop("count"),
            "selected": selected,
            "select_across": request.POST.get("select_across") == "1",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
            "p2c_next": self._next_url(request),  # carried through the page, and where Cancel goes back to
            # the record's name in the breadcrumbs, between the list and the action
            "p2c_next_label": str(queryset.first()) if self._next_url(request) else "",
            "media": self.admin.media,
            **context,
        }
        # The model's name for that many records (verbose_name or verbose_name_plural), as contrib.admin says it.
        context["selected_name"] = model_ngettext(opts, context["count"])
        request.current_app = self.admin.admin_site.name
        return TemplateResponse(request, template, context)

    def _selection(self, queryset, limit=None):
        ids = list(queryset.values_list("pk", flat=True)[:limit] if limit else queryset.values_list("pk", flat=True))
        return ids

    @admin.action(description=_("Set up coupling…"), permissions=["change_couplings"])
    def couple_set_up(self, request, queryset):
        ids = self._selection(queryset, limit=2)
        if len(ids) != 1:
            self.admin.message_user(request, gettext("Select one record to set up its coupling."), messages.WARNING)
            return None
        record = queryset.get(pk=ids[0])
        try:
            coupling_set_up_check(record=record)
        except OperationRefused as exc:
            refused_message(self.admin, request, exc)
            return None
        form = CouplingSetUpForm(request.POST if "p2c-submit" in request.POST else None, record=record,
                                 mappings=self.coupling_mappings(request), search=request.POST.get("p2c-search"),
                                 request=request)
        if "p2c-submit" in request.POST and form.is_valid():
            counterpart = form.cleaned_data["counterpart_record"]
            try:
                outcome = coupling_set_up(record=record, counterpart=counterpart, mapping=form.cleaned_data["mapping"],
                                          synchronize=form.cleaned_data["synchronize"] or None)
            except OperationRefused as exc:
                if exc.code not in (Refusal.ALREADY_COUPLED, Refusal.DIRECTION_NOT_ALLOWED, Refusal.DIRECTION_ONE_WAY):
                    refused_message(self.admin, request, exc)
                    return None
                form.add_error("counterpart" if exc.code == Refusal.ALREADY_COUPLED else "synchronize", exc.message)
            else:
                self.admin.log_change(request, record, gettext("Coupled to %(counterpart)s.") % {"counterpart": counterpart})
                outcome_message(self.admin, request, outcome)
                return None
        return self._action_page(
            request,
            queryset,
            action="couple_set_up",
            title=gettext("Set up coupling of %(record)s") % {"record": record},
            form=form,
            record=record,
            search_form=True,
        )

    @admin.action(description=_("Match-based coupling…"), permissions=["change_couplings"])
    def couple_by_match(self, request, queryset):
        form = MatchCouplingForm(request.POST if "p2c-submit" in request.POST else None,
                                 mappings=self.coupling_mappings(request), side=side_of(self.model))
        if "p2c-submit" in request.POST and form.is_valid():
            try:
                # The criteria chosen are kept on the mapping: a change of the configuration, in its history.
                with configuration_recorded(user=request.user, door=ConfigurationChange.Door.ADMIN):
                    outcome = couple_by_match(mapping=form.cleaned_data["mapping"], from_side=side_of(self.model),
                                              ids=list(queryset.values_list("pk", flat=True)),
                                              create_new=form.cleaned_data["create_new"],
                                              sync_after=form.cleaned_data["sync_after"],
                                              criteria=form.chosen_criteria())
            except OperationRefused as exc:
                if exc.code not in (Refusal.MATCH_FIELDS_MISSING, Refusal.MATCH_FIELD_UNKNOWN):
                    refused_message(self.admin, request, exc)
                    return None
                form.add_error(None, exc.message)
            else:
                outcome_message(self.admin, request, outcome)
                return None
        return self._action_page(request, queryset, action="couple_by_match", title=gettext("Match-based coupling"),
                                 form=form)

    @admin.action(description=_("Create in the other system"), permissions=["run_synchronization"])
    def create_in_counterpart(self, request, queryset):
        to_sales = side_of(self.model) == "erp"
        if "p2c-submit" not in request.POST:
            summary = (
                gettext(
                    "Each selected record not coupled yet gets a new Sales record, coupled to it (one job per "
                    "mapping). Records coupled already, or outside every mapping's filter, are skipped."
                )
                if to_sales
                else gettext(
                    "Each selected record not coupled yet gets a new ERP record, coupled to it (one job per "
                    "mapping). Records coupled already, or outside every mapping's filter, are skipped."
                )
            )
            return self._action_page(
                request, queryset, action="create_in_counterpart",
                title=gettext("Create in Sales") if to_sales else gettext("Create in ERP"),
                template="admin/integration/coupling_confirm.html", summary=[summary],
            )
        _tell(self.admin, request, records_create_in_other_side, model=self.model,
              ids=list(queryset.values_list("pk", flat=True)))
        return None

    @admin.action(description=_("Synchronise now…"), permissions=["run_synchronization"])
    def synchronize_now(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        choices, preselected = synchronize_now_choices(model=self.model, ids=ids)
        form = SynchronizeNowForm(request.POST if "p2c-submit" in request.POST else None, choices=choices,
                                  initial_direction=preselected)
        if "p2c-submit" not in request.POST or not form.is_valid():
            return self._action_page(
                request, queryset, action="synchronize_now", title=gettext("Synchronise now"), form=form,
                summary=[
                    gettext("The coupled records are synchronised in the background. Records not coupled, and "
                            "skipped couplings, are skipped, as are records whose target side holds newer data.")
                    if len(ids) > 1 else
                    gettext("The coupled records are synchronised in the background. Records not coupled, and "
                            "skipped couplings, are skipped.")
                ],
            )
        _tell(self.admin, request, synchronize_now, model=self.model, ids=ids, direction=form.cleaned_data.get("direction"))
        return None

    @admin.action(description=_("Delete coupling"), permissions=["change_couplings"])
    def coupling_remove(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        if "p2c-submit" not in request.POST:
            coupled = couplings_of(self.model, ids)
            return self._action_page(
                request, queryset, action="coupling_remove", title=gettext("Delete coupling"),
                template="admin/integration/coupling_confirm.html",
                summary=[ngettext(
                    "%(coupled)s of %(count)s selected record is coupled: its coupling is deleted. The record itself "
                    "stays, on both sides.",
                    "%(coupled)s of %(count)s selected records are coupled: their couplings are deleted. The records "
                    "themselves stay, on both sides.", len(ids)) % {"coupled": len(coupled), "count": len(ids)}],
            )
        outcome = couplings_delete(model=self.model, ids=ids)
        not_coupled = {r.key for r in outcome.results}
        for record in queryset:
            if str(record.pk) not in not_coupled:
                self.admin.log_change(request, record, gettext("Coupling deleted."))
        outcome_message(self.admin, request, outcome)
        return None

    @admin.action(description=_("Synchronisation log"), permissions=["view_sync_log"])
    def synchronization_log(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True)[:LOG_RECORDS])
        jobs, errors = records_sync_log(model=self.model, ids=ids)
        return self._action_page(request, queryset, action="synchronization_log", title=gettext("Synchronisation log"),
                                 template="admin/integration/coupling_log.html", jobs=jobs, errors=errors,
                                 count=len(ids))
