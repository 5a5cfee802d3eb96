"""POSTEDSALESLINE-INV: posted invoice lines → Sales invoice products. An item or resource line names the product
coupled to it; other lines (G/L accounts, comments) become write-in products carrying the description, and so do
lines of the setup's write-in product (Sales & Receivables Setup), which stand for a write-in product in Sales."""

from django.utils.translation import gettext_noop

from erp.models import Item, Resource, SalesReceivablesSetup
from integration.binder import counterparts
from p2c.said import said, said_choice

from .base import RowError
from .base import Rules as BaseRules
from .reads import keys_by, rows_of


class Rules(BaseRules):
    def source_fields(self, *, plan):
        return ("type", "no", "description")

    def prepare_chunk(self, rows, *, plan):
        setup = rows_of(plan, SalesReceivablesSetup, [1], ["write_in_product_type", "write_in_product_no"]).get(1)
        products = {"write_in": (setup["write_in_product_type"], setup["write_in_product_no"]) if setup else None}
        for kind, model in (("item", Item), ("resource", Resource)):
            nos = {row.no for row in rows if row.type == kind and row.no}
            ids = {pk: no for no, pk in keys_by(plan, model, "no", nos).items()}
            coupled = counterparts(model._meta.label, ids, to="crm.Product")
            products[kind] = {ids[erp_id]: crm_id for erp_id, crm_id in coupled.items()}
        return products

    def transfer(self, source, destination, values, *, plan, context):
        if context.get("write_in") == (source.type, source.no) and source.no:
            values["product_id"] = None
            values["product_description"] = (source.description or source.no)[:500]
        elif source.type in context:
            product = context[source.type].get(source.no)
            if product is None:
                raise RowError(said(
                    gettext_noop("%(get_type_display)s %(source_no)s is not coupled to a Sales product"),
                    get_type_display=said_choice(source, "type"), source_no=source.no))
            values["product_id"] = product
            values["product_description"] = ""
        else:
            values["product_id"] = None
            values["product_description"] = (source.description or source.no)[:500]
