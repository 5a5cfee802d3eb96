"""The one shape of the commands that run an operation on records given by table and ids (``uncouple``,
``create_in_other_side``): the arguments, the table looked up with a clear error, the outcome told as every
command tells it (p2c.doors)."""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from p2c.doors import outcome_finish, refused_command_error
from p2c.management.arguments import text
from p2c.outcomes import OperationRefused


class RecordsCommand(BaseCommand):
    """Subclasses set ``help`` and ``operation(model=..., ids=...)`` (a staticmethod returning an Outcome)."""

    operation = None

    def add_arguments(self, parser):
        parser.add_argument(
            "model", type=text, metavar="APP.MODEL", help=gettext("The records' table, e.g. erp.Customer or crm.Account.")
        )
        parser.add_argument("ids", nargs="+", type=text, metavar="ID")

    def handle(self, *args, model, ids, **options):
        try:
            model_class = apps.get_model(model)
        except (LookupError, ValueError) as exc:
            raise CommandError(
                gettext("No such table: %(model)s (give app_label.Model, e.g. erp.Customer).") % {"model": model}
            ) from exc
        try:
            outcome = self.operation(model=model_class, ids=ids)
        except OperationRefused as exc:
            raise refused_command_error(exc) from exc
        outcome_finish(self, outcome)
