"""``manage.py conflicts_resolve``: resolve conflicts of the inbox (integration.operations.conflicts_resolve).

    manage.py conflicts_resolve --take erp 12 13          # take the ERP side
    manage.py conflicts_resolve --take crm --mapping CUSTOMER   # every update conflict of a mapping
    manage.py conflicts_resolve --field phone_no=crm --field email=erp 12
    manage.py conflicts_resolve --restore 14 / --remove-coupling 14
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from integration.models import IntegrationTableMapping, SyncConflict
from integration.operations.conflicts import FIELDS, REMOVE, RESTORE, conflicts_resolve
from p2c.doors import outcome_finish, refused_command_error
from p2c.management.arguments import record_id, text
from p2c.outcomes import OperationRefused


def field_choice(value):
    name, sep, side = text(value).partition("=")
    if not sep or not name or not side:
        raise ValueError(value)
    return name, side


field_choice.__name__ = "FIELD=erp|crm choice"


class Command(BaseCommand):
    help = gettext("Resolve conflicts of the inbox, by id or every conflict of a --mapping: --take erp|crm, --field "
            "FIELD=erp|crm (field by field), --restore or --remove-coupling (deletion conflicts). Writes through "
            "the engine; the jobs say who decided (--by, default the command). Exits 1 when a conflict failed or "
            "was refused.")

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=record_id, metavar="ID")
        parser.add_argument("--mapping", type=text, help=gettext("Every conflict of this mapping (with the ids, if any given)."))
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument(
            "--take", choices=("erp", "crm", "sales"), help=gettext("Take this side for the fields in conflict.")
        )
        what.add_argument("--field", type=field_choice, action="append", dest="field_choices",
                          metavar="FIELD=SIDE", help=gettext("Field by field: the side for one ERP field (repeat)."))
        what.add_argument("--restore", action="store_true", help=gettext("Recreate the deleted record."))
        what.add_argument("--remove-coupling", action="store_true", help=gettext("Remove the coupling of the pair."))
        parser.add_argument("--by", type=text, default="manage.py conflicts_resolve", help=gettext("Who decided (logged)."))

    def handle(self, *args, **options):
        ids, resolution = list(options["ids"]), self._resolution(options)
        if options["mapping"]:
            mapping = IntegrationTableMapping.objects.filter(name=options["mapping"]).first()
            if mapping is None:
                names = ", ".join(IntegrationTableMapping.objects.values_list("name", flat=True))
                raise CommandError(
                    gettext("No mapping named %(mapping)s; the mappings are: %(names)s.")
                    % {"mapping": repr(options["mapping"]), "names": names}
                )
            kind = SyncConflict.Kind.DELETION if resolution in (RESTORE, REMOVE) else SyncConflict.Kind.UPDATE
            ids += list(SyncConflict.objects.filter(table_mapping=mapping, kind=kind)
                        .values_list("pk", flat=True))
        if not ids:
            raise CommandError(
                gettext("No conflicts to resolve: give conflict ids or --mapping (with conflicts waiting).")
            )
        try:
            outcome = conflicts_resolve(ids=ids, resolution=resolution,
                                        fields=dict(options["field_choices"] or ()) or None, decided_by=options["by"])
        except OperationRefused as exc:
            raise refused_command_error(exc) from exc
        outcome_finish(self, outcome)

    @staticmethod
    def _resolution(options):
        if options["restore"]:
            return RESTORE
        if options["remove_coupling"]:
            return REMOVE
        if options["field_choices"]:
            return FIELDS
        return options["take"]
