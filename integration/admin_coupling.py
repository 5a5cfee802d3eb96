"""Coupling and synchronising from the Sales and ERP changelists (SPEC I4, X1; BC §6 "Coupling UX").

`CouplingAdminMixin` goes on the ModelAdmin of every model that can take part in a table mapping. When the model
is in an enabled mapping it adds, for users with the integration's permissions:

- the *Coupling* column and its list filter (integration.admin_coupling_state);
- the actions *Set up coupling…*, *Match-based coupling…*, *Create in Sales* / *Create in ERP*,
  *Synchronise now…*, *Delete coupling* and *Synchronisation log*, each an intermediate page in the manner of
  contrib.admin's ``delete_selected`` that ends with one message counting what happened.

Actions are thin doors: couplings are made and removed by integration.coupling, records are synchronised by the
engine (in the background through integration.background when it is there, else in-process).
"""

from collections import defaultdict

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst

from .admin_coupling_state import CouplingStateAdminMixin
from .coupling import (
    CouplingConflict,
    coupling_create,
    coupling_delete,
    couplings_drop_stale,
    mapping_couple_by_match,
)
from .coupling_state import couplings_of, other_side, record_labels, record_mappings, side_of
from .engine.filters import filter_validate
from .engine.locks import MappingBusy
from .models import Direction, IntegrationFieldMapping, SyncJob, SyncJobError

RUN_PERMISSION = "integration.run_synchronization"
COUPLE_PERMISSION = "integration.change_couplings"
BACKGROUND_THRESHOLD = 200  # selections larger than this are coupled in the background


# -- selectors (the reads shared with the column are in integration.coupling_state) --------------------------------
def mapping_direction_label(mapping, direction):
    erp, crm = "ERP", "Sales"
    if direction == Direction.TO_INTEGRATION:
        return f"Send data update to {crm} ({erp} → {crm})"
    return f"Get data update from {crm} ({crm} → {erp})"


def ids_in_filter(mapping, model, ids):
    """The ids among ``ids`` that are within the mapping's table filter on ``model``'s side."""
    side = side_of(model)
    spec = mapping.crm_filter if side == "crm" else mapping.erp_filter
    return set(model.objects.filter(filter_validate(model, spec or {})).filter(pk__in=list(ids))
               .values_list("pk", flat=True))


def records_by_mapping(model, ids, mappings):
    """Split ``ids`` between ``mappings`` (products: items or resources) by each mapping's table filter.

    Returns ({mapping: [ids]}, [ids within no mapping's filter]). With one mapping every id goes to it.
    """
    ids = list(ids)
    if len(mappings) == 1:
        return {mappings[0]: ids}, []
    grouped, left = {}, set(ids)
    for mapping in mappings:
        within = ids_in_filter(mapping, model, left)
        if within:
            grouped[mapping] = [i for i in ids if i in within]
            left -= within
    return grouped, [i for i in ids if i in left]


# -- operations the actions call (each one a door onto the engine and coupling functions) -------------------------
def synchronize_later(*, mapping, direction, only_ids, full=True, create_new=None, skip_coupled=False):
    """Queue a synchronisation of ``only_ids`` (source-side ids) and return its queued jobs.

    The work runs on the Celery workers (integration.background; in-process in eager mode), never in the request.
    ``create_new`` with ``skip_coupled``: create and couple counterparts of the uncoupled ones, counting those
    coupled by the time the job runs as skipped ("Create in Sales/ERP").
    """
    from .background import mapping_synchronize_later

    return list(mapping_synchronize_later(mapping=mapping, direction=direction, only_ids=only_ids, full=full,
                                          create_new=create_new, skip_coupled=skip_coupled))


def couple_by_match_later(*, mapping, only_ids, create_new, sync_after, from_side=None):
    """Match-based coupling of the selected records of ``from_side``; returns the coupling jobs.

    Large selections go to the background; small ones run at once, so the message can count what happened.
    Both are integration.coupling.mapping_couple_by_match.
    """
    from .background import mapping_couple_by_match_later

    if len(only_ids) > BACKGROUND_THRESHOLD:
        return list(mapping_couple_by_match_later(mapping=mapping, only_ids=only_ids, create_new=create_new,
                                                  sync_after=sync_after, from_side=from_side))
    return [mapping_couple_by_match(mapping=mapping, only_ids=only_ids, create_new=create_new,
                                    sync_after=sync_after, from_side=from_side)]


def job_links(jobs):
    """``job #12, job #13`` as links to the jobs' admin pages."""
    from django.utils.html import format_html_join

    return format_html_join(
        ", ", '<a href="{}">job #{}</a>',
        ((reverse("admin:integration_syncjob_change", args=[j.pk]), j.pk) for j in jobs if getattr(j, "pk", None)),
    )


def counts_text(jobs):
    totals = defaultdict(int)
    for job in jobs:
        for name, value in job.counts().items():
            totals[name] += value
    text = ", ".join(f"{value} {name}" for name, value in totals.items() if value)
    if text:
        return text
    reasons = sorted({job.message for job in jobs if job.message})
    return "nothing to do" + (f" ({'; '.join(reasons)})" if reasons else "")


class CouplingAdminMixin(CouplingStateAdminMixin):
    """Coupling column, filter and list actions for a Sales or ERP ModelAdmin (see the module docstring)."""

    coupling_action_names = ("couple_set_up", "couple_by_match", "create_in_counterpart", "synchronize_now",
                             "coupling_remove", "synchronization_log")

    # -- whether this model is coupled at all (one query per request) -----------------------------------------------
    def coupling_mappings(self, request):
        if not hasattr(request, "_p2c_coupling_mappings"):
            request._p2c_coupling_mappings = {}
        cache = request._p2c_coupling_mappings
        if self.model not in cache:
            cache[self.model] = record_mappings(self.model)
        return cache[self.model]

    def has_change_couplings_permission(self, request):
        return request.user.has_perm(COUPLE_PERMISSION)

    def has_run_synchronization_permission(self, request):
        return request.user.has_perm(RUN_PERMISSION)

    def _shows_coupling(self, request):
        return bool(self.coupling_mappings(request)) and (
            self.has_change_couplings_permission(request) or self.has_run_synchronization_permission(request)
            or request.user.has_perm("integration.view_coupling")
        )

    # -- actions -------------------------------------------------------------------------------------------------
    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.coupling_mappings(request) and request.method in ("GET", "POST", "HEAD"):
            counterpart = "ERP" if side_of(self.model) == "crm" else "Sales"
            specs = {
                "couple_set_up": (COUPLE_PERMISSION, "Set up coupling…"),
                "couple_by_match": (COUPLE_PERMISSION, "Match-based coupling…"),
                "create_in_counterpart": (RUN_PERMISSION, f"Create in {counterpart}"),
                "synchronize_now": (RUN_PERMISSION, "Synchronise now…"),
                "coupling_remove": (COUPLE_PERMISSION, "Delete coupling"),
                "synchronization_log": (None, "Synchronisation log"),
            }
            for name, (permission, description) in specs.items():
                if permission is None and not (request.user.has_perm("integration.view_syncjob")
                                               or request.user.has_perm(RUN_PERMISSION)):
                    continue
                if permission and not request.user.has_perm(permission):
                    continue
                actions[name] = (getattr(type(self), name), name, description)
        return actions

    def changelist_view(self, request, extra_context=None):
        # An action of ours posted by someone without its permission is refused outright (not just ignored).
        action = request.POST.get("action") if request.method == "POST" else None
        if action in self.coupling_action_names and action not in self.get_actions(request):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)

    def _action_page(self, request, queryset, *, action, title, template="admin/integration/coupling_action.html",
                     **context):
        opts = self.model._meta
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        context = {
            **self.admin_site.each_context(request),
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
            "media": self.media,
            **context,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, template, context)

    def _selection(self, queryset, limit=None):
        ids = list(queryset.values_list("pk", flat=True)[:limit] if limit else queryset.values_list("pk", flat=True))
        return ids

    @admin.action(description="Set up coupling…")
    def couple_set_up(self, request, queryset):
        from .forms import CouplingSetUpForm

        ids = self._selection(queryset, limit=2)
        if len(ids) != 1:
            self.message_user(request, "Select one record to set up its coupling.", messages.WARNING)
            return None
        record = queryset.get(pk=ids[0])
        mappings = self.coupling_mappings(request)
        existing = couplings_of(self.model, [record.pk]).get(record.pk)
        if existing:
            other = other_side(side_of(self.model))
            c = existing[0]
            label = record_labels({getattr(c, f"{other}_model"): [getattr(c, f"{other}_id")]})
            text = label.get((getattr(c, f"{other}_model"), getattr(c, f"{other}_id")), getattr(c, f"{other}_id"))
            self.message_user(
                request,
                f"{capfirst(self.model._meta.verbose_name)} {record} is already coupled to {text}. Delete the coupling "
                "first to couple it to another record.",
                messages.ERROR,
            )
            return None
        form = CouplingSetUpForm(request.POST if "p2c-submit" in request.POST else None, record=record,
                                 mappings=mappings, search=request.POST.get("p2c-search"), request=request)
        if "p2c-submit" in request.POST and form.is_valid():
            mapping, counterpart = form.cleaned_data["mapping"], form.cleaned_data["counterpart_record"]
            erp_record, crm_record = (record, counterpart) if side_of(self.model) == "erp" else (counterpart, record)
            try:
                coupling_create(erp_record=erp_record, crm_record=crm_record)
            except CouplingConflict as exc:
                form.add_error("counterpart", str(exc))
            else:
                self.log_change(request, record, f"Coupled to {counterpart}.")
                sync = form.cleaned_data["synchronize"]
                jobs = []
                if sync:
                    source_id = erp_record.pk if sync == Direction.TO_INTEGRATION else crm_record.pk
                    jobs = synchronize_later(mapping=mapping, direction=sync, only_ids=[source_id])
                self.message_user(
                    request,
                    format_html("{} {} is coupled to {}.{}", capfirst(self.model._meta.verbose_name), record,
                                counterpart, format_html(" Synchronisation: {}.", job_links(jobs)) if jobs else ""),
                    messages.SUCCESS,
                )
                return None
        return self._action_page(request, queryset, action="couple_set_up", title=f"Set up coupling of {record}",
                                 form=form, record=record, search_form=True)

    @admin.action(description="Match-based coupling…")
    def couple_by_match(self, request, queryset):
        from .forms import MatchCouplingForm

        mappings = self.coupling_mappings(request)
        side = side_of(self.model)
        form = MatchCouplingForm(request.POST if "p2c-submit" in request.POST else None, mappings=mappings,
                                 side=side)
        if "p2c-submit" in request.POST and form.is_valid():
            mapping = form.cleaned_data["mapping"]
            form.save_criteria()
            ids = list(queryset.values_list("pk", flat=True))
            within = ids_in_filter(mapping, self.model, ids)
            coupled = couplings_of(self.model, ids)
            todo = [i for i in ids if i in within and i not in coupled]
            outside = len([i for i in ids if i not in within])
            options = {"create_new": form.cleaned_data["create_new"], "sync_after": form.cleaned_data["sync_after"]}
            try:
                jobs = couple_by_match_later(mapping=mapping, only_ids=todo, from_side=side, **options)
            except (MappingBusy, ValidationError) as exc:
                self.message_user(request, "; ".join(getattr(exc, "messages", [str(exc)])), messages.ERROR)
                return None
            follow = [f for job in jobs for f in (getattr(job, "follow_up_jobs", None) or [])]
            for job in [*jobs, *follow]:
                job.refresh_from_db()
            coupled_n, created, failed = (sum(j.coupled for j in jobs), sum(j.inserted for j in jobs),
                                          sum(j.failed for j in jobs))
            parts = [f"{coupled_n} coupled", f"{created} created", f"{failed} without a unique match"]
            if coupled:
                parts.append(f"{len(coupled)} already coupled")
            if outside:
                parts.append(f"{outside} outside the mapping's filter")
            if any(j.status in (SyncJob.Status.QUEUED, SyncJob.Status.RUNNING) for j in jobs):
                text = format_html("Match-based coupling of {} records is running in the background: {}.", len(todo),
                                   job_links(jobs))
            else:
                text = format_html("Match-based coupling ({}): {}.{}", job_links(jobs), ", ".join(parts),
                                   format_html(" Synchronised: {} ({}).", counts_text(follow), job_links(follow))
                                   if follow else "")
            self.message_user(request, text, messages.WARNING if failed else messages.SUCCESS)
            for job in jobs:
                if job.status == SyncJob.Status.FAILED and job.message:
                    self.message_user(request, job.message, messages.ERROR)
            return None
        return self._action_page(request, queryset, action="couple_by_match", title="Match-based coupling",
                                 form=form)

    @admin.action(description="Create in the other system")
    def create_in_counterpart(self, request, queryset):
        side = side_of(self.model)
        direction = Direction.TO_INTEGRATION if side == "erp" else Direction.FROM_INTEGRATION
        system = "Sales" if side == "erp" else "ERP"
        ids = list(queryset.values_list("pk", flat=True))
        if "p2c-submit" in request.POST:
            for mapping in self.coupling_mappings(request):  # a record coupled to a deleted one is created anew
                couplings_drop_stale(mapping=mapping, side=side, ids=ids)
        coupled = couplings_of(self.model, ids)
        uncoupled = [i for i in ids if i not in coupled]
        grouped, outside = records_by_mapping(self.model, uncoupled, self.coupling_mappings(request))
        if "p2c-submit" not in request.POST:
            return self._action_page(
                request, queryset, action="create_in_counterpart", title=f"Create in {system}",
                template="admin/integration/coupling_confirm.html",
                summary=[f"{len(uncoupled)} not coupled: each gets a new {system} record, coupled to it "
                         "(one job per mapping).",
                         *([f"{len(coupled)} already coupled: skipped."] if coupled else []),
                         *([f"{len(outside)} outside every mapping's filter: skipped."] if outside else [])],
            )
        jobs, refused = [], []
        for mapping, mapping_ids in grouped.items():
            if mapping.direction not in (Direction.BIDIRECTIONAL, direction):
                refused.append(f"{mapping.name} synchronises {mapping.get_direction_display()} only")
                continue
            try:
                jobs += synchronize_later(mapping=mapping, direction=direction, only_ids=mapping_ids, create_new=True,
                                          skip_coupled=True)
            except (MappingBusy, ValidationError) as exc:
                refused.append("; ".join(getattr(exc, "messages", [str(exc)])))
        for job in jobs:
            job.refresh_from_db()
        skipped = format_html("{} skipped (already coupled), {} outside the filter", len(coupled), len(outside))
        if any(j.status in (SyncJob.Status.QUEUED, SyncJob.Status.RUNNING) for j in jobs):
            scheduled = sum(len(chosen) for m, chosen in grouped.items()
                            if m.direction in (Direction.BIDIRECTIONAL, direction))
            text = format_html("Create in {}: the synchronisation has been scheduled for {} of {} records, {}. "
                               "It runs in the background: {}.", system, scheduled, len(ids), skipped,
                               job_links(jobs))
            failed = 0
        else:
            created = sum(j.inserted + j.coupled for j in jobs)
            failed = sum(j.failed for j in jobs)
            text = format_html("Create in {}: {} created and coupled, {} failed, {}. {}", system, created, failed,
                               skipped, job_links(jobs))
        self.message_user(request, text, messages.WARNING if failed or refused else messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.ERROR)
        return None

    @admin.action(description="Synchronise now…")
    def synchronize_now(self, request, queryset):
        from .forms import SynchronizeNowForm

        ids = list(queryset.values_list("pk", flat=True))
        coupled = couplings_of(self.model, ids)
        mappings = {(m.erp_model, m.crm_model): m for m in self.coupling_mappings(request)}
        by_mapping = defaultdict(list)
        for couplings in coupled.values():
            for c in couplings:
                if (c.erp_model, c.crm_model) in mappings and not c.skipped:
                    by_mapping[mappings[(c.erp_model, c.crm_model)]].append(c)
        skipped = sum(1 for cs in coupled.values() if all(c.skipped for c in cs))
        uncoupled = len(ids) - len(coupled)
        bidirectional = any(m.direction == Direction.BIDIRECTIONAL for m in by_mapping)
        form = SynchronizeNowForm(request.POST if "p2c-submit" in request.POST else None,
                                  bidirectional=bidirectional, mappings=list(by_mapping))
        if "p2c-submit" not in request.POST or not form.is_valid():
            return self._action_page(
                request, queryset, action="synchronize_now", title="Synchronise now", form=form,
                summary=[f"{sum(len(v) for v in by_mapping.values())} coupled: synchronised in the background.",
                         *([f"{uncoupled} not coupled: skipped (set up a coupling first)."] if uncoupled else []),
                         *([f"{skipped} skipped couplings: restore them first."] if skipped else [])],
            )
        chosen = form.cleaned_data.get("direction")
        jobs, refused = [], []
        for mapping, couplings in by_mapping.items():
            direction = chosen if mapping.direction == Direction.BIDIRECTIONAL else mapping.direction
            source = "erp" if direction == Direction.TO_INTEGRATION else "crm"
            try:
                jobs += synchronize_later(mapping=mapping, direction=direction,
                                          only_ids=[getattr(c, f"{source}_id") for c in couplings])
            except (MappingBusy, ValidationError) as exc:
                refused.append("; ".join(getattr(exc, "messages", [str(exc)])))
        for job in jobs:
            job.refresh_from_db()
        done = [j for j in jobs if j.status not in (SyncJob.Status.QUEUED, SyncJob.Status.RUNNING)]
        outcome = (format_html("done: {}", counts_text(done)) if done and len(done) == len(jobs)
                   else "running in the background")
        self.message_user(
            request,
            format_html("The synchronisation has been scheduled for {} of {} records ({} not coupled, {} skipped), "
                        "{}. {}", sum(len(v) for v in by_mapping.values()), len(ids), uncoupled, skipped, outcome,
                        job_links(jobs)),
            messages.WARNING if refused or any(j.failed for j in jobs) else messages.SUCCESS,
        )
        for reason in refused:
            self.message_user(request, reason, messages.ERROR)
        return None

    @admin.action(description="Delete coupling")
    def coupling_remove(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        coupled = couplings_of(self.model, ids)
        if "p2c-submit" not in request.POST:
            return self._action_page(
                request, queryset, action="coupling_remove", title="Delete coupling",
                template="admin/integration/coupling_confirm.html",
                summary=[f"{len(coupled)} of {len(ids)} selected records are coupled: their couplings are deleted. "
                         "The records themselves stay, on both sides."],
            )
        records = list(queryset.filter(pk__in=list(coupled)))
        removed = coupling_delete(records=records)
        for record in records:
            self.log_change(request, record, "Coupling deleted.")
        self.message_user(request, f"{removed} coupling(s) deleted; {len(ids) - len(coupled)} record(s) were not "
                          "coupled.", messages.SUCCESS)
        return None

    @admin.action(description="Synchronisation log")
    def synchronization_log(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True)[:500])
        coupled = couplings_of(self.model, ids)
        side = side_of(self.model)
        job_ids = {j for cs in coupled.values() for c in cs for j in (c.last_erp_job_id, c.last_crm_job_id) if j}
        keys = [str(i) for i in ids]
        label = self.model._meta.label
        records = Q(source_model=label, source_id__in=keys) | Q(destination_model=label, destination_id__in=keys)
        # The counterparts' errors too, each id with its own table (ids of different tables collide).
        counterparts = defaultdict(list)
        for c in (c for cs in coupled.values() for c in cs):
            other = other_side(side)
            counterparts[getattr(c, f"{other}_model")].append(str(getattr(c, f"{other}_id")))
        for other_label, other_keys in counterparts.items():
            records |= (Q(source_model=other_label, source_id__in=other_keys)
                        | Q(destination_model=other_label, destination_id__in=other_keys))
        errors = list(SyncJobError.objects.filter(records).select_related("job").order_by("-created_at")[:200])
        job_ids |= {e.job_id for e in errors}
        jobs = list(SyncJob.objects.filter(pk__in=job_ids).order_by("-created_at")[:200])
        return self._action_page(request, queryset, action="synchronization_log", title="Synchronisation log",
                                 template="admin/integration/coupling_log.html", jobs=jobs, errors=errors,
                                 count=len(ids))


def field_mappings_for_matching(mapping):
    """The field mappings of ``mapping`` the engine can match on (integration.engine.matching), no constant:
    two plain fields, or two references (matched through the related records' couplings)."""
    from .engine.fields import RELATION, field_category, get_field

    erp_model, crm_model = mapping.erp_model_class(), mapping.crm_model_class()
    usable = []
    for fm in (IntegrationFieldMapping.objects.filter(table_mapping=mapping, status="enabled", constant_value="")
               .exclude(erp_field="").exclude(crm_field="").order_by("id")):
        erp_field, crm_field = get_field(erp_model, fm.erp_field), get_field(crm_model, fm.crm_field)
        if erp_field is None or crm_field is None:
            continue
        if (field_category(erp_field) == RELATION) != (field_category(crm_field) == RELATION):
            continue  # a reference on one side only (a code to an option, say): no equal values to compare
        usable.append(fm)
    return usable
