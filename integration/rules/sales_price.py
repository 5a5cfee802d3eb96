"""SALESPRC-PRODPRICE: ERP sales prices of type customer price group → lines of the price list coupled to
that group (docs/features.md I5). The sales code names the customer price group.

Match-based coupling pairs a sales price with the line of that price list for the coupled product (the product is
the mapping's match field; the price list is this module's `match_scope`), so a full synchronisation of prices
that exist on both sides updates the existing lines instead of adding a second line for the same product.
"""

from django.utils.translation import gettext_noop

from erp.models import CustomerPriceGroup
from integration.binder import counterparts
from p2c.said import said

from .base import RowError
from .base import Rules as BaseRules
from .reads import keys_by


def _price_lists_by_code(plan, codes):
    """{sales code: id of the Sales price list coupled to that customer price group}, in two queries."""
    groups = {pk: code for code, pk in keys_by(plan, CustomerPriceGroup, "code", codes).items()}
    if not groups:
        return {}
    coupled = counterparts("erp.CustomerPriceGroup", groups, to="crm.PriceLevel")
    return {groups[erp_id]: crm_id for erp_id, crm_id in coupled.items()}


class Rules(BaseRules):
    def source_fields(self, *, plan):
        return ("sales_code",)

    def prepare_chunk(self, rows, *, plan):
        return _price_lists_by_code(plan, (row.sales_code for row in rows))

    def match_scope(self, rows, *, plan):
        if plan.source.key != "erp":
            return None
        price_lists = _price_lists_by_code(plan, (row.sales_code for row in rows))
        return {row.pk: {"price_level_id": price_lists[row.sales_code]}
                for row in rows if row.sales_code in price_lists}

    def transfer(self, source, destination, values, *, plan, context):
        price_list = context.get(source.sales_code)
        if price_list is None:
            raise RowError(said(gettext_noop("Customer price group %(sales_code)s is not coupled to a Sales price list"),
                                sales_code=source.sales_code))
        values["price_level_id"] = price_list
