"""What clients ask first: ``WhoAmI``, ``EntityDefinitions`` (with ``Attributes`` and ``Keys``) and ``$metadata``."""

import uuid
from xml.sax.saxutils import quoteattr

from .entities import ENTITIES

NAMESPACE = uuid.UUID("6c1f1d44-6b0e-4c47-9b53-8b9d2c5a0f60")  # p2c's: the metadata ids are stable


def metadata_id(*names):
    return str(uuid.uuid5(NAMESPACE, ".".join(names)))


_ATTRIBUTE_TYPES = {"Picklist": "Picklist", "State": "State", "Boolean": "Boolean", "DateTime": "DateTime",
                    "DateOnly": "DateTime", "Decimal": "Decimal", "Integer": "Integer", "String": "String",
                    "Uniqueidentifier": "Uniqueidentifier"}


def attributes(entity):
    rows = [{"LogicalName": entity.primary_id, "SchemaName": entity.primary_id, "AttributeType": "Uniqueidentifier",
             "IsPrimaryId": True, "IsPrimaryName": False, "IsValidForCreate": True, "IsValidForUpdate": False,
             "MetadataId": metadata_id(entity.logical_name, entity.primary_id)}]
    for column in entity.columns.values():
        rows.append({"LogicalName": column.name, "SchemaName": column.name,
                     "AttributeType": _ATTRIBUTE_TYPES[column.kind], "IsPrimaryId": False,
                     "IsPrimaryName": column.name == entity.primary_name, "IsValidForCreate": column.writable,
                     "IsValidForUpdate": column.writable, "MetadataId": metadata_id(entity.logical_name, column.name)})
    for lookup in entity.lookups.values():
        rows.append({"LogicalName": lookup.name, "SchemaName": lookup.name,
                     "AttributeType": "Customer" if len(lookup.targets) > 1 else "Lookup", "IsPrimaryId": False,
                     "IsPrimaryName": False, "IsValidForCreate": lookup.writable,
                     "IsValidForUpdate": lookup.writable, "Targets": [s.rstrip("s") for s in lookup.targets],
                     "MetadataId": metadata_id(entity.logical_name, lookup.name)})
    return rows


def option_sets(entity, kind):
    """The choice columns of ``kind`` (Picklist, State) with their options: the integer values and labels."""
    rows = []
    for column in entity.columns.values():
        if column.kind != kind:
            continue
        labels = dict(entity.model._meta.get_field(_field_name(entity, column)).choices)
        options = [{"Value": index + column.choice_base,
                    "Label": {"LocalizedLabels": [{"Label": str(labels[value]), "LanguageCode": 1033}]}}
                   for index, value in enumerate(column.choices)]
        rows.append({"LogicalName": column.name, "MetadataId": metadata_id(entity.logical_name, column.name),
                     "OptionSet": {"Options": options}})
    return rows


def _field_name(entity, column):
    return next(f.name for f in entity.model._meta.concrete_fields if f.attname == column.field)


def keys(entity):
    return [{"LogicalName": name, "SchemaName": name, "KeyAttributes": columns, "EntityKeyIndexStatus": "Active",
             "MetadataId": metadata_id(entity.logical_name, "key", name)} for name, columns in entity.keys.items()]


def entity_definition(entity, expand=()):
    row = {"MetadataId": metadata_id(entity.logical_name), "LogicalName": entity.logical_name,
           "SchemaName": entity.logical_name, "EntitySetName": entity.entity_set,
           "LogicalCollectionName": entity.entity_set, "PrimaryIdAttribute": entity.primary_id,
           "PrimaryNameAttribute": entity.primary_name, "ChangeTrackingEnabled": True,
           "IsCustomEntity": False, "ObjectTypeCode": ENTITIES.index(entity) + 1}
    if "Attributes" in expand:
        row["Attributes"] = attributes(entity)
    if "Keys" in expand:
        row["Keys"] = keys(entity)
    return row


_EDM = {"Picklist": "Edm.Int32", "State": "Edm.Int32", "Boolean": "Edm.Boolean", "DateTime": "Edm.DateTimeOffset",
        "DateOnly": "Edm.Date", "Decimal": "Edm.Decimal", "Integer": "Edm.Int32", "String": "Edm.String",
        "Uniqueidentifier": "Edm.Guid"}


def csdl():
    """The CSDL document of the served tables (entity types, their properties and single-valued navigation
    properties, the entity sets, WhoAmI and the bulk actions)."""
    lines = ['<?xml version="1.0" encoding="utf-8"?>',
             '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
             "<edmx:DataServices>",
             '<Schema Namespace="Microsoft.Dynamics.CRM" Alias="mscrm" xmlns="http://docs.oasis-open.org/odata/ns/edm">']
    for entity in ENTITIES:
        lines.append(f"<EntityType Name={quoteattr(entity.logical_name)}>")
        lines.append(f'<Key><PropertyRef Name="{entity.primary_id}"/></Key>')
        lines.append(f'<Property Name="{entity.primary_id}" Type="Edm.Guid"/>')
        for column in entity.columns.values():
            lines.append(f'<Property Name="{column.name}" Type="{_EDM[column.kind]}"/>')
        for lookup in entity.lookups.values():
            lines.append(f'<Property Name="{lookup.value_name}" Type="Edm.Guid"/>')
            for entity_set in lookup.targets:
                suffix = f"_{entity_set.rstrip('s')}" if len(lookup.targets) > 1 else ""
                target = next(e for e in ENTITIES if e.entity_set == entity_set)
                lines.append(f'<NavigationProperty Name="{lookup.name}{suffix}" '
                             f'Type="mscrm.{target.logical_name}"/>')
        lines.append("</EntityType>")
    lines.append('<ComplexType Name="WhoAmIResponse"><Property Name="BusinessUnitId" Type="Edm.Guid" Nullable="false"/>'
                 '<Property Name="UserId" Type="Edm.Guid" Nullable="false"/>'
                 '<Property Name="OrganizationId" Type="Edm.Guid" Nullable="false"/></ComplexType>')
    lines.append('<Function Name="WhoAmI"><ReturnType Type="mscrm.WhoAmIResponse" Nullable="false"/></Function>')
    for action in ("CreateMultiple", "UpdateMultiple", "UpsertMultiple"):
        lines.append(f'<Action Name="{action}" IsBound="true"><Parameter Name="entityset" '
                     f'Type="Collection(mscrm.crmbaseentity)"/><Parameter Name="Targets" '
                     f'Type="Collection(mscrm.crmbaseentity)"/></Action>')
    lines.append('<EntityContainer Name="System">')
    for entity in ENTITIES:
        lines.append(f'<EntitySet Name="{entity.entity_set}" EntityType="mscrm.{entity.logical_name}"/>')
    lines.append('<FunctionImport Name="WhoAmI" Function="mscrm.WhoAmI"/>')
    lines.append("</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>")
    return "\n".join(lines)
