"""CURRENCY: ERP currencies → Sales transaction currencies, coupled by ISO code (integration/rules/currency.py).

A blank currency on an ERP record is the local currency (LCY), whose Sales counterpart is the Sales base currency:
the engine asks this mapping for it wherever a currency reference is translated (`blank_counterpart`)."""

from integration.rules import currency

from .base import TO, Field, MappingDefinition, Recommendation


class CurrencyMapping(MappingDefinition):
    key = "currency"
    name = "CURRENCY"
    erp, crm, direction = "erp.Currency", "crm.TransactionCurrency", TO
    erp_filter = {"~iso_code": ""}
    rules = currency.Rules
    fields = (
        Field("iso_code", "iso_currency_code", TO, match=1),
        Field("symbol", "currency_symbol", TO),
        Field("description", "currency_name", TO),
        Field("exchange_rate", "exchange_rate", TO),
    )
    review_crm_fields = ("exchange_rate",)
    has_blank_counterpart = True

    def review_recommendation(self, mapping, found):
        # Business Central: a Sales organisation holding only its base currency (rate 1) is filled in full; one
        # holding more couples them first.
        rates = [row["exchange_rate"] for row in found.crm_rows(self.review_crm_fields)]
        return Recommendation.FULL if rates == [1] else Recommendation.COUPLE

    def blank_counterpart(self, plan):
        return currency.sales_base_currency_id(plan)
