from django.core.management.base import BaseCommand
from django.utils.translation import gettext

from integration.configuration import FORMATS, configuration_export
from integration.management.output import text_write
from p2c.doors import refused_command_error
from p2c.management.arguments import path, path_shown, text
from p2c.outcomes import OperationRefused


class Command(BaseCommand):
    help = gettext("Write the integration's configuration (connection setup, value maps, table and field mappings with "
            "their schedules, F&O templates and projects) as JSON or YAML, in a stable order with names instead of "
            "database ids: two exports of one configuration are the same bytes. Couplings, jobs and logs are not "
            "part of it. Read it back with integration_import.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--mapping",
            action="append",
            dest="mappings",
            type=text,
            metavar="NAME",
            default=[],
            help=(
                gettext(
                    "Only this table mapping (repeat for more) and the value maps it uses: a partial "
                    "file, whose import adds and changes but never removes."
                )
            ),
        )
        parser.add_argument("--format", choices=FORMATS, default="json", help=gettext("json (default) or yaml."))
        parser.add_argument("-o", "--output", type=path, metavar="FILE", help=gettext("Write to FILE instead of standard output."))

    def handle(self, *args, mappings, format, output, **options):
        try:
            text = configuration_export(mappings=mappings, fmt=format)
        except OperationRefused as exc:
            raise refused_command_error(exc) from exc
        if text_write(self, text, output):
            self.stderr.write(gettext("Configuration written to %(output)s.") % {"output": path_shown(output)})
