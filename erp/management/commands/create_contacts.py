"""BC's reports "Create Conts. from Customers / Vendors / Bank Accs." (5195...): a thin door onto
erp.business_relations.records_create_contacts."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from erp import business_relations as br
from erp.models import BankAccount, Customer, Vendor
from p2c.doors import outcome_finish
from p2c.outcomes import OperationRefused

KINDS = {"customers": Customer, "vendors": Vendor, "bank_accounts": BankAccount}


class Command(BaseCommand):
    help = gettext("Create the company contact and business relation of every customer, vendor or bank account not linked "
            "yet (all three kinds unless some are named). Exits 1 when Marketing Setup lacks what it needs (the "
            "contact number series, a business relation code), naming the field.")

    def add_arguments(self, parser):
        parser.add_argument("--customers", action="store_true", help=gettext("customers only (combinable)"))
        parser.add_argument("--vendors", action="store_true", help=gettext("vendors only (combinable)"))
        parser.add_argument("--bank-accounts", action="store_true", dest="bank_accounts",
                            help=gettext("bank accounts only (combinable)"))

    def handle(self, *args, **options):
        chosen = [kind for kind in KINDS if options[kind]] or list(KINDS)
        for kind in chosen:
            try:
                outcome = br.records_create_contacts(model=KINDS[kind])
            except OperationRefused as exc:
                raise CommandError(exc.message) from None
            outcome_finish(self, outcome)
