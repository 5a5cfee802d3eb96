import sys
import time

from django.core.management.base import BaseCommand
from django.utils.translation import gettext
from tqdm import tqdm

from integration.fo.upgrade import BATCH_SIZE, p2c_upgrade, upgrade_totals
from p2c.management.arguments import int_between


class Command(BaseCommand):
    help = gettext("Prospect-to-cash upgrade step: fill missing account and contact numbers from their sequences and set "
            "Is Active Customer for contacts with quotes, orders or invoices. Idempotent; safe to run again.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int_between(1, 100_000),
            default=BATCH_SIZE,
            help=gettext("rows per transaction (default %(batch_size)s)") % {"batch_size": format(BATCH_SIZE, ",")},
        )
        parser.add_argument("--no-progress", action="store_true", help=gettext("No progress bar even on a terminal."))

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
        self.stdout.write(
            self.style.SUCCESS(
                gettext(
                    "%(accounts_numbered)s account(s) and %(contacts_numbered)s contact(s) numbered; "
                    "%(active_customers)s active customer(s) (%(active_customers_changed)s); %(value)s s."
                )
                % {
                    "accounts_numbered": result["accounts_numbered"],
                    "contacts_numbered": result["contacts_numbered"],
                    "active_customers": result["active_customers"],
                    "active_customers_changed": format(result["active_customers_changed"], "+d"),
                    "value": format(time.monotonic() - started, ".1f"),
                }
            )
        )
