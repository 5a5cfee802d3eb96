from django.core.management.base import BaseCommand
from django.db.models import Count, Q
from django.utils.translation import gettext

from integration.full_sync.partitions_progress import partitions_progress, partitions_progress_text
from integration.models import Coupling, FailedInsert, IntegrationTableMapping, SyncJob, SyncJobError
from integration.operations.conflict_inbox import conflicts_per_mapping


class Command(BaseCommand):
    help = gettext("Per mapping: couplings, skipped and failing records (couplings and records that could not be "
            "created), the pairs in conflict waiting in the inbox, the last job of each direction and its errors.")

    def handle(self, *args, **options):
        couplings = {
            (row["erp_model"], row["crm_model"]): row
            for row in Coupling.objects.values("erp_model", "crm_model").annotate(
                total=Count("pk"), skipped_count=Count("pk", filter=Q(skipped=True)),
                failed=Count("pk", filter=Q(last_erp_result="failure") | Q(last_crm_result="failure")),
            )
        }
        for row in FailedInsert.objects.values("erp_model", "crm_model").annotate(
            skipped_count=Count("pk", filter=Q(skipped=True)), failed=Count("pk"),
        ):
            counts = couplings.setdefault((row["erp_model"], row["crm_model"]), {})
            for name in ("skipped_count", "failed"):
                counts[name] = counts.get(name, 0) + row[name]
        self.stdout.write(
            gettext("%(value)s %(value2)s %(value3)s %(value4)s %(value5)s %(value6)s  LAST JOBS")
            % {
                "value": format("MAPPING", "22"),
                "value2": format("DIRECTION", "14"),
                "value3": format("COUPLED", ">8"),
                "value4": format("SKIPPED", ">8"),
                "value5": format("FAILING", ">8"),
                "value6": format("CONFLICTS", ">9"),
            }
        )
        conflicts = conflicts_per_mapping()
        for mapping in IntegrationTableMapping.objects.all():
            counts = couplings.get((mapping.erp_model, mapping.crm_model), {})
            jobs = []
            for direction in mapping.directions():
                job = SyncJob.objects.filter(table_mapping=mapping, direction=direction).first()
                if job:
                    errors = SyncJobError.objects.filter(job=job).count()
                    # A partitioned run (integration/full_sync/partitions.py): partitions done / total and rows
                    # per second.
                    partitions = partitions_progress_text(partitions_progress(job))
                    jobs.append(f"{direction.split('_')[0]}: {job.get_status_display()} {job.created_at:%Y-%m-%d %H:%M}"
                                f" ({job.message[:60]}{'; ' + str(errors) + ' errors' if errors else ''}"
                                f"{'; ' + partitions if partitions else ''})")
            self.stdout.write(
                f"{mapping.name:22} {mapping.direction.split('_')[0]:14} {counts.get('total', 0):>8} "
                f"{counts.get('skipped_count', 0):>8} {counts.get('failed', 0):>8} {conflicts.get(mapping.pk, 0):>9}  {' | '.join(jobs) or '-'}"
                + ("" if mapping.is_enabled else gettext("  (disabled)"))
            )
        self.stdout.write(
            gettext("Conflicts waiting in the inbox: %(sum)s") % {"sum": sum(conflicts.values())}
            + (gettext(" (Integration → Conflicts, or manage.py conflicts_resolve)") if conflicts else "")
        )
