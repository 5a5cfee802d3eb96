"""Contacts (docs/features.md P2): a Sales contact that is not an active customer and whose company is an account
becomes an ERP contact person under the company contact of the customer coupled to that account.

The company is found as the BC CONTACT mapping finds it (integration/rules/contact.py): account → coupled ERP
customer → its business relation's company contact, for the whole chunk in a few queries. An account that is not
coupled yet fails the row naming the account: run the Accounts - Customers task first (the project refuses to
run before it has).
"""

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy, gettext_noop

from p2c.said import Said, said

from .base import RowError
from .contact import _companies_for_accounts
from .fo_base import FoRules

ACTIVE_CUSTOMER = gettext_lazy("active customer: synchronised as an ERP customer by the ContactToCustomer task")
COMPANY_IS_CONTACT = gettext_lazy("company is a contact, not an account")
NO_COMPANY = gettext_lazy("no company")


def routing_left_out(queryset, *, active_customer_reason):
    """Count the contacts of ``queryset`` by why the contact routing leaves them out, in one query."""
    counts = queryset.aggregate(
        active=Count("pk", filter=Q(is_active_customer=True)),
        company_contact=Count("pk", filter=Q(is_active_customer=False, parent_contact__isnull=False)),
        no_company=Count("pk", filter=Q(is_active_customer=False, parent_account__isnull=True,
                                        parent_contact__isnull=True)),
        total=Count("pk"),
    )
    reasons = {
        active_customer_reason: counts["active"],
        COMPANY_IS_CONTACT: counts["company_contact"],
        NO_COMPANY: counts["no_company"],
    }
    other = counts["total"] - counts["active"] - counts["company_contact"] - counts["no_company"]
    if other:
        reasons[gettext_lazy("does not match the task filter")] = other
    return {reason: n for reason, n in reasons.items() if n}


class Rules(FoRules):
    key_field = "contact_number"

    def source_fields(self, *, plan):
        return (*super().source_fields(plan=plan), "parent_account_id")

    def prepare_chunk(self, rows, *, plan):
        super().prepare_chunk(rows, plan=plan)
        return _companies_for_accounts(plan, {row.parent_account_id for row in rows} - {None})

    def transfer(self, source, destination, values, *, plan, context):
        super().transfer(source, destination, values, plan=plan, context=context)
        company = context.get(source.parent_account_id) if source.parent_account_id else None
        if company is None:
            raise RowError(said(gettext_noop("the contact's company is not an account")))
        if isinstance(company, Said):
            hint = (
                said(gettext_noop("run the Accounts - Customers task first"))
                if "not coupled" in company.text
                else said(gettext_noop(
                    "set Contact Nos. and Bus. Rel. Code for Customers in Marketing Setup so customers get their "
                    "company contact, then run the Accounts - Customers task again"
                ))
            )
            # Translators: why a contact's row failed, then what to do about it.
            raise RowError(said(gettext_noop("%(reason)s: %(hint)s"), reason=company, hint=hint))
        values["company_id"] = company
        values["type"] = "person"

    def left_out_reasons(self, queryset):
        return routing_left_out(queryset, active_customer_reason=ACTIVE_CUSTOMER)
