"""Migrate every database: ``default`` (the ERP side, the integration, auth) and ``sales`` when Sales has its own."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils.translation import gettext, gettext_lazy


class Command(BaseCommand):
    help = gettext("Apply the migrations to every configured database: default, then sales when SALES_DATABASE_URL "
                        "gives Sales a database of its own (the same as `migrate` followed by `migrate --database "
                        "sales`).")

    def add_arguments(self, parser):
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive",
                            help=gettext_lazy("Do not prompt the user for input of any kind."))
        parser.add_argument("--check", action="store_true", dest="check_unapplied",
                            help=gettext_lazy("Exit with a non-zero status if unapplied migrations exist; apply "
                                              "nothing."))

    def handle(self, *args, interactive=True, check_unapplied=False, verbosity=1, **options):
        for alias in settings.DATABASES:
            if verbosity:
                self.stdout.write(gettext("Database %(alias)s:") % {"alias": alias})
            call_command("migrate", database=alias, interactive=interactive, check_unapplied=check_unapplied,
                         verbosity=verbosity, stdout=self.stdout, stderr=self.stderr)
