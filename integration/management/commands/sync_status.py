from django.core.management.base import BaseCommand
from django.utils.translation import gettext

from integration.full_sync.partitions_progress import partitions_progress, partitions_progress_text
from integration.health.reads import record_counts
from integration.models import IntegrationTableMapping, SyncJob, SyncJobError
from integration.operations.conflict_inbox import conflicts_per_mapping


class Command(BaseCommand):
    help = gettext("Per mapping: couplings, skipped and failing records (couplings and records that could not be "
            "created), the pairs in conflict waiting in the inbox, the last job of each direction and its errors.")

    def handle(self, *args, **options):
        counts = record_counts()  # the health page's and the review's numbers
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
            directions = [counts[(mapping.pk, d)] for d in mapping.directions() if (mapping.pk, d) in counts]
            coupled = max((c.coupled for c in directions), default=0)
            skipped, failing = sum(c.skipped for c in directions), sum(c.failed for c in directions)
            jobs = []
            for direction in mapping.directions():
                job = SyncJob.objects.filter(table_mapping=mapping, direction=direction).first()
                if job:
                    errors = SyncJobError.objects.filter(job=job).count()
                    # A partitioned run (integration/full_sync/partitions.py): partitions done / total and rows
                    # per second.
                    partitions = partitions_progress_text(partitions_progress(job))
                    jobs.append(f"{direction.split('_')[0]}: {job.get_status_display()} {job.created_at:%Y-%m-%d %H:%M}"
                                f" ({job.message_text[:60]}{'; ' + str(errors) + ' errors' if errors else ''}"
                                f"{'; ' + partitions if partitions else ''})")
            self.stdout.write(
                f"{mapping.name:22} {mapping.direction.split('_')[0]:14} {coupled:>8} "
                f"{skipped:>8} {failing:>8} {conflicts.get(mapping.pk, 0):>9}  {' | '.join(jobs) or '-'}"
                + ("" if mapping.is_enabled else gettext("  (disabled)"))
            )
        self.stdout.write(
            gettext("Conflicts waiting in the inbox: %(sum)s") % {"sum": sum(conflicts.values())}
            + (gettext(" (Integration → Conflicts, or manage.py conflicts_resolve)") if conflicts else "")
        )
