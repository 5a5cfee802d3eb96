"""``manage.py couple``: match-based coupling (integration.operations.couple_by_match), after saving the match
criteria given with --match-on (integration.operations.match_criteria_save); with --pair, one ERP record coupled
to one Sales record by hand (integration.operations.coupling_set_up)."""

from contextlib import nullcontext

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from integration.configuration.history import configuration_recorded
from integration.models import ConfigurationChange, IntegrationTableMapping
from integration.operations import couple_by_match, coupling_set_up
from p2c.doors import outcome_finish, refused_command_error
from p2c.management.arguments import text
from p2c.outcomes import OperationRefused


class Command(BaseCommand):
    help = gettext("Match-based coupling: couple a mapping's uncoupled records whose match fields are equal (or, with "
            "--pair, one ERP record to one Sales record). Exits 1 when refused (connection or mapping disabled, no "
            "match field, a side the mapping cannot start from, a record coupled to another one) or when a record "
            "failed (no unique match, or its synchronisation after coupling failed).")

    def add_arguments(self, parser):
        parser.add_argument("name", type=text, metavar="MAPPING")
        parser.add_argument(
            "--match-on",
            type=text,
            default=None,
            help=(
                gettext(
                    "Comma-separated fields (ERP or Sales names), highest "
                    "priority first: saved on the mapping as its match criteria, with --case-sensitive, "
                    "--create-new and --sync (default: the criteria saved already)."
                )
            ),
        )
        parser.add_argument("--case-sensitive", action="store_true")
        parser.add_argument("--create-new", action="store_true", default=None,
                            help=gettext("Create the records that find no match (default: the mapping's setting)."))
        parser.add_argument(
            "--sync",
            action="store_true",
            default=None,
            help=gettext("Synchronise the records after coupling them (default: the mapping's setting)."),
        )
        parser.add_argument(
            "--from",
            dest="from_side",
            choices=["erp", "sales"],
            default=None,
            help=(
                gettext(
                    "Which side's uncoupled records look for a match (default: the ERP records, the "
                    "Sales records for a Sales → ERP mapping; either for a bidirectional one)."
                )
            ),
        )
        parser.add_argument("--ids", nargs="+", type=text, metavar="ID", help=gettext("Only these records of that side."))
        parser.add_argument("--pair", nargs=2, type=text, metavar=("ERP_ID", "SALES_ID"),
                            help=gettext("Couple this ERP record to this Sales record (set up coupling by hand)."))
        parser.add_argument(
            "--then",
            choices=["send", "get"],
            default=None,
            help=(
                gettext(
                    "With --pair: synchronise the pair after coupling it, with the ERP data (send) or "
                    "the Sales data (get)."
                )
            ),
        )

    def handle(self, *args, name, match_on, case_sensitive, create_new, sync, from_side, ids, pair, then, **options):
        mapping = IntegrationTableMapping.objects.filter(name=name).first()
        if mapping is None:
            raise CommandError(gettext("No such mapping: %(name)s.") % {"name": name})
        if pair:
            if match_on is not None or ids or from_side or create_new or sync:
                raise CommandError(
                    gettext(
                        "--pair couples two records by hand: --match-on, --ids, --from, --create-new and "
                        "--sync are for match-based coupling."
                    )
                )
            return self._pair(mapping, *pair, then)
        if then:
            raise CommandError(gettext("--then goes with --pair."))
        try:
            criteria = None
            if match_on is not None:
                fields = [f.strip() for f in match_on.split(",") if f.strip()]
                criteria = [(f, i + 1, case_sensitive) for i, f in enumerate(fields)]
            # Criteria given are kept on the mapping: a change of the configuration, in its history.
            recorded = (configuration_recorded(door=ConfigurationChange.Door.COMMAND) if criteria is not None
                        else nullcontext())
            with recorded:
                outcome = couple_by_match(mapping=mapping, from_side=from_side, ids=ids, create_new=create_new,
                                          sync_after=sync, background=False, criteria=criteria)
        except OperationRefused as exc:
            raise refused_command_error(exc) from exc
        outcome_finish(self, outcome)

    def _pair(self, mapping, erp_id, crm_id, then):
        records = []
        for model, value, what in ((mapping.erp_model_class(), erp_id, "ERP_ID"),
                                   (mapping.crm_model_class(), crm_id, "SALES_ID")):
            try:
                record = model.objects.filter(pk=model._meta.pk.to_python(value)).first()
            except Exception:  # a malformed id (not a number, not a UUID)
                record = None
            if record is None:
                raise CommandError(
                    gettext("%(what)s: no %(verbose_name)s with id %(value)s.")
                    % {"what": what, "verbose_name": model._meta.verbose_name, "value": value}
                )
            records.append(record)
        try:
            outcome = coupling_set_up(record=records[0], counterpart=records[1], mapping=mapping, synchronize=then)
        except OperationRefused as exc:
            raise refused_command_error(exc) from exc
        outcome_finish(self, outcome)
