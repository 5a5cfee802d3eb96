from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from integration.configuration.history import history_export
from integration.management.output import text_write
from integration.models import ConfigurationChange
from p2c.limits import MAX_AGE_DAYS
from p2c.management.arguments import int_between, path, path_shown, text


class Command(BaseCommand):
    help = _("Export the history of the integration's configuration (who changed what, when, through which door, key "
             "by key), newest first, as CSV or JSON.")

    def add_arguments(self, parser):
        parser.add_argument("--mapping", action="append", type=text, default=[], metavar="NAME",
                            help=_("Only the changes of this table mapping (repeat for more)."))
        parser.add_argument("--days", type=int_between(0, MAX_AGE_DAYS), metavar="N", help=_("Only the changes of the last N days."))
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("-o", "--output", type=path, metavar="FILE", help=_("Write to FILE instead of standard output."))

    def handle(self, *args, mapping, days, format, output, **options):
        changes = ConfigurationChange.objects.all()
        if mapping:
            changes = changes.filter(mapping_name__in=mapping)
        if days is not None:
            if days < 0:
                raise CommandError(_("--days is a number of days, 0 or more."))
            changes = changes.filter(at__gte=timezone.now() - timedelta(days=days))
        text = history_export(changes, fmt=format)
        if text_write(self, text, output):
            self.stdout.write(_("%(count)s changes written to %(file)s.") % {"count": changes.count(),
                                                                           "file": path_shown(output)})
