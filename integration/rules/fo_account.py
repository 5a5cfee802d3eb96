"""Accounts - Customers (docs/features.md P1, P3, P5): Sales accounts → ERP customers, externally maintained, numbered
by the account number (``ACC-01000-XXXXXX``). Defaults (customer group 10, language en-us, …) from the task."""

from django.utils.translation import gettext_lazy

from .fo_base import FoRules

INACTIVE = gettext_lazy("account is inactive")


class Rules(FoRules):
    key_field = "account_number"

    def left_out_reasons(self, queryset):
        count = queryset.count()
        return {INACTIVE: count} if count else {}
