"""``manage.py create_in_other_side``: *Create in Sales/ERP* for records given by id
(integration.operations.records_create_in_other_side)."""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from integration.operations import records_create_in_other_side
from p2c.doors import outcome_finish, refused_command_error
from p2c.outcomes import OperationRefused


class Command(BaseCommand):
    help = ("Create a counterpart of each record not coupled yet on the other side, coupled to it (queued on the "
            "workers); records coupled already are skipped. Exits 1 when refused (connection disabled, no mapping "
            "going that way) or when a record was refused.")

    def add_arguments(self, parser):
        parser.add_argument("model", metavar="APP.MODEL", help="The records' table, e.g. erp.Customer or crm.Account.")
        parser.add_argument("ids", nargs="+", metavar="ID")

    def handle(self, *args, model, ids, **options):
        try:
            model_class = apps.get_model(model)
        except (LookupError, ValueError) as exc:
            raise CommandError(f"No such table: {model} (give app_label.Model, e.g. erp.Customer).") from exc
        try:
            outcome = records_create_in_other_side(model=model_class, ids=ids)
        except OperationRefused as exc:
            raise refused_command_error(exc) from exc
        outcome_finish(self, outcome)
