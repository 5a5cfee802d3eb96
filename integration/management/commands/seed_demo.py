"""``seed_demo``: load the demo data once (a thin door onto ``integration.demo.demo_seed``)."""


from django.core.management.base import BaseCommand
from django.utils.translation import gettext

from integration.demo import DEFAULT_SCALE, DEFAULT_SEED, demo_seed
from p2c.management.arguments import int_between

MAX_SCALE = 10_000_000


class Command(BaseCommand):
    help = gettext(
        "Create realistic, deterministic demo data on the Sales and ERP sides: --scale accounts (about as many "
        "customers) and everything around them. Does nothing when the demo data is already there."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=int_between(1, MAX_SCALE),
            default=DEFAULT_SCALE,
            help=gettext("number of Sales accounts (default %(default_scale)s); other tables follow")
            % {"default_scale": DEFAULT_SCALE},
        )
        parser.add_argument(
            "--seed",
            type=int_between(0, 2**32 - 1),
            default=DEFAULT_SEED,
            help=gettext("random seed (default %(default_seed)s)") % {"default_seed": DEFAULT_SEED},
        )
        parser.add_argument("--reset", action="store_true",
                            help=gettext("delete all Sales and ERP records first, then seed again"))

    def handle(self, *args, scale, seed, reset, verbosity, **options):
        progress = self.stdout.write if verbosity >= 2 else None
        result = demo_seed(scale=scale, seed=seed, reset=reset, progress=progress)
        if not result.created:
            self.stdout.write(result.message)
            return
        if verbosity >= 1:
            for label, count in result.counts.items():
                self.stdout.write(f"  {label:<32} {count:>9,}")
        self.stdout.write(self.style.SUCCESS(result.message))
