"""What a declared mapping is (`MappingDefinition`), its field mappings (`Field`), and the registry of definitions by
their stable key.

A table mapping in the database names its definition by key (``IntegrationTableMapping.definition_key``), never by
module path: an administrator may rename the mapping, the code that depends on what it is reads the key. A mapping
with no key (one an administrator made) is the generic `MappingDefinition`: no rules, the review's generic
recommendation, no blank counterparts.
"""

from dataclasses import dataclass

from integration.catalogue.definitions import definition_for, definitions
from integration.models import Direction, FullSyncLine
from integration.rules.base import Rules

BI, TO, FROM = Direction.BIDIRECTIONAL, Direction.TO_INTEGRATION, Direction.FROM_INTEGRATION
Recommendation = FullSyncLine.Recommendation


@dataclass(frozen=True)
class Field:
    """One default field mapping: the ERP field, the Sales field (either blank for a constant written to the other
    side), the direction it goes, and its options. ``match`` > 0 marks it for match-based coupling with that priority (fields of
    one priority must all be equal)."""

    erp: str
    crm: str
    direction: str
    match: int = 0
    constant: str = ""
    validate: bool = True
    clear_on_failure: bool = False
    not_null: bool = False
    value_map: str = ""  # the name of the value map (an option mapping's)
    create_only: bool = False


class MappingDefinition:
    """A mapping as one declared unit. Subclasses set what differs; `register` adds them under ``key``."""

    key = ""  # stable; stored in the database (integration.IntegrationTableMapping.definition_key)
    name = ""  # the name the set-up gives the mapping (an administrator may change it)
    erp = ""  # "erp.Model"
    crm = ""  # "crm.Model"
    direction = BI
    erp_filter = {}
    crm_filter = {}
    option_field = ""  # set for an option mapping: the Sales option set the ERP codes are mapped to
    sync_only_coupled = True
    parent = ""  # the key of the parent mapping (a document's lines under their document)
    depends = ()  # keys of the mappings that run first
    fields = ()  # `Field`s, the defaults the set-up writes
    rules = Rules  # the rules hooks (integration.rules.base.Rules)
    # Whether the set-up (the wizard, integration_setup) creates it; a definition that a template makes (F&O) not.
    seeded = True
    # Whether the API viewsets of its ERP and Sales tables take the coupling actions (couple/, uncouple/,
    # synchronize/, create-counterpart/).
    coupling_api = True
    # Sales fields the review's recommendation reads of each Sales row (review_recommendation's ``crm_rows``).
    review_crm_fields = ()

    @property
    def is_option_mapping(self):
        return bool(self.option_field)

    def rules_make(self):
        return self.rules()

    def review_recommendation(self, mapping, found):
        """The full synchronisation review's initial recommendation for ``mapping`` (Business Central's), its
        dependencies left aside. ``found`` counts what each side holds: ``found.erp_count`` and
        ``found.crm_rows(fields)`` (read when asked)."""
        if mapping.is_option_mapping:
            return Recommendation.NO_RECORDS if found.erp_count == 0 else Recommendation.COUPLE
        erp_count, crm_count = found.erp_count, len(found.crm_rows(self.review_crm_fields))
        if erp_count == 0 and crm_count == 0:
            return Recommendation.NO_RECORDS
        if erp_count and crm_count:
            return Recommendation.COUPLE
        return Recommendation.FULL

    # Whether a blank ERP reference to this mapping's ERP table has a Sales counterpart (`blank_counterpart`).
    has_blank_counterpart = False

    def blank_counterpart(self, plan):
        """The id of the Sales record that stands for a blank ERP reference to this mapping's ERP table (the ERP's
        local currency is the Sales base currency), or None; asked once per run."""
        return None


GENERIC = MappingDefinition()


def definition_of(mapping):
    """The definition ``mapping`` (an IntegrationTableMapping) follows: its key's, or the generic one when it has no
    key or one no longer registered."""
    return definition_for(mapping.definition_key) or GENERIC


def rules_for(mapping):
    """The rules hooks of ``mapping``'s definition."""
    return definition_of(mapping).rules_make()


def blank_counterpart_for(erp_model, crm_model):
    """The definition coupling ``erp_model`` with ``crm_model`` whose blank ERP reference has a Sales counterpart,
    or None."""
    for definition in definitions():
        if definition.has_blank_counterpart and (definition.erp, definition.crm) == (erp_model, crm_model):
            return definition
    return None


def coupled_api_models():
    """The labels of the ERP and Sales tables whose API viewsets take the coupling actions."""
    labels = []
    for definition in definitions():
        if definition.coupling_api:
            labels += [label for label in (definition.crm, definition.erp) if label not in labels]
    return labels
