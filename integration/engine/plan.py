"""A run of one mapping in one direction, resolved once: which side is the source, which fields go where."""

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from operator import attrgetter

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext

from integration.catalogue.fields import RELATION, field_category, get_field
from integration.labels import record_title, record_title_said
from integration.mappings import rules_for
from integration.models import ConnectionSetup, Coupling, Direction, ValueMapEntry
from p2c.databases import database_for
from p2c.records import instance_maker

from .filters import filter_validate
from .sides import side_for

ERP, CRM = "erp", "crm"


@dataclass(frozen=True)
class Side:
    """One side of a run (ERP or Sales): its model, filter and database.

    What the engine asks of a side is kept narrow, so that a side reached over HTTP (Dataverse's Web API: keys
    chosen by the client, upsert by key, change tracking) can answer it later: read the rows changed since a
    watermark in keyset pages (reading.py), read rows by keys (`ChunkRun._read_and_decide`), write rows whose keys
    the engine chose before writing (`ChunkWrites._write_destination`; new Sales keys are UUIDs recorded as intents
    first, intents.py). The engine deletes no Sales row: a deletion conflict uncouples or restores.
    """

    key: str  # "erp" or "crm"
    model: type
    filter_spec: dict

    @property
    def label(self):
        return self.model._meta.label

    @cached_property
    def pk_of(self):
        """``row.pk`` of this side's rows as one C call (``Model.pk`` is a property calling a method: the engine asks
        it a dozen times a row)."""
        return attrgetter(self.model._meta.pk.attname)

    @property
    def id_field(self):
        return f"{self.key}_id"

    @property
    def modified_field(self):
        return self.model.MODIFIED_FIELD

    @property
    def last_synced_field(self):
        return f"last_synced_{self.key}_modified"

    @property
    def result_field(self):
        """The coupling's result of the last write *into* this side."""
        return f"last_{self.key}_result"

    @property
    def job_field(self):
        return f"last_{self.key}_job_id"

    @property
    def watermark_field(self):
        return f"{self.key}_watermark"

    @property
    def deletions_checked_field(self):
        """The mapping's time up to which this side's deletion log was read (sides that keep one: p2c.deletions)."""
        return f"{self.key}_deletions_checked_on"

    @property
    def system_name(self):
        return "ERP" if self.key == ERP else "Sales"

    @property
    def database(self):
        """The alias of the database this side's rows are in (p2c.databases)."""
        return database_for(self.model)

    def filter_q(self):
        return filter_validate(self.model, self.filter_spec)

    @cached_property
    def reach(self):
        """The `sides.Side` the engine reads and writes this side's rows through."""
        return side_for(self.model, key=self.key, filter_spec=self.filter_spec)


@dataclass
class FieldRule:
    """One enabled field mapping, as it applies in the run's direction."""

    mapping: object  # IntegrationFieldMapping
    dest_field: object
    source_field: object = None  # None for a constant
    kind: str = "value"  # constant | value | relation | key_to_value | value_to_key
    value_map: dict = field(default_factory=dict)
    quantum: Decimal | None = None  # a decimal destination: its values are rounded to this (docs/features.md P4/P5)

    @property
    def dest_attname(self):
        return self.dest_field.attname

    @property
    def source_attname(self):
        return self.source_field.attname if self.source_field is not None else None

    @property
    def is_bidirectional(self):
        return self.mapping.direction == Direction.BIDIRECTIONAL


@dataclass
class SyncPlan:
    mapping: object
    direction: str
    source: Side
    destination: Side
    field_rules: list
    rules: object
    integration_user_id: object = None
    # Sales rows last written by this user are not read (BC's IsModifiedByFilterNeeded): the integration user's
    # id, or None when the mapping reads them (see `integration_user_rows_skipped`).
    skip_rows_modified_by: object = None
    decimal_fields: dict = field(default_factory=dict)  # destination attname → (field, quantum), every decimal field
    full: bool = False
    dry_run: bool = False
    create_new: bool = False
    only_ids: list | None = None
    key_range: tuple | None = None  # (low, high): one partition of a run, source rows low <= pk < high
    # True: only the rows coupled when their chunk is read; False: only the uncoupled ones; None: every row
    # (a partitioned run that matches decides its uncoupled rows in one partition: full_sync/partitions.py)
    rows_coupled: bool | None = None
    # A person's decisions of conflicts for this run, part of its request (integration/operations/conflicts.py):
    # coupling pk → {"fields": {erp_field: "erp"|"crm"}, "deletion": "restore"|"remove"} (engine/conflicts.py)
    decisions: dict = field(default_factory=dict, repr=False)
    # Numbers taken ahead for the new destination records, handed to the destination's write (`RunRequest`)
    numbers_reserved: object = field(default=None, repr=False)
    # Cursors the run takes to keep once it is whole (a side not in this process's database: cursors.py)
    cursors: dict = field(default_factory=dict, repr=False)
    _makers: dict = field(default_factory=dict, repr=False)  # model or compile function → what it made, once per run

    def per_run(self, function):
        """``function(self)``, computed once per run (e.g. the field rules made ready for the rows:
        transfer.rules_compile)."""
        if function not in self._makers:
            self._makers[function] = function(self)
        return self._makers[function]

    def per_run_known(self, function, value):
        """Take ``value`` as ``function(self)`` for this run: a partition's coordinator asked once for the whole run."""
        self._makers[function] = value

    def side_of(self, model):
        """The side serving ``model``, a table of Sales or the ERP beyond the run's two that the rules read (a
        currency, an account's name): reached as the run's sides are (`side_for`: Sales over its Web API when it is
        configured so), without a mapping's filter; one per model for the run."""
        key = ("side", model)
        if key not in self._makers:
            self._makers[key] = side_for(model, key=CRM if model._meta.app_label == CRM else ERP)
        return self._makers[key]

    def instance_new(self, model, values):
        """``model(**values)`` without ``Model.__init__`` where the model allows it (p2c.records.instance_maker)."""
        make = self._makers.get(model)
        if make is None:
            make = self._makers[model] = instance_maker(model)
        return make(values)

    @property
    def coupling_pair(self):
        erp, crm = (self.source, self.destination) if self.source.key == ERP else (self.destination, self.source)
        return {"erp_model": erp.label, "crm_model": crm.label}

    @property
    def writes_to_crm(self):
        return self.destination.key == CRM

    @property
    def couplings_database(self):
        return database_for(Coupling)

    @property
    def across(self):
        """Whether the destination's rows and the couplings are in two databases (Sales in its own, ERP → Sales):
        then no transaction holds both, and the writes go through intents (engine/intents.py)."""
        return not self.destination.reach.in_database(self.couplings_database)

    def record_label(self, obj):
        """``Customer C00010 (Adatum Corporation)`` — how messages name a record (integration.labels)."""
        return record_title(obj)

    def record_said(self, obj):
        """`record_label` as what it means (p2c.said), for the messages stored: told in the reader's language."""
        return record_title_said(obj)


def sides_of(mapping, direction):
    """(source, destination): the `Side` of each of ``mapping``'s tables in ``direction`` (one way)."""
    erp = Side(ERP, mapping.erp_model_class(), mapping.erp_filter or {})
    crm = Side(CRM, mapping.crm_model_class(), mapping.crm_filter or {})
    return (erp, crm) if direction == Direction.TO_INTEGRATION else (crm, erp)


def plan_build(*, mapping, direction, full=False, dry_run=False, create_new=None, only_ids=None, key_range=None,
               rows_coupled=None, decisions=None, numbers_reserved=None):
    """Resolve a mapping for one direction; raise ValidationError when the mapping cannot run."""
    if direction not in (Direction.TO_INTEGRATION, Direction.FROM_INTEGRATION):
        raise ValidationError(gettext("Direction %(direction)s is not one-way.") % {"direction": repr(direction)})
    if mapping.direction != Direction.BIDIRECTIONAL and mapping.direction != direction:
        raise ValidationError(
            gettext("Mapping %(mapping)s synchronises %(direction_names)s only, not %(direction_names2)s.")
            % {"mapping": mapping.name, "direction_names": mapping.get_direction_display(),
               "direction_names2": Direction(direction).label}
        )
    source, destination = sides_of(mapping, direction)
    setup = ConnectionSetup.get_solo()
    field_mappings = [fm for fm in mapping.field_mappings.select_related("value_map").all() if fm.is_enabled]
    skips = integration_user_rows_skipped(mapping=mapping, field_mappings=field_mappings)
    return SyncPlan(
        mapping=mapping,
        direction=direction,
        source=source,
        destination=destination,
        field_rules=field_rules_build(mapping=mapping, direction=direction, source=source, destination=destination,
                                      field_mappings=field_mappings),
        rules=rules_for(mapping),
        integration_user_id=setup.integration_user_id,
        skip_rows_modified_by=setup.integration_user_id if skips else None,
        decimal_fields=decimal_quanta(destination.model),
        full=full,
        dry_run=dry_run,
        create_new=(not mapping.sync_only_coupled) if create_new is None else create_new,
        only_ids=only_ids,
        key_range=key_range,
        rows_coupled=rows_coupled,
        decisions=decisions or {},
        numbers_reserved=numbers_reserved,
    )


def integration_user_rows_skipped(*, mapping, field_mappings):
    """Whether the Sales → ERP pass leaves out the Sales rows last written by the integration user (docs/features.md
    I5).

    They are the integration's own writes, so reading them back would only echo them — unless an enabled field
    mapping carries a Sales field to the ERP only: a value only Sales writes (a Sales-side process may run as the
    integration user), which Business Central then reads too (IsModifiedByFilterNeeded).
    """
    return not any(fm.direction == Direction.FROM_INTEGRATION and fm.crm_field and not fm.constant_value
                   for fm in field_mappings if fm.is_enabled)


def decimal_quanta(model):
    """attname → (field, quantum) of each decimal field of ``model`` (quantum Decimal("0.01") for two places)."""
    return {f.attname: (f, Decimal(1).scaleb(-f.decimal_places)) for f in model._meta.concrete_fields
            if isinstance(f, models.DecimalField) and f.decimal_places is not None}


def field_rules_build(*, mapping, direction, source, destination, field_mappings=None):
    rules = []
    fms = field_mappings
    if fms is None:
        fms = [fm for fm in mapping.field_mappings.select_related("value_map").all() if fm.is_enabled]
    quanta = decimal_quanta(destination.model)
    entries = _value_map_entries([fm.value_map_id for fm in fms if fm.value_map_id])
    for fm in fms:
        if fm.direction not in (Direction.BIDIRECTIONAL, direction):
            continue
        dest_name = fm.crm_field if destination.key == CRM else fm.erp_field
        source_name = fm.erp_field if source.key == ERP else fm.crm_field
        if not dest_name:
            continue
        dest_field = get_field(destination.model, dest_name)
        if dest_field is None:
            raise ValidationError(_no_field(fm, destination, dest_name))
        if fm.constant_value or not source_name:
            rules.append(FieldRule(mapping=fm, dest_field=dest_field, kind="constant",
                                   quantum=quanta.get(dest_field.attname, (None, None))[1]))
            continue
        source_field = get_field(source.model, source_name)
        if source_field is None:
            raise ValidationError(_no_field(fm, source, source_name))
        value_map = {}
        if fm.value_map_id:
            pairs = entries.get(fm.value_map_id, [])
            # First entry wins when several ERP values share a Sales value.
            for erp_value, crm_value in pairs:
                src_value, dst_value = (erp_value, crm_value) if source.key == ERP else (crm_value, erp_value)
                value_map.setdefault(src_value, dst_value)
        source_is_fk = field_category(source_field) == RELATION
        dest_is_fk = field_category(dest_field) == RELATION
        kind = (
            "relation" if source_is_fk and dest_is_fk
            else "key_to_value" if source_is_fk
            else "value_to_key" if dest_is_fk
            else "value"
        )
        rules.append(FieldRule(mapping=fm, dest_field=dest_field, source_field=source_field, kind=kind,
                               value_map=value_map, quantum=quanta.get(dest_field.attname, (None, None))[1]))
    return rules


def _no_field(field_mapping, side, name):
    return gettext("Field mapping %(pk)s: %(model)s has no field %(field)s.") % {
        "pk": field_mapping.pk, "model": side.label, "field": repr(name)}


def _value_map_entries(value_map_ids):
    entries = {}
    for map_id, erp_value, crm_value in ValueMapEntry.objects.filter(value_map_id__in=set(value_map_ids)).order_by(
        "pk"
    ).values_list("value_map_id", "erp_value", "crm_value"):
        entries.setdefault(map_id, []).append((erp_value, crm_value))
    return entries
