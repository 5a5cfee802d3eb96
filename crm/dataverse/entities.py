"""Which Sales table is which Dataverse table: entity set, logical names of its columns, lookups, keys.

A column's logical name is the Django field's name without underscores (``account_number`` → ``accountnumber``),
but for the address columns Dataverse names with a prefix (``address1_city``, ``billto_city``) and the names listed
in `RENAMES`. A foreign key is a lookup named ``<name>id`` (``primary_contact`` → ``primarycontactid``), read as
``_primarycontactid_value`` and written with ``primarycontactid@odata.bind``. Two keys that are one customer lookup in
Dataverse (``customerid``: an account or a contact) are one lookup with two targets. Choices hold integers: a
status's values count from 0, the other choices' from 1, in the order the model declares them (Dataverse's habit).
"""

from dataclasses import dataclass, field
from functools import cached_property

from django.db import models as dj

from crm import models

PREFIXED = ("address1_", "billto_", "shipto_")

# model → {Django field: Dataverse logical name} where the rule above does not give Dataverse's name
RENAMES = {
    models.SystemUser: {"internal_email": "internalemailaddress"},
    models.Account: {"price_level": "defaultpricelevelid"},
    models.Unit: {"unit_group": "uomscheduleid", "base_unit": "baseuom"},
    models.Quote: {"number": "quotenumber"},
    models.SalesOrder: {"number": "ordernumber", "requested_delivery_by": "requestdeliveryby"},
    models.Invoice: {"number": "invoicenumber"},
    models.QuoteDetail: {"line_number": "lineitemnumber"},
    models.SalesOrderDetail: {"line_number": "lineitemnumber"},
    models.InvoiceDetail: {"line_number": "lineitemnumber"},
}
# Lookups made of two keys: (lookup name, {target entity set: Django field})
POLYMORPHIC = {
    models.Contact: [("parentcustomerid", {"accounts": "parent_account", "contacts": "parent_contact"})],
    models.Opportunity: [("customerid", {"accounts": "customer_account", "contacts": "customer_contact"})],
    models.Quote: [("customerid", {"accounts": "customer_account", "contacts": "customer_contact"})],
    models.SalesOrder: [("customerid", {"accounts": "customer_account", "contacts": "customer_contact"})],
    models.Invoice: [("customerid", {"accounts": "customer_account", "contacts": "customer_contact"})],
}
HIDDEN = {"user"}  # the login of a Sales user is p2c's, not Dataverse's
# (logical name, entity set, model, primary name, alternate keys: {key name: [logical names]})
TABLES = [
    ("systemuser", "systemusers", models.SystemUser, "fullname", {}),
    ("transactioncurrency", "transactioncurrencies", models.TransactionCurrency, "currencyname",
     {"isocurrencycode": ["isocurrencycode"]}),
    ("uomschedule", "uomschedules", models.UnitGroup, "name", {"name": ["name"]}),
    ("uom", "uoms", models.Unit, "name", {}),
    ("pricelevel", "pricelevels", models.PriceLevel, "name", {"name": ["name"]}),
    ("product", "products", models.Product, "name", {"productnumber": ["productnumber"]}),
    ("productpricelevel", "productpricelevels", models.ProductPriceLevel, "productnumber", {}),
    ("account", "accounts", models.Account, "name", {"accountnumber": ["accountnumber"]}),
    ("contact", "contacts", models.Contact, "fullname", {"contactnumber": ["contactnumber"]}),
    ("opportunity", "opportunities", models.Opportunity, "name", {}),
    ("quote", "quotes", models.Quote, "name", {"quotenumber": ["quotenumber"]}),
    ("quotedetail", "quotedetails", models.QuoteDetail, "productdescription", {}),
    ("salesorder", "salesorders", models.SalesOrder, "name", {"ordernumber": ["ordernumber"]}),
    ("salesorderdetail", "salesorderdetails", models.SalesOrderDetail, "productdescription", {}),
    ("invoice", "invoices", models.Invoice, "name", {"invoicenumber": ["invoicenumber"]}),
    ("invoicedetail", "invoicedetails", models.InvoiceDetail, "productdescription", {}),
]


def logical_name(model, name):
    renamed = RENAMES.get(model, {}).get(name)
    if renamed:
        return renamed
    for prefix in PREFIXED:
        if name.startswith(prefix):
            return prefix + name[len(prefix):].replace("_", "")
    return name.replace("_", "")


@dataclass
class Column:
    name: str  # Dataverse's logical name
    field: str  # the Django field's attname
    kind: str  # String, Integer, Decimal, Boolean, DateTime, DateOnly, Uniqueidentifier, Picklist, State
    writable: bool
    choices: list = field(default_factory=list)  # Django values, in the order of their integers

    def to_dataverse(self, value):
        if value is None or (value == "" and self.choices):
            return None
        if self.choices:
            return self.choices.index(value) + self.choice_base
        return value

    def from_dataverse(self, value):
        """The Django value of ``value``; ValueError when it is not one of this column's."""
        if not self.choices or value is None:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(value)
        index = value - self.choice_base
        if not 0 <= index < len(self.choices):
            raise ValueError(value)
        return self.choices[index]

    @property
    def choice_base(self):
        return 0 if self.kind == "State" else 1


@dataclass
class Lookup:
    name: str  # e.g. primarycontactid, read as _primarycontactid_value
    targets: dict  # {entity set: Django field name}
    writable: bool

    @property
    def value_name(self):
        return f"_{self.name}_value"

    def attnames(self):
        return [f"{name}_id" for name in self.targets.values()]


@dataclass
class Entity:
    logical_name: str
    entity_set: str
    model: type
    primary_name: str
    keys: dict
    columns: dict = field(default_factory=dict)  # logical name → Column
    lookups: dict = field(default_factory=dict)  # lookup name → Lookup

    @property
    def primary_id(self):
        return f"{self.logical_name}id"

    @property
    def type_name(self):
        return f"Microsoft.Dynamics.CRM.{self.logical_name}"

    @cached_property
    def lookup_values(self):
        """``_x_value`` → Lookup."""
        return {lookup.value_name: lookup for lookup in self.lookups.values()}

    @cached_property
    def bind_names(self):
        """Every name a ``@odata.bind`` may carry → (Lookup, fixed target entity set or None):
        ``customerid`` and ``customerid_account`` both."""
        names = {}
        for lookup in self.lookups.values():
            names[lookup.name] = (lookup, None)
            if len(lookup.targets) > 1:
                for entity_set in lookup.targets:
                    names[f"{lookup.name}_{entity_set.rstrip('s')}"] = (lookup, entity_set)
        return names

    def orm_name(self, name):
        """The Django expression of a column, ``_x_value`` or the primary id, or None if there is none."""
        if name == self.primary_id:
            return "pk"
        column = self.columns.get(name)
        if column:
            return column.field
        lookup = self.lookup_values.get(name)
        if lookup and len(lookup.targets) == 1:
            return lookup.attnames()[0]
        return None


_CHOICE_STATE = "State"


def _kind(model_field):
    if model_field.choices:
        return _CHOICE_STATE if model_field.name == "state_code" else "Picklist"
    return {
        dj.BooleanField: "Boolean", dj.DateTimeField: "DateTime", dj.DateField: "DateOnly",
        dj.DecimalField: "Decimal", dj.PositiveIntegerField: "Integer", dj.PositiveSmallIntegerField: "Integer",
        dj.IntegerField: "Integer", dj.UUIDField: "Uniqueidentifier",
    }.get(type(model_field), "String")


def _entity(logical, entity_set, model, primary_name, keys):
    entity = Entity(logical, entity_set, model, primary_name, keys)
    polymorphic_fields = set()
    for name, targets in POLYMORPHIC.get(model, []):
        entity.lookups[name] = Lookup(name, targets, writable=True)
        polymorphic_fields.update(targets.values())
    for model_field in model._meta.concrete_fields:
        if model_field.primary_key or model_field.name in HIDDEN or model_field.name in polymorphic_fields:
            continue
        read_only = not model_field.editable or model_field.name in model.DERIVED_FIELDS
        if model_field.is_relation:
            target = next(t for t in TABLES if t[2] is model_field.related_model)
            name = RENAMES.get(model, {}).get(model_field.name) or (
                "modifiedby" if model_field.name == "modifiedby" else model_field.name.replace("_", "") + "id")
            entity.lookups[name] = Lookup(name, {target[1]: model_field.name}, writable=not read_only)
            continue
        name = logical_name(model, model_field.name)
        if model_field.name in ("createdon", "modifiedon"):
            read_only = True
        choices = [value for value, _label in model_field.choices] if model_field.choices else []
        entity.columns[name] = Column(name, model_field.attname, _kind(model_field), not read_only, choices)
    return entity


ENTITIES = [_entity(*table) for table in TABLES]
BY_SET = {entity.entity_set: entity for entity in ENTITIES}
BY_LOGICAL = {entity.logical_name: entity for entity in ENTITIES}
BY_MODEL = {entity.model: entity for entity in ENTITIES}
