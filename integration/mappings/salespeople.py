"""SALESPEOPLE: Sales users → ERP salespeople, coupled by e-mail, then name; match-based coupling never creates
salespeople (integration/rules/salesperson.py)."""

from integration.rules import salesperson

from .base import FROM, Field, MappingDefinition, Recommendation


class SalespeopleMapping(MappingDefinition):
    key = "salesperson"
    name = "SALESPEOPLE"
    erp, crm, direction = "erp.SalespersonPurchaser", "crm.SystemUser", FROM
    crm_filter = {"is_disabled": False, "is_licensed": True, "is_integration_user": False}
    rules = salesperson.Rules
    fields = (
        Field("email", "internal_email", FROM, match=1),
        Field("name", "fullname", FROM, match=2),
        Field("phone_no", "mobile_phone", FROM),
        Field("job_title", "title", FROM),
    )

    def review_recommendation(self, mapping, found):
        # Business Central: salespeople are always synchronised in full (they are matched, never duplicated).
        return Recommendation.FULL
