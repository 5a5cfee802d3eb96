from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from integration.configuration.history import configuration_recorded
from integration.models import ConfigurationChange
from integration.operations.connection import connection_enable, integration_user_find, sales_connection_test
from p2c.management.arguments import text
from p2c.outcomes import OperationRefused


class Command(BaseCommand):
    help = _("Enable or disable the connection between Sales and the ERP (what the assisted set-up's Connection step does), "
             "or test the connection to a Sales reached over the Dataverse Web API (SALES_API_URL). Exits 1 when "
             "refused.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["enable", "disable", "test"])
        parser.add_argument("--integration-user", type=text, metavar="USER",
                            help=_("The Sales user the integration writes as (id, full name or e-mail); default: the "
                                   "one set, or the only Sales user marked as integration user."))

    def handle(self, *args, action, integration_user, **options):
        if action == "test":
            try:
                self.stdout.write(self.style.SUCCESS(sales_connection_test()))
            except OperationRefused as exc:
                raise CommandError(exc.message) from exc
            return
        try:
            user = integration_user_find(integration_user) if integration_user else None
            with configuration_recorded(door=ConfigurationChange.Door.COMMAND):
                message = connection_enable(enabled=action == "enable", integration_user=user)
        except OperationRefused as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(message))
