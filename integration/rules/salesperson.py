"""SALESPEOPLE: Sales users → ERP salespeople. New salespeople get a code made of the user's initials."""

import re

from erp.models import SalespersonPurchaser

from .base import Rules as BaseRules
from .reads import every_value


class Rules(BaseRules):
    match_creates_new = False  # BC: match-based coupling never creates salespeople

    def prepare_chunk(self, rows, *, plan):
        if plan.destination.key != "erp":
            return None
        return every_value(plan, SalespersonPurchaser, "code")

    def transfer(self, source, destination, values, *, plan, context):
        if plan.destination.key != "erp":
            return
        if "name" in values:
            values["name"] = values["name"][:50]
        if destination is None and not values.get("code"):
            words = re.findall(r"[A-Za-z0-9]+", source.fullname) or ["SP"]
            base = "".join(w[0] for w in words).upper()[:4] or "SP"
            code, n = base, 1
            while code in context:
                n += 1
                code = f"{base}{n}"
            context.add(code)
            values["code"] = code
