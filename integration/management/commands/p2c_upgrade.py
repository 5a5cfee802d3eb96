import sys
import time

from django.core.management.base import BaseCommand
from tqdm import tqdm

from integration.fo.upgrade import BATCH_SIZE, p2c_upgrade, upgrade_totals
from p2c.management.arguments import int_between


class Command(BaseCommand):
    help = ("Prospect-to-cash upgrade step: fill missing account and contact numbers from their sequences and set "
            "Is Active Customer for contacts with quotes, orders or invoices. Idempotent; safe to run again.")

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int_between(1, 100_000), default=BATCH_SIZE,
                            help=f"rows per transaction (default {BATCH_SIZE:,})")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar even on a terminal.")

    def handle(self, *args, batch_size, no_progress, **options):
        progress, bars = None, {}
        if sys.stdout.isatty() and not no_progress:
            totals = upgrade_totals()

            def progress(*, step, done):
                bar = bars.get(step)
                if bar is None:
                    bar = bars[step] = tqdm(total=totals.get(step), desc=step, unit="rows", file=sys.stdout)
                bar.update(done)

        started = time.monotonic()
        result = p2c_upgrade(batch_size=batch_size, progress=progress)
        for bar in bars.values():
            bar.close()
        self.stdout.write(self.style.SUCCESS(
            f"{result['accounts_numbered']} account(s) and {result['contacts_numbered']} contact(s) numbered; "
            f"{result['active_customers']} active customer(s) ({result['active_customers_changed']:+d}); "
            f"{time.monotonic() - started:.1f} s."
        ))
