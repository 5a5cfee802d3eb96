"""``manage.py couple``: match-based coupling (integration.operations.couple_by_match), after saving the match
criteria given with --match-on (integration.operations.match_criteria_save)."""

from django.core.management.base import BaseCommand, CommandError

from integration.models import IntegrationTableMapping
from integration.operations import couple_by_match, match_criteria_save
from p2c.doors import outcome_finish, refused_command_error
from p2c.outcomes import OperationRefused


class Command(BaseCommand):
    help = ("Match-based coupling: couple a mapping's uncoupled records whose match fields are equal. Exits 1 when "
            "refused (connection or mapping disabled, no match field, a side the mapping cannot start from) or when "
            "a record failed (no unique match, or its synchronisation after coupling failed).")

    def add_arguments(self, parser):
        parser.add_argument("name", metavar="MAPPING")
        parser.add_argument("--match-on", default=None, help="Comma-separated fields (ERP or Sales names), highest "
                            "priority first: saved on the mapping as its match criteria, with --case-sensitive, "
                            "--create-new and --sync (default: the criteria saved already).")
        parser.add_argument("--case-sensitive", action="store_true")
        parser.add_argument("--create-new", action="store_true", default=None,
                            help="Create the records that find no match (default: the mapping's setting).")
        parser.add_argument("--sync", action="store_true", default=None,
                            help="Synchronise the records after coupling them (default: the mapping's setting).")
        parser.add_argument("--from", dest="from_side", choices=["erp", "sales"], default=None,
                            help="Which side's uncoupled records look for a match (default: the ERP records, the "
                            "Sales records for a Sales → ERP mapping; either for a bidirectional one).")
        parser.add_argument("--ids", nargs="+", metavar="ID", help="Only these records of that side.")

    def handle(self, *args, name, match_on, case_sensitive, create_new, sync, from_side, ids, **options):
        mapping = IntegrationTableMapping.objects.filter(name=name).first()
        if mapping is None:
            raise CommandError(f"No such mapping: {name}.")
        try:
            if match_on is not None:
                fields = [f.strip() for f in match_on.split(",") if f.strip()]
                match_criteria_save(mapping=mapping, criteria=[(f, i + 1, case_sensitive) for i, f in enumerate(fields)],
                                    sync_after=sync, create_new=create_new)
            outcome = couple_by_match(mapping=mapping, from_side=from_side, ids=ids, create_new=create_new,
                                      sync_after=sync, background=False)
        except OperationRefused as exc:
            raise refused_command_error(exc) from exc
        outcome_finish(self, outcome)
