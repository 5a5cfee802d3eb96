"""``sales_api_application``: the application user another p2c signs in as to reach this Sales over the Dataverse
Web API (a thin door onto ``crm.users.application_user_ensure``); `make run-two` runs it on its Sales instance."""

import os

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from crm.users import application_user_ensure
from p2c.management.arguments import text
from p2c.outcomes import OperationRefused


class Command(BaseCommand):
    help = _("Create or update the application user another p2c's integration signs in as (OAuth 2.0 client "
             "credentials at /o/token/): a login with the rights on the Sales tables, its Sales user and its OAuth "
             "application. The secret comes from SALES_API_CLIENT_SECRET. Safe to run again.")

    def add_arguments(self, parser):
        parser.add_argument("--client-id", type=text, default="p2c-integration",
                            help=_("The application's client id (default: p2c-integration)."))
        parser.add_argument("--username", type=text, default="sales-integration",
                            help=_("The login behind it (default: sales-integration)."))
        parser.add_argument("--fullname", type=text, default="p2c integration",
                            help=_("The Sales user's name, which Test connection shows (default: p2c integration)."))

    def handle(self, *args, client_id, username, fullname, **options):
        secret = os.environ.get("SALES_API_CLIENT_SECRET", "")
        if len(secret) < 16:
            raise CommandError(_("Set SALES_API_CLIENT_SECRET to the application's secret, 16 characters or more "
                                 "(it is never read from the command line, where other users of the machine see it)."))
        try:
            self.stdout.write(self.style.SUCCESS(application_user_ensure(
                username=username, fullname=fullname, client_id=client_id, client_secret=secret)))
        except OperationRefused as exc:
            raise CommandError(exc.message) from exc
