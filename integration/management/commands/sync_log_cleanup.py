from django.core.management.base import BaseCommand
from django.utils.translation import gettext

from integration.background.sync_log import sync_log_cleanup
from p2c.doors import outcome_finish, refused_command_error
from p2c.limits import MAX_AGE_DAYS
from p2c.management.arguments import int_between
from p2c.outcomes import OperationRefused


class Command(BaseCommand):
    help = gettext("Delete synchronisation jobs (with their errors) and full synchronisation runs older than --older-than "
            "days (default: the connection setup's retention; 0 deletes every entry), keeping the failed jobs that "
            "skipped or failed records still point at. F&O project runs have their own: p2c_cleanup_runs.")

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int_between(0, MAX_AGE_DAYS), default=None, metavar="DAYS",
                            help=gettext("Age in days (0: all entries). Default: the connection setup's retention."))
        parser.add_argument(
            "--dry-run", action="store_true", help=gettext("Count what would be deleted; delete nothing.")
        )

    def handle(self, *args, older_than, dry_run, **options):
        try:
            outcome = sync_log_cleanup(older_than_days=older_than, dry_run=dry_run)
        except OperationRefused as exc:
            raise refused_command_error(exc) from exc
        outcome_finish(self, outcome)
