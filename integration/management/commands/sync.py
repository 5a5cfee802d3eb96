import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from integration.engine.locks import MappingBusy
from integration.engine.sync import mapping_synchronize
from integration.models import IntegrationTableMapping, SyncJob
from integration.ordering import mappings_in_dependency_order

DIRECTIONS = {"to": "to_integration", "from": "from_integration", "both": None}


class Command(BaseCommand):
    help = "Synchronise one or more integration table mappings (or --all, in dependency order)."

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", metavar="MAPPING")
        parser.add_argument("--all", action="store_true", help="Every enabled mapping, in dependency order.")
        parser.add_argument("--direction", choices=DIRECTIONS, default="both",
                            help="to: ERP → Sales, from: Sales → ERP, both: every direction the mapping has.")
        parser.add_argument("--full", action="store_true", help="Read every row, not only those changed since last run.")
        parser.add_argument("--dry-run", action="store_true", help="Write nothing; report what would change.")
        parser.add_argument("--wait", type=int, default=0, help="Seconds to wait for a mapping another run holds.")

    def handle(self, *args, names, all, direction, full, dry_run, wait, **options):
        if all == bool(names):
            raise CommandError("Name one or more mappings, or use --all.")
        if all:
            mappings = mappings_in_dependency_order(IntegrationTableMapping.objects.filter(is_enabled=True, parent=None))
        else:
            found = {m.name: m for m in IntegrationTableMapping.objects.filter(name__in=names)}
            missing = [n for n in names if n not in found]
            if missing:
                raise CommandError(f"No such mapping: {', '.join(missing)}. See `manage.py sync_status`.")
            mappings = [found[n] for n in names]
        failed_as_a_whole = False
        for mapping in mappings:
            one_way = DIRECTIONS[direction]
            if one_way and mapping.direction not in ("bidirectional", one_way):
                self.stdout.write(f"{mapping.name}: skipped, it does not synchronise in that direction.")
                continue
            try:
                jobs = mapping_synchronize(mapping=mapping, direction=one_way, full=full, dry_run=dry_run,
                                           progress=self._progress(mapping), wait_seconds=wait)
            except (MappingBusy, ValidationError) as exc:
                self.stderr.write(f"{mapping.name}: {' '.join(getattr(exc, 'messages', [str(exc)]))}")
                failed_as_a_whole = True
                continue
            for job in jobs:
                self._report(job)
                failed_as_a_whole |= job.status == SyncJob.Status.FAILED
        if failed_as_a_whole:
            raise SystemExit(1)

    def _progress(self, mapping):
        if not sys.stdout.isatty():
            return None
        from tqdm import tqdm

        bars = {}

        def progress(*, job, done, total):
            bar = bars.get(job.pk)
            if bar is None:
                bar = bars[job.pk] = tqdm(total=total, desc=f"{mapping.name} {job.get_direction_display()}",
                                          unit="rows", leave=False)
            bar.update(done)

        return progress

    def _report(self, job):
        style = self.style.SUCCESS if job.status == SyncJob.Status.SUCCESS else self.style.ERROR
        self.stdout.write(style(f"{job.mapping_name} [{job.get_direction_display()}] {job.get_status_display()}: "
                                f"{job.message}"))
        for error in job.errors.all()[:20]:
            self.stdout.write(f"  ! {error.message}")
        if job.dry_run:
            for entry in job.report[:200]:
                self.stdout.write(f"  {entry['action']:7} {entry['source']}")
                for name, (old, new) in entry.get("changes", {}).items():
                    self.stdout.write(f"          {name}: {old!r} → {new!r}")
                if entry.get("message"):
                    self.stdout.write(f"          {entry['message']}")
