import sys
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from integration.health.alerts import alerts_send
from integration.health.reads import health_summary, problem_text
from p2c.management.arguments import int_between

MAX_LAG_MINUTES = 36_500 * 24 * 60  # a hundred years: far past it, "now minus the lag" is no date (OverflowError)


class Command(BaseCommand):
    help = _("The synchronisation's health (what the admin's Integration → Health page shows): the connection, the "
             "workers, beat and the broker, and per mapping and direction the last run, the lag, the records waiting, "
             "failed and skipped. Exits 0 when healthy, 1 when something needs a person (each problem is printed on "
             "standard error), for a cron job or a monitoring check.")

    def add_arguments(self, parser):
        parser.add_argument("--max-lag", type=int_between(0, MAX_LAG_MINUTES), metavar="MINUTES",
                            help=_("Also a problem: a mapping whose oldest change waiting is older than this."))
        parser.add_argument("--no-broker", action="store_true", help=_("Do not try to reach the broker."))
        parser.add_argument("--problems-only", action="store_true", help=_("Print only the problems."))
        parser.add_argument("--send-alerts", action="store_true",
                            help=_("Also send the e-mail alerts due to the connection setup's recipients (what beat "
                                   "does every minute; for a cron job where no beat runs)."))

    def handle(self, *args, max_lag, no_broker, problems_only, send_alerts, **options):
        if max_lag is not None and max_lag < 0:
            raise CommandError(_("--max-lag is a number of minutes, 0 or more."))
        if send_alerts:
            for subject in alerts_send():
                self.stdout.write(_("Alert sent: %(subject)s") % {"subject": subject})
        summary = health_summary(broker=not no_broker)
        problems = summary.problems(max_lag=None if max_lag is None else timedelta(minutes=max_lag))
        if not problems_only:
            self._report(summary)
        for kind, name, data in problems:
            self.stderr.write(problem_text(kind, name, data, now=summary.now))
        if problems:
            sys.exit(1)
        if not problems_only:
            self.stdout.write(self.style.SUCCESS(_("Healthy.")))

    def _report(self, summary):
        c, now = summary.connection, summary.now
        yes_no = {True: pgettext("health check", "yes"), False: pgettext("health check", "no"), None: _("not asked")}
        self.stdout.write(_("Connection enabled: %(enabled)s; workers alive: %(workers)s; beat alive: %(beat)s; "
                            "broker reachable: %(broker)s") % {
            "enabled": yes_no[c.enabled], "workers": c.workers_alive, "beat": yes_no[c.beat_alive],
            "broker": yes_no[c.broker_reachable]})
        header = (_("MAPPING"), _("DIRECTION"), _("LAST RUN"), _("RESULT"), _("LAG"), _("WAITING"), _("FAILED"),
                  _("SKIPPED"), _("CONFLICTS"), _("ROWS/S FULL"))
        self.stdout.write(f"{header[0]:24} {header[1]:16} {header[2]:17} {header[3]:11} {header[4]:>18} "
                          f"{header[5]:>8} {header[6]:>7} {header[7]:>8} {header[8]:>9} {header[9]:>11}")
        for row in summary.rows:
            job = row.last_job
            when = f"{(job.finished_at or job.created_at):%Y-%m-%d %H:%M}" if job else _("never")
            result = job.get_status_display() if job else ""
            lag = timesince(now - row.lag, now) if row.lag else "-"
            waiting = "-" if row.waiting is None else row.waiting
            speed = "-" if row.full_rows_per_second is None else row.full_rows_per_second
            self.stdout.write(f"{row.mapping.name:24} {row.direction_label:16} {when:17} {result:11} {lag:>18} {waiting:>8} "
                              f"{row.failed:>7} {row.skipped:>8} {row.conflicts:>9} {speed:>11}")
