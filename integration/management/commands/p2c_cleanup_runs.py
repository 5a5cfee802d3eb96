from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils.translation import gettext, ngettext

from integration.fo.projects import history_days, project_runs_cleanup
from p2c.limits import MAX_AGE_DAYS
from p2c.management.arguments import int_between


class Command(BaseCommand):
    help = gettext(
        "Delete data integration project execution history older than --days (default P2C_PROJECT_HISTORY_DAYS, 45)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int_between(0, MAX_AGE_DAYS), default=None,
                            help=gettext("days of history to keep (default P2C_PROJECT_HISTORY_DAYS, 45)"))

    def handle(self, *args, days, **options):
        days = history_days() if days is None else days
        count = project_runs_cleanup(older_than=timedelta(days=days))
        self.stdout.write(
            ngettext("%(count)s project run older than %(days)s days deleted.",
                     "%(count)s project runs older than %(days)s days deleted.", count) % {"count": count, "days": days}
        )
