from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from integration.coupling import mapping_couple_by_match
from integration.models import IntegrationTableMapping, SyncJob


class Command(BaseCommand):
    help = "Match-based coupling: couple a mapping's uncoupled records whose match fields are equal."

    def add_arguments(self, parser):
        parser.add_argument("name", metavar="MAPPING")
        parser.add_argument("--match-on", default="", help="Comma-separated ERP fields, highest priority first "
                            "(default: the field mappings marked for match-based coupling).")
        parser.add_argument("--case-sensitive", action="store_true")
        parser.add_argument("--create-new", action="store_true", help="Create the records that find no match.")
        parser.add_argument("--sync", action="store_true", help="Synchronise the records after coupling them.")
        parser.add_argument("--from", dest="from_side", choices=["erp", "sales"], default=None,
                            help="Which side's uncoupled records look for a match (default: the ERP records, the "
                            "Sales records for a Sales → ERP mapping; either for a bidirectional one).")

    def handle(self, *args, name, match_on, case_sensitive, create_new, sync, from_side, **options):
        mapping = IntegrationTableMapping.objects.filter(name=name).first()
        if mapping is None:
            raise CommandError(f"No such mapping: {name}.")
        if match_on:
            fields = [f.strip() for f in match_on.split(",") if f.strip()]
            field_mappings = mapping.field_mappings.all()
            known = {fm.erp_field for fm in field_mappings} | {fm.crm_field for fm in field_mappings}
            unknown = [f for f in fields if f not in known]
            if unknown:
                raise CommandError(f"{name} has no field mapping for {', '.join(unknown)}.")
            for fm in field_mappings:
                chosen = fm.erp_field in fields or fm.crm_field in fields
                fm.use_for_match_coupling = chosen
                fm.match_priority = (fields.index(fm.erp_field if fm.erp_field in fields else fm.crm_field) + 1
                                     if chosen else 0)
                fm.case_sensitive_matching = case_sensitive
                fm.save(update_fields=["use_for_match_coupling", "match_priority", "case_sensitive_matching"])
        try:
            job = mapping_couple_by_match(mapping=mapping, create_new=create_new, sync_after=sync,
                                          from_side={"sales": "crm"}.get(from_side, from_side))
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        style = self.style.SUCCESS if job.status == SyncJob.Status.SUCCESS else self.style.WARNING
        self.stdout.write(style(f"{name}: {job.message or job.get_status_display()}"))
        for follow_up in job.follow_up_jobs:
            self.stdout.write(f"  then {follow_up.get_direction_display()}: {follow_up.message}")
        if job.status == SyncJob.Status.FAILED:
            raise SystemExit(1)
