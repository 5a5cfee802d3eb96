"""CURRENCY: ERP currencies → Sales transaction currencies, coupled by ISO code (SPEC I5).

Only currencies with a standard ISO code (three letters) are synchronised: the mapping's filter leaves out those
without one, and a code that is not three letters fails the row with a message naming it.
"""

import re

from .base import RowError
from .base import Rules as BaseRules

ISO_CODE = re.compile(r"^[A-Z]{3}$")


class Rules(BaseRules):
    def transfer(self, source, destination, values, *, plan, context):
        if plan.destination.key != "crm":
            return
        iso = (values.get("iso_currency_code") or "").upper()
        if not ISO_CODE.match(iso):
            raise RowError(f"ISO Code {source.iso_code!r} is not a standard ISO 4217 currency code")
        values["iso_currency_code"] = iso
        if not values.get("currency_name"):
            values["currency_name"] = source.description or source.code
