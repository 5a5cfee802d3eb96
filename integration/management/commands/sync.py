"""``manage.py sync``: synchronise mappings (integration.operations.synchronize_mappings) or, with ``--model`` and
``--ids``, selected records now (integration.operations.synchronize_now)."""

import sys

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext
from tqdm import tqdm

from integration.full_sync.partitions_progress import partitions_progress, partitions_progress_text
from integration.models import IntegrationTableMapping
from integration.operations import synchronize_mappings, synchronize_now
from p2c.doors import outcome_finish, refused_command_error
from p2c.management.arguments import int_between, text
from p2c.outcomes import OperationRefused
from p2c.said import said_text

DIRECTIONS = ("send", "get", "merge", "to", "from", "both")
# Bounds that a wait and a run can hold (a day; more workers than any deployment has).
MAX_WAIT, MAX_WORKERS = 86_400, 1000


class Command(BaseCommand):
    help = gettext("Synchronise one or more integration table mappings (or --all, in dependency order), running here; or, "
            "with --model and --ids, synchronise those records now (queued on the workers). Exits 1 when the "
            "request is refused (connection or mapping disabled, a direction the mapping lacks) or when a record "
            "failed or was refused; 0 otherwise (skipped records are no failure).")

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", type=text, metavar="MAPPING")
        parser.add_argument("--all", action="store_true", help=gettext("Every enabled mapping, in dependency order."))
        parser.add_argument(
            "--direction",
            choices=DIRECTIONS,
            default=None,
            help=(
                gettext(
                    "send or to: ERP → Sales; get or from: Sales → ERP; merge or both: every direction "
                    "the mapping has (the default for mappings; for one record of a bidirectional "
                    "mapping the default follows the side that changed, several need send or get)."
                )
            ),
        )
        parser.add_argument(
            "--full", action="store_true", help=gettext("Read every row, not only those changed since last run.")
        )
        parser.add_argument("--dry-run", action="store_true", help=gettext("Write nothing; report what would change."))
        parser.add_argument("--wait", type=int_between(0, MAX_WAIT), default=0, metavar="SECONDS",
                            help=gettext("Seconds to wait for a mapping another run holds."))
        parser.add_argument(
            "--workers",
            type=int_between(1, MAX_WORKERS),
            default=None,
            metavar="N",
            help=(
                gettext(
                    "Split a large run of a mapping into key-range partitions run by N workers: this "
                    "process and N-1 Celery workers (default: the deployment's P2C_SYNC_WORKERS; 1: one "
                    "process, no partitions)."
                )
            ),
        )
        parser.add_argument(
            "--model", type=text, metavar="APP.MODEL", help=gettext("With --ids: the records' table, e.g. erp.Customer.")
        )
        parser.add_argument(
            "--ids", nargs="+", type=text, metavar="ID", help=gettext("With --model: the records to synchronise now.")
        )

    def handle(self, *args, names, all, direction, full, dry_run, wait, model, ids, workers=None, **options):
        if model or ids:
            if not (model and ids):
                raise CommandError(gettext("--model and --ids go together: name the table and its records."))
            if names or all or full or dry_run or workers:
                raise CommandError(
                    gettext(
                        "--model/--ids synchronise records now; mapping names, --all, --full, "
                        "--dry-run and --workers are for mappings."
                    )
                )
            return self._records(model, ids, direction)
        if all and names:
            raise CommandError(gettext("Mapping names and --all exclude each other: give either."))
        if not (all or names):
            raise CommandError(gettext("Name one or more mappings, or use --all (or --model with --ids for records)."))
        mappings = None
        if names:
            found = {m.name: m for m in IntegrationTableMapping.objects.filter(name__in=names)}
            missing = [n for n in names if n not in found]
            if missing:
                raise CommandError(
                    gettext("No such mapping: %(missing)s. See `manage.py sync_status`.")
                    % {"missing": ", ".join(missing)}
                )
            mappings = [found[n] for n in names]
        try:
            outcome = synchronize_mappings(mappings=mappings, direction=direction, full=full, dry_run=dry_run,
                                           background=False, wait_seconds=wait, progress=self._progress(),
                                           workers=workers)
        except OperationRefused as exc:
            raise refused_command_error(exc) from exc
        for job in outcome.jobs:
            self._report(job)
        outcome_finish(self, outcome)

    def _records(self, label, ids, direction):
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError) as exc:
            raise CommandError(
                gettext("No such table: %(label)s (give app_label.Model, e.g. erp.Customer).") % {"label": label}
            ) from exc
        try:
            outcome = synchronize_now(model=model, ids=ids, direction=direction)
        except OperationRefused as exc:
            raise refused_command_error(exc) from exc
        outcome_finish(self, outcome)

    def _progress(self):
        if not sys.stdout.isatty():
            return None
        bars = {}

        def progress(*, job, done, total):
            bar = bars.get(job.pk)
            if bar is None:
                bar = bars[job.pk] = tqdm(total=total, desc=f"{job.mapping_name} {job.get_direction_display()}",
                                          unit="rows", leave=False)
            bar.update(done)

        return progress

    def _report(self, job):
        style = self.style.SUCCESS if job.status == job.Status.SUCCESS else self.style.ERROR
        self.stdout.write(style(f"{job.mapping_name} [{job.get_direction_display()}] {job.get_status_display()}: "
                                f"{job.message_text}"))
        if progress := partitions_progress(job):
            self.stdout.write(f"  {partitions_progress_text(progress)}")
        for error in job.errors.all()[:20]:
            self.stdout.write(f"  ! {error.message_text}")
        if job.dry_run:
            for entry in job.report[:200]:
                self.stdout.write(f"  {entry['action']:7} {entry['source']}")
                for name, (old, new) in entry.get("changes", {}).items():
                    self.stdout.write(f"          {name}: {old!r} → {new!r}")
                if entry.get("message"):
                    self.stdout.write(f"          {said_text(entry.get('message_data'), entry['message'])}")
