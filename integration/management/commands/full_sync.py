"""``full_sync``: the full synchronisation review from the command line (a thin door onto integration.full_sync)."""

import time

from django.core.management.base import BaseCommand, CommandError

from integration.full_sync import full_sync_review_lines, full_sync_start, full_sync_status


class Command(BaseCommand):
    help = (
        "Show the full synchronisation review (every mapping in dependency order with its recommendation), or start "
        "a full synchronisation on the Celery workers (--start), continue a failed or interrupted one (--restart), "
        "and wait for it to finish (--wait)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--start", action="store_true", help="start a full synchronisation")
        parser.add_argument("--restart", action="store_true",
                            help="continue the last run where it stopped (finished lines are not run again)")
        parser.add_argument("--wait", type=int, metavar="SECONDS", default=0,
                            help="wait up to SECONDS for the run to finish, showing its progress")

    def handle(self, *args, start, restart, wait, **options):
        if start or restart:
            run = full_sync_start(restart=restart)
            run.refresh_from_db()  # with eager tasks it may have finished already
            self.stdout.write(f"Full synchronisation #{run.pk}: {run.get_status_display()}")
        deadline = time.monotonic() + wait
        status = full_sync_status()
        while wait and not status["finished"] and time.monotonic() < deadline:
            progress = status["progress"]
            self.stdout.write(f"  {progress['done']}/{progress['total']} lines finished, {progress['running']} running")
            time.sleep(2)
            status = full_sync_status()
        self._show()
        if status["stalled"]:
            self.stdout.write(self.style.WARNING(f"{status['stalled']['message']} (full_sync --restart)"))
        if wait and not status["finished"]:
            raise CommandError(f"Still running after {wait} s; the workers carry on (see the review page).")
        if status["run"] and status["run"]["status"] == "failed":
            raise CommandError(status["run"]["message"])

    def _show(self):
        self.stdout.write(f"{'NAME':20} {'RECOMMENDATION':30} {'STATE':11} {'TO (ERP→SALES)':15} {'FROM':11} MESSAGE")
        for line in full_sync_review_lines():
            self.stdout.write(
                f"{line.name:20} {line.recommendation_label:30} {line.state_label.strip() or '-':11} "
                f"{line.to_job_status_label.strip() or '-':15} {line.from_job_status_label.strip() or '-':11} "
                f"{line.message[:80]}"
            )
