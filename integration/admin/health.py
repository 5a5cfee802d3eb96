"""The health page (admin: Integration → Health): a thin door onto integration.health.reads's selectors.

Mounted by ConnectionSetupAdmin.get_urls (admin_view: staff only); needs ``integration.view_syncjob`` (the right to
read the synchronisation log it sums up). The charts are drawn here, on the server (integration.health.charts).
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import formats
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from ..health.charts import bar_chart
from ..health.reads import health_summary, totals_per_day, totals_per_hour
from ..permissions import VIEW_JOB_PERMISSION

GREEN, RED, BLUE = "#2e7d32", "#ba2121", "#417690"


def lag_text(lag, now):
    """"2 hours, 5 minutes" (timesince's words), or "" when nothing waits."""
    if not lag:
        return ""
    return timesince(now - lag, now)


def jobs_chart(points, *, width, height, title, compact=False):
    """Jobs per hour: succeeded (green) and failed (red) stacked; ``points`` [(hour, succeeded, failed)]."""
    labels = [formats.time_format(hour, "H:i") for hour, _s, _f in points]
    return bar_chart(labels=labels, width=width, height=height, title=title, compact=compact, series=[
        (_("succeeded"), GREEN, [s for _h, s, _f in points]),
        (_("failed"), RED, [f for _h, _s, f in points]),
    ])


def records_chart(points, *, width, height, title, compact=False):
    """Records synchronised (inserted, modified or deleted) per day; ``points`` [(day, records)]."""
    labels = [formats.date_format(day, "D j") for day, _r in points]
    return bar_chart(labels=labels, width=width, height=height, title=title, compact=compact,
                     series=[(_("records"), BLUE, [r for _d, r in points])])


def health_view(request):
    if not request.user.has_perm(VIEW_JOB_PERMISSION):
        raise PermissionDenied
    summary = health_summary()
    for row in summary.rows:
        row.lag_text = lag_text(row.lag, summary.now)
        row.jobs_chart = jobs_chart(row.jobs_per_hour, width=88, height=28, compact=True, title=_(
            "Jobs per hour of %(mapping)s, last 24 hours") % {"mapping": row.mapping.name})
        row.records_chart = records_chart(row.records_per_day, width=56, height=28, compact=True, title=_(
            "Records synchronised per day by %(mapping)s, last 7 days") % {"mapping": row.mapping.name})
    context = {
        **admin.site.each_context(request),
        "title": _("Synchronisation health"),
        "summary": summary,
        "connection": summary.connection,
        "rows": summary.rows,
        "jobs_chart": jobs_chart(totals_per_hour(summary.rows), width=560, height=150,
                                 title=_("Jobs per hour, every mapping, last 24 hours")),
        "records_chart": records_chart(totals_per_day(summary.rows), width=360, height=150,
                                       title=_("Records synchronised per day, every mapping, last 7 days")),
    }
    return TemplateResponse(request, "admin/integration/health.html", context)
