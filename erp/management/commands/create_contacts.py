"""BC's reports "Create Conts. from Customers / Vendors / Bank Accs." (5195...): a thin door onto erp.business_relations."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from erp import business_relations as br
from erp.models import BankAccount, ContactBusinessRelation, Customer, Vendor

KINDS = {
    "customers": (Customer, "customer", "customers"),
    "vendors": (Vendor, "vendor", "vendors"),
    "bank_accounts": (BankAccount, "bank_account", "bank_accounts"),
}
CREATE = {
    "customers": lambda objs: br.customers_create_contacts(customers=objs),
    "vendors": lambda objs: br.vendors_create_contacts(vendors=objs),
    "bank_accounts": lambda objs: br.bank_accounts_create_contacts(bank_accounts=objs),
}


class Command(BaseCommand):
    help = "Create the company contact and business relation of every customer, vendor or bank account not linked yet."

    def add_arguments(self, parser):
        parser.add_argument("--customers", action="store_true")
        parser.add_argument("--vendors", action="store_true")
        parser.add_argument("--bank-accounts", action="store_true", dest="bank_accounts")

    def handle(self, *args, **options):
        chosen = [kind for kind in KINDS if options[kind]] or list(KINDS)
        for kind in chosen:
            model, link, label = KINDS[kind]
            linked = ContactBusinessRelation.objects.filter(link_to_table=link).values("no")
            pending = model.objects.exclude(no__in=linked).order_by("pk")
            made, last_pk = 0, 0
            try:
                while chunk := list(pending.filter(pk__gt=last_pk)[: br.PROPAGATION_CHUNK_SIZE]):
                    made += len(CREATE[kind](chunk))
                    last_pk = chunk[-1].pk
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
            self.stdout.write(self.style.SUCCESS(f"{made} contacts created from {label.replace('_', ' ')}."))
