"""``create_sales_orders [--all-submitted] [ORDER_NUMBER ...]``: create ERP orders from Sales orders (docs/features.md
I9), a thin door onto integration.sales_orders.sales_orders_create."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from crm.models import SalesOrder
from integration.sales_orders.creation import sales_orders_create, sales_orders_pending
from p2c.doors import outcome_finish
from p2c.management.arguments import text
from p2c.outcomes import OperationRefused


class Command(BaseCommand):
    help = gettext("Create ERP sales orders from submitted Sales orders, named by order number or, with --all-submitted, "
            "every submitted Sales order not yet sent to the ERP. Orders already created are left as they are. "
            "Exits 1 when an order could not be created, or when the connection is not enabled.")

    def add_arguments(self, parser):
        parser.add_argument(
            "numbers", nargs="*", type=text, metavar="ORDER_NUMBER", help=gettext("Sales order numbers (ORD-...).")
        )
        parser.add_argument("--all-submitted", action="store_true",
                            help=gettext("Every submitted Sales order not yet sent to the ERP."))

    def handle(self, *args, numbers, all_submitted, **options):
        if not numbers and not all_submitted:
            raise CommandError(gettext("Name Sales order numbers, or use --all-submitted."))
        ids = []
        if numbers:
            found = dict(SalesOrder.objects.filter(number__in=numbers).values_list("number", "pk"))
            unknown = [n for n in numbers if n not in found]
            if unknown:
                raise CommandError(gettext("No Sales order numbered %(unknown)s.") % {"unknown": ', '.join(unknown)})
            ids += [found[n] for n in numbers]
        if all_submitted:
            ids += list(sales_orders_pending().order_by("number").values_list("pk", flat=True))
        if not ids:
            self.stdout.write(gettext("No submitted Sales orders waiting to be sent to the ERP."))
            return
        try:
            outcome = sales_orders_create(sales_orders=ids)
        except OperationRefused as exc:
            raise CommandError(exc.message) from None
        for result in outcome.jobs[0].outcomes:
            if result.created:
                self.stdout.write(
                    gettext("%(number)s: ERP order %(header_no)s created")
                    % {"number": result.sales_order.number, "header_no": result.header.no}
                )
        outcome_finish(self, outcome)
