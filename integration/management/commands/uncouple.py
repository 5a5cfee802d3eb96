"""``manage.py uncouple``: delete the couplings of records given by id (integration.operations.couplings_delete)."""

from django.utils.translation import gettext

from integration.management.records_command import RecordsCommand
from integration.operations import couplings_delete


class Command(RecordsCommand):
    help = gettext("Delete the couplings of the given records (the records stay, on both sides); records not coupled are "
            "skipped. Exits 0 unless the request is refused.")
    operation = staticmethod(couplings_delete)
