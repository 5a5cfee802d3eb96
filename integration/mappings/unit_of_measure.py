"""UNIT OF MEASURE: ERP units of measure → Sales unit groups (integration/rules/unit_of_measure.py)."""

from integration.rules import unit_of_measure

from .base import TO, Field, MappingDefinition, Recommendation


class UnitOfMeasureMapping(MappingDefinition):
    key = "unit_of_measure"
    name = "UNIT OF MEASURE"
    erp, crm, direction = "erp.UnitOfMeasure", "crm.UnitGroup", TO
    rules = unit_of_measure.Rules
    fields = (
        Field("code", "name", TO, match=1),
        Field("code", "base_uom_name", TO),
        Field("description", "description", TO),
    )

    def review_recommendation(self, mapping, found):
        # Business Central: a new Sales organisation has one default unit group, which is not a record to couple.
        erp_count, crm_count = found.erp_count, len(found.crm_rows(self.review_crm_fields))
        if erp_count == 0 and crm_count <= 1:
            return Recommendation.NO_RECORDS
        if erp_count and crm_count > 1:
            return Recommendation.COUPLE
        return Recommendation.FULL
