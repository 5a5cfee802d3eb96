"""``manage.py create_in_other_side``: *Create in Sales/ERP* for records given by id
(integration.operations.records_create_in_other_side)."""

from django.utils.translation import gettext

from integration.management.records_command import RecordsCommand
from integration.operations import records_create_in_other_side


class Command(RecordsCommand):
    help = gettext("Create a counterpart of each record not coupled yet on the other side, coupled to it (queued on the "
            "workers); records coupled already are skipped. Exits 1 when refused (connection disabled, no mapping "
            "going that way) or when a record was refused.")
    operation = staticmethod(records_create_in_other_side)
