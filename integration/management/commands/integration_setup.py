from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from integration.configuration.history import configuration_recorded
from integration.defaults import default_mapping_names, integration_setup_reset
from integration.models import ConfigurationChange, IntegrationTableMapping
from p2c.management.arguments import text


class Command(BaseCommand):
    help = gettext(
        "Create the default integration table and field mappings. Existing default mappings are left as "
        "they are unless --reset restores them; couplings are never touched."
    )

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", type=text, metavar="MAPPING", help=gettext("Only these mappings (default: all)."))
        parser.add_argument(
            "--reset", action="store_true", help=gettext("Restore the defaults of existing mappings too.")
        )

    def handle(self, *args, names, reset, **options):
        unknown = set(names) - set(default_mapping_names())
        if unknown:
            self.stderr.write(gettext("Not a default mapping: %(sorted)s.") % {"sorted": ', '.join(sorted(unknown))})
            raise SystemExit(2)
        wanted = names or default_mapping_names()
        if not reset:
            existing = set(IntegrationTableMapping.objects.filter(name__in=wanted).values_list("name", flat=True))
            wanted = [name for name in wanted if name not in existing]
        if not wanted:
            self.stdout.write(gettext("The default mappings exist already; use --reset to restore them."))
            return
        try:
            with configuration_recorded(door=ConfigurationChange.Door.COMMAND):
                mappings = integration_setup_reset(names=wanted)
        except ValidationError as exc:  # the mapping rules the admin and the API apply too; nothing was saved
            raise CommandError(
                gettext("Nothing was changed: %(messages)s") % {"messages": "; ".join(exc.messages)}
            ) from exc
        fields = sum(m.field_mappings.count() for m in mappings)
        self.stdout.write(
            self.style.SUCCESS(
                gettext("%(count)s table mappings with %(fields)s field mappings %(value)s.")
                % {"count": len(mappings), "fields": fields, "value": "restored" if reset else "created"}
            )
        )
