"""Admin pages of the integration that are not a model's: the full synchronisation review (docs/features.md I6; BC page
5373).

Thin doors onto integration.full_sync.review: the page lists `full_sync_review_lines()`, Start/Restart call
`full_sync_start(restart=…)` (which holds every rule: connection enabled, what may be restarted) and tell its
outcome, and the page polls `full_sync_status()` as JSON every two seconds until the run is
over, so a user can leave and come back. Restart is offered for a failed run and for a run in process that has not
moved for a while (a worker that died leaves its run "in process": `full_sync_stalled_since`). Mounted by ConnectionSetupAdmin.get_urls (admin_view: staff only);
both need ``integration.run_synchronization`` (403 without it).
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from p2c.doors import request_outcome_message
from p2c.outcomes import OperationRefused

from ..full_sync.review import full_sync_current_run, full_sync_review_lines, full_sync_status
from ..full_sync.run import full_sync_start
from ..models import ConnectionSetup, FullSyncRun
from .coupling import RUN_PERMISSION

COUNT_NAMES = ("inserted", "modified", "deleted", "unchanged", "skipped", "failed", "coupled", "uncoupled")


def _require_run_permission(request):
    if not request.user.has_perm(RUN_PERMISSION):
        raise PermissionDenied


@require_http_methods(["GET", "POST"])
def full_sync_review_view(request):
    _require_run_permission(request)
    if request.method == "POST":
        try:
            outcome = full_sync_start(restart="restart" in request.POST, user=request.user)
        except OperationRefused as exc:
            messages.error(request, exc.message)
        else:
            request_outcome_message(request, outcome)
        return redirect("admin:integration_full_sync_review")
    run = full_sync_current_run()
    try:
        lines = full_sync_review_lines(run=run)
    except OperationRefused as exc:  # Sales did not answer the recommendations' reads: the page says so
        messages.error(request, exc.message)
        lines = []
    status = full_sync_status(run=run, lines=lines)
    context = {
        **admin.site.each_context(request),
        "title": gettext("Full synchronisation review"),
        "run": run,
        "lines": lines,
        "status": status,
        "running": run is not None and run.status == FullSyncRun.Status.RUNNING,
        # a failed run, or one in process that nothing moves (its worker died: see full_sync_stalled_since)
        "can_restart": status["can_restart"],
        "stalled": status["stalled"],
        "status_url": reverse("admin:integration_full_sync_status"),
        "connection_enabled": ConnectionSetup.get_solo().is_enabled,
        "count_names": COUNT_NAMES,
    }
    return TemplateResponse(request, "admin/integration/full_sync_review.html", context)


def full_sync_status_view(request):
    _require_run_permission(request)
    try:
        return JsonResponse(full_sync_status())
    except OperationRefused as exc:
        return JsonResponse({"detail": exc.message, "code": exc.code}, status=exc.status)
