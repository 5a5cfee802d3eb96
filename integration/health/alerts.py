"""Alerts by e-mail: the connection setup's recipients are told when the synchronisation breaks, and when it recovers.

`alerts_send` is the one operation: it reads the health (integration.health.reads), decides per mapping and kind what is
wrong now, and sends

- a message when a problem opens: a mapping's last job failed, records of a mapping are newly skipped, a mapping's
  lag passed the setup's threshold, no worker has been seen for the setup's minutes;
- again while it stays open only when it got worse (another job failed, more records skipped), and never more than
  one message per mapping and kind per period (the setup's minutes);
- one message when it recovers (only for a problem whose opening was told).

Where each alert stands is kept in `AlertState`. Beat runs it every minute from its own process
(integration.health.heartbeats.BeatScheduler), so "no worker" is told even when no worker runs; `sync_health
--send-alerts` runs it from cron where there is no beat. Mail goes through Django's e-mail settings (EMAIL_* from
the environment; the console backend by default).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from p2c.models import recipients_by_language

from ..models import AlertState, ConnectionSetup
from ..models.mappings import recipients_split
from .reads import SHORT_DIRECTION, health_summary

logger = logging.getLogger("p2c.integration")
Kind = AlertState.Kind
CONNECTION = ""  # the mapping name of an alert of the whole connection


def alert_problems(summary, setup):
    """``{(kind, mapping name): (figure, sentence)}`` of what is wrong now. The figure says whether it got worse:
    the last failed job's id, the records skipped, the lag in minutes."""
    now, found = summary.now, {}
    by_mapping = {}
    for row in summary.rows:
        by_mapping.setdefault(row.mapping.name, []).append(row)
    for name, rows in by_mapping.items():
        failed = [row for row in rows if row.last_failed]
        if failed:
            job = max((row.last_job for row in failed), key=lambda j: j.pk)
            found[(Kind.JOB_FAILED, name)] = (job.pk, _(
                "The last synchronisation job of %(mapping)s (%(direction)s), #%(job)s, ended %(status)s: "
                "%(message)s") % {"mapping": name, "direction": SHORT_DIRECTION[job.direction], "job": job.pk,
                                  "status": job.get_status_display(), "message": job.message_text or "-"})
        skipped = sum(row.skipped for row in rows)
        if skipped:
            found[(Kind.RECORDS_SKIPPED, name)] = (skipped, _(
                "%(count)s records of %(mapping)s are skipped: they failed twice the same way and wait until they "
                "change or are restored.") % {"count": skipped, "mapping": name})
        lags = [row.lag for row in rows if row.lag is not None]
        if setup.alert_lag_minutes and lags and max(lags) > timedelta(minutes=setup.alert_lag_minutes):
            lag = max(lags)
            found[(Kind.LAG, name)] = (int(lag.total_seconds() // 60), _(
                "%(mapping)s is %(lag)s behind: its oldest change not yet synchronised is older than %(minutes)s "
                "minutes.") % {"mapping": name, "lag": timesince(now - lag, now), "minutes": setup.alert_lag_minutes})
    seen = summary.connection.last_worker_seen
    if seen is None or now - seen >= timedelta(minutes=setup.alert_worker_minutes):
        found[(Kind.NO_WORKER, CONNECTION)] = (0, _(
            "No Celery worker has been seen for %(ago)s: nothing is synchronised in the background.") % {
            "ago": timesince(seen, now)} if seen else _("No Celery worker has been seen: nothing is synchronised "
                                                        "in the background."))
    return found


def _subject(kind, name, *, recovered=False):
    what = {Kind.JOB_FAILED: _("a synchronisation job failed"), Kind.RECORDS_SKIPPED: _("records skipped"),
            Kind.LAG: _("synchronisation behind"), Kind.NO_WORKER: _("no worker")}[kind]
    if recovered:
        what = _("recovered (%(what)s)") % {"what": what}
    return f"[p2c] {name}: {what}" if name else f"[p2c] {what}"


def alerts_send(*, now=None):
    """Send the alerts due at ``now`` to the connection setup's recipients; return the subjects sent. Nothing is
    sent while the connection is disabled or names no recipient (what stands is still recorded then)."""
    now = now or timezone.now()
    setup = ConnectionSetup.get_solo()
    recipients = recipients_split(setup.alert_recipients)
    if not setup.is_enabled or not recipients:
        return []
    summary = health_summary(now=now, broker=False, waiting=bool(setup.alert_lag_minutes))
    problems = alert_problems(summary, setup)
    period = timedelta(minutes=setup.alert_period_minutes)
    due = []  # (kind, mapping name, None for a problem or the recovered state), told per language when sent
    changed = []
    with transaction.atomic():
        states = {(s.kind, s.mapping_name): s for s in AlertState.objects.select_for_update()}
        for (kind, name), (figure, _text) in problems.items():
            state = states.get((kind, name)) or AlertState(kind=kind, mapping_name=name)
            if not state.is_open:
                state.is_open, state.opened_at, state.notified = True, now, False
            is_due = state.last_sent_at is None or now - state.last_sent_at >= period
            worse = kind in (Kind.JOB_FAILED, Kind.RECORDS_SKIPPED) and figure > state.value
            if is_due and (not state.notified or worse):
                due.append((kind, name, None))
                state.notified, state.last_sent_at, state.value = True, now, figure
            changed.append(state)
        for key, state in states.items():
            if not state.is_open or key in problems:
                continue
            if state.notified:
                due.append((state.kind, state.mapping_name, (state.opened_at, now)))
                state.last_sent_at = now
            state.is_open, state.notified, state.value = False, False, 0
            changed.append(state)
        for state in changed:
            state.save()
        # Sent once the states are written: a failure to send rolls them back, so the next check tries again. Each
        # recipient reads them in their language: the one they chose in the admin, else P2C_LANGUAGE.
        if due:
            emails = []
            for language, addresses in recipients_by_language(recipients).items():
                with translation.override(language):
                    emails += [mail.EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, addresses)
                               for subject, body in _told(due, summary, setup)]
            with mail.get_connection() as connection:
                connection.send_messages(emails)
    subjects = [subject for subject, _body in _told(due, summary, setup)] if due else []
    for subject in subjects:
        logger.info("Alert sent to %s: %s", ", ".join(recipients), subject)
    return subjects


def _told(due, summary, setup):
    """[(subject, body)] of the ``due`` alerts, in the active language."""
    problems = alert_problems(summary, setup) if any(recovered is None for _k, _n, recovered in due) else {}
    told = []
    for kind, name, recovered in due:
        if recovered is None:
            told.append((_subject(kind, name), problems[(kind, name)][1]))
            continue
        opened_at, now = recovered
        told.append((_subject(kind, name, recovered=True), _(
            "Recovered: %(what)s, open since %(since)s (%(duration)s).") % {
            "what": Kind(kind).label, "since": opened_at.isoformat(timespec="minutes"),
            "duration": timesince(opened_at, now)}))
    return told
