"""CURRENCY: ERP currencies → Sales transaction currencies, coupled by ISO code (docs/features.md I5).

Only currencies with a standard ISO code (three letters) are synchronised: the mapping's filter leaves out those
without one, and a code that is not three letters fails the row with a message naming it.

The ERP's local currency (LCY) is no currency record: a blank currency code on an ERP record means LCY. Its
counterpart in Sales is the Sales base currency, the transaction currency whose ISO code is the General Ledger
Setup's LCY code (BC: ``CRM Synch. Helper.GetNavCurrencyCode`` turns that currency into a blank code, and a blank
code into it). `sales_base_currency_id` finds it; the engine uses it wherever a currency reference is translated.
"""

import re

from django.utils.translation import gettext_noop

from crm.models import TransactionCurrency
from erp.models import GeneralLedgerSetup
from p2c.said import said

from .base import RowError
from .base import Rules as BaseRules
from .reads import key, rows_of, rows_where

ISO_CODE = re.compile(r"^[A-Z]{3}$")


class Rules(BaseRules):
    def source_fields(self, *, plan):
        return ("iso_code", "description", "code") if plan.destination.key == "crm" else ()

    def transfer(self, source, destination, values, *, plan, context):
        if plan.destination.key != "crm":
            return
        iso = (values.get("iso_currency_code") or "").upper()
        if not ISO_CODE.match(iso):
            raise RowError(said(gettext_noop("ISO Code %(iso_code)s is not a standard ISO 4217 currency code"),
                                iso_code=repr(source.iso_code)))
        values["iso_currency_code"] = iso
        if not values.get("currency_name"):
            values["currency_name"] = source.description or source.code


def sales_base_currency_id(plan):
    """The id of the Sales currency that stands for the ERP's local currency (blank currency code), or None.

    It is the Sales transaction currency whose ISO code is the General Ledger Setup's LCY code (case-insensitive),
    each read through its side (`SyncPlan.side_of`). Two reads; None when the LCY code is blank or no Sales currency
    has it.
    """
    # The setup row is made on first use; until then its default applies
    setup = rows_of(plan, GeneralLedgerSetup, [1], ["lcy_code"]).get(1) or {
        "lcy_code": GeneralLedgerSetup._meta.get_field("lcy_code").get_default()}
    lcy = setup["lcy_code"]
    lcy = (lcy or "").strip()
    if not lcy:
        return None
    found = rows_where(plan, TransactionCurrency, "iso_currency_code", [lcy], [], case_insensitive=True)
    return min((key(plan, TransactionCurrency, row) for row in found), default=None, key=str)
