"""``full_sync``: the full synchronisation review from the command line (a thin door onto
integration.full_sync.review)."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from integration.full_sync.review import full_sync_review_lines, full_sync_status
from integration.full_sync.run import full_sync_start
from p2c.management.arguments import int_between
from p2c.outcomes import OperationRefused

DEFAULT_WAIT_SECONDS = 600
MAX_WAIT_SECONDS = 86_400  # a day


class Command(BaseCommand):
    help = gettext(
        "Show the full synchronisation review (every mapping in dependency order with its recommendation), or start "
        "a full synchronisation on the Celery workers (--start), continue a failed or stalled one (--restart), "
        "and wait for it to finish (--wait). Exits 1 when the start is refused (connection not enabled, nothing to "
        "restart), when the latest run failed or finished with failed records, or when --wait runs out."
    )

    def add_arguments(self, parser):
        what = parser.add_mutually_exclusive_group()
        what.add_argument("--start", action="store_true", help=gettext("start a full synchronisation"))
        what.add_argument(
            "--restart",
            action="store_true",
            help=(
                gettext(
                    "continue the last run where it stopped (a failed run, or one no worker moves any "
                    "more; finished lines are not run again)"
                )
            ),
        )
        parser.add_argument(
            "--wait",
            type=int_between(0, MAX_WAIT_SECONDS),
            nargs="?",
            const=DEFAULT_WAIT_SECONDS,
            default=0,
            metavar="SECONDS",
            help=(
                gettext(
                    "wait for the run to finish, showing its progress: up to SECONDS (default %(default_wait_seconds)s), "
                    "then exit 1 if it is still running"
                )
                % {"default_wait_seconds": DEFAULT_WAIT_SECONDS}
            ),
        )

    def handle(self, *args, **options):
        try:
            self._handle(**options)
        except OperationRefused as exc:  # Sales did not answer the recommendations' reads, say
            raise CommandError(exc.message) from None

    def _handle(self, *, start, restart, wait, **options):
        if start or restart:
            try:
                outcome = full_sync_start(restart=restart)
            except OperationRefused as exc:
                raise CommandError(exc.message) from None
            self.stdout.write(outcome.summary())
        deadline = time.monotonic() + wait
        status = full_sync_status()
        while wait and not status["finished"] and time.monotonic() < deadline:
            progress = status["progress"]
            self.stdout.write(
                gettext("  %(done)s/%(total)s lines finished, %(running)s running")
                % {"done": progress["done"], "total": progress["total"], "running": progress["running"]}
            )
            time.sleep(min(2, max(0.0, deadline - time.monotonic())))
            status = full_sync_status()
        self._show()
        run = status["run"]
        if run:
            self.stdout.write(
                gettext("Full synchronisation #%(id)s: %(status_label)s")
                % {"id": run["id"], "status_label": run["status_label"]}
            )
        if status["stalled"]:
            self.stdout.write(
                self.style.WARNING(
                    gettext("%(message)s (full_sync --restart)") % {"message": status["stalled"]["message"]}
                )
            )
        if wait and not status["finished"]:
            raise CommandError(
                gettext("Still running after %(wait)s s; the workers carry on (see the review page).") % {"wait": wait}
            )
        if run and run["status"] == "failed":
            raise CommandError(run["message"])
        if run and status["finished"] and status["progress"]["failed_records"]:
            raise CommandError(run["message"] or f"{status['progress']['failed_records']} record(s) failed.")

    def _show(self):
        self.stdout.write(
            gettext("%(value)s %(value2)s %(value3)s %(value4)s %(value5)s MESSAGE")
            % {
                "value": format("NAME", "20"),
                "value2": format("RECOMMENDATION", "30"),
                "value3": format("STATE", "11"),
                "value4": format("TO (ERP→SALES)", "15"),
                "value5": format("FROM", "11"),
            }
        )
        for line in full_sync_review_lines():
            self.stdout.write(
                f"{line.name:20} {line.recommendation_label:30} {line.state_label.strip() or '-':11} "
                f"{line.to_job_status_label.strip() or '-':15} {line.from_job_status_label.strip() or '-':11} "
                f"{line.message_text[:80]}"
            )
