"""How each door tells an operation's `Outcome` (p2c.outcomes): one translation per door, used by every app.

- `outcome_message`: the admin's one message, at the outcome's level, with the jobs as links;
- `outcome_response` / `refused_response`: the API's body and status;
- `outcome_finish`: a management command's lines and exit code.
"""

from django.contrib import messages
from django.core.management.base import CommandError
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from rest_framework import status as http
from rest_framework.response import Response

from .outcomes import ERROR, INFO, SUCCESS, WARNING, OperationRefused

ADMIN_LEVELS = {SUCCESS: messages.SUCCESS, WARNING: messages.WARNING, ERROR: messages.ERROR, INFO: messages.INFO}


def job_links(jobs):
    """``job #12, job #13``, each a link to its admin page where the job has one."""
    rows = []
    for job in jobs:
        url = job.get_admin_url() if hasattr(job, "get_admin_url") else None
        text = gettext("%(model)s #%(pk)s") % {"model": job._meta.verbose_name, "pk": job.pk}
        rows.append((url, text if url is None else gettext("job #%(pk)s") % {"pk": job.pk}))
    return format_html_join(", ", "{}", ((format_html('<a href="{}">{}</a>', url, text) if url else text,)
                                        for url, text in rows))


def outcome_message(modeladmin, request, outcome):
    """One admin message for ``outcome``: its summary at its level, the jobs it started as links."""
    request_outcome_message(request, outcome)


def refused_message(modeladmin, request, exc):
    """The admin's error message for a whole request refused."""
    modeladmin.message_user(request, exc.message, messages.ERROR)


def outcome_response(outcome, *, status=None, extra=None):
    """The API's answer: the outcome in the body (with ``extra`` keys, e.g. a dry run's report); 202 when jobs were
    queued, else 200 (even with records refused, as a batch endpoint does: the request itself was valid)."""
    if status is None:
        status = http.HTTP_202_ACCEPTED if outcome.counts["queued"] else http.HTTP_200_OK
    return Response({**outcome.as_data(), **(extra or {})}, status=status)


def refused_response(exc: OperationRefused, extra=None):
    """The API's answer to a whole request refused: 409 or 400 with the reason and a stable code (and ``extra``
    keys, e.g. the coupling that stands in the way)."""
    return Response({"detail": exc.message, "code": exc.code, **(extra or {})}, status=exc.status)


def outcome_finish(command, outcome):
    """Write the outcome's summary (to stdout when all went through, else to stderr) and, when a record failed or
    was refused, raise a CommandError (manage.py exits 1), so a script or a cron job sees it."""
    stream = command.stdout if outcome.exit_code == 0 else command.stderr
    stream.write(outcome.summary(limit=50))
    if outcome.jobs:
        jobs = ", ".join(f"#{job.pk}" for job in outcome.jobs if getattr(job, "pk", None))
        command.stdout.write(gettext("Jobs: %(jobs)s") % {"jobs": jobs})
    if outcome.exit_code:
        failed = outcome.counts["failed"] + outcome.counts["refused"]
        told = []
        if failed:
            told.append(ngettext("%(count)s record failed or was refused.", "%(count)s records failed or were refused.",
                                 failed) % {"count": failed})
        if outcome.jobs_failed:
            told.append(ngettext("%(count)s job failed.", "%(count)s jobs failed.", outcome.jobs_failed)
                        % {"count": outcome.jobs_failed})
        raise CommandError(" ".join(told), returncode=outcome.exit_code)


def refused_command_error(exc: OperationRefused):
    """A CommandError for a whole request refused (the command exits 1 with the reason)."""
    return CommandError(exc.message)


def request_outcome_message(request, outcome):
    """`outcome_message` for any admin page, a ModelAdmin's or not (the full synchronisation review)."""
    text = outcome.summary()
    if outcome.jobs:
        text = format_html(gettext("{summary} Jobs: {jobs}."), summary=text, jobs=job_links(outcome.jobs))
    messages.add_message(request, ADMIN_LEVELS[outcome.level], text)
