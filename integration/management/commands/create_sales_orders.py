"""``create_sales_orders [--all-submitted] [ORDER_NUMBER ...]``: create ERP orders from Sales orders (SPEC I9)."""

from django.core.management.base import BaseCommand, CommandError

from crm.models import SalesOrder
from integration.sales_orders import sales_orders_create_in_erp, sales_orders_pending


class Command(BaseCommand):
    help = ("Create ERP sales orders from submitted Sales orders, named by order number or, with --all-submitted, "
            "every submitted Sales order not yet sent to the ERP. Orders already created are left as they are.")

    def add_arguments(self, parser):
        parser.add_argument("numbers", nargs="*", metavar="ORDER_NUMBER", help="Sales order numbers (ORD-...).")
        parser.add_argument("--all-submitted", action="store_true",
                            help="Every submitted Sales order not yet sent to the ERP.")

    def handle(self, *args, numbers, all_submitted, **options):
        if not numbers and not all_submitted:
            raise CommandError("Name Sales order numbers, or use --all-submitted.")
        ids = []
        if numbers:
            found = dict(SalesOrder.objects.filter(number__in=numbers).values_list("number", "pk"))
            unknown = [n for n in numbers if n not in found]
            if unknown:
                raise CommandError(f"No Sales order numbered {', '.join(unknown)}.")
            ids += [found[n] for n in numbers]
        if all_submitted:
            ids += list(sales_orders_pending().order_by("number").values_list("pk", flat=True))
        if not ids:
            self.stdout.write("No submitted Sales orders waiting to be sent to the ERP.")
            return
        job = sales_orders_create_in_erp(sales_orders=ids)
        for outcome in job.outcomes:
            order = outcome.sales_order
            name = order.number if order is not None else "?"
            if outcome.error:
                self.stdout.write(self.style.ERROR(f"{name}: {outcome.error}"))
            elif outcome.created:
                self.stdout.write(f"{name}: ERP order {outcome.header.no} created")
            else:
                self.stdout.write(f"{name}: already in the ERP as order {outcome.header.no}")
        style = self.style.ERROR if job.failed else self.style.SUCCESS
        self.stdout.write(style(f"{job.message} (job {job.pk})."))
        if job.failed:
            raise CommandError(f"{job.failed} Sales order(s) could not be created in the ERP.", returncode=1)
