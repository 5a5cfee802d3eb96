"""ContactToCustomer (docs/features.md P2): a Sales contact with Is Active Customer = yes becomes an ERP person
customer, numbered by its contact number (``CON-01000-XXXXXX``), externally maintained, with the task's defaults
(customer group 10, language en-us, site/warehouse by default or value map). A contact that was an ERP contact
person before keeps that coupling: this task couples it to a customer as well."""

from django.utils.translation import gettext_lazy

from .fo_base import FoRules

NOT_ACTIVE = gettext_lazy("not an active customer (no quotes, orders or invoices)")


class Rules(FoRules):
    key_field = "contact_number"

    def left_out_reasons(self, queryset):
        count = queryset.count()
        return {NOT_ACTIVE: count} if count else {}
