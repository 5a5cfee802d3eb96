"""``manage.py uncouple``: delete the couplings of records given by id (integration.operations.couplings_delete)."""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from integration.operations import couplings_delete
from p2c.doors import outcome_finish, refused_command_error
from p2c.outcomes import OperationRefused


class Command(BaseCommand):
    help = ("Delete the couplings of the given records (the records stay, on both sides); records not coupled are "
            "skipped. Exits 0 unless the request is refused.")

    def add_arguments(self, parser):
        parser.add_argument("model", metavar="APP.MODEL", help="The records' table, e.g. erp.Customer or crm.Account.")
        parser.add_argument("ids", nargs="+", metavar="ID")

    def handle(self, *args, model, ids, **options):
        try:
            model_class = apps.get_model(model)
        except (LookupError, ValueError) as exc:
            raise CommandError(f"No such table: {model} (give app_label.Model, e.g. erp.Customer).") from exc
        try:
            outcome = couplings_delete(model=model_class, ids=ids)
        except OperationRefused as exc:
            raise refused_command_error(exc) from exc
        outcome_finish(self, outcome)
