"""The integration's configuration as a file (issue 18): export, parse, validate, diff and apply, one operation each
door calls (``integration_export`` / ``integration_import``, the admin's export and import pages, the API).

The file holds what an administrator builds and carries from a test environment into production: the connection
setup's options, value maps, table mappings (directions, options, filters, dependencies, parent, conflict policies,
schedule) with their field mappings (value maps, match criteria), and the F&O templates and projects (tasks, task
defaults and value maps). Couplings, jobs, logs and runs are never in it and never touched by an import.

- Natural keys only: records are named by their name (a field mapping by its place in its table mapping, a value map
  entry by its ERP value, a task default by its ERP field), never by a database id, so the file means the same in
  every database.
- A stable order: sections, records and keys always in the same order (records by name, field mappings as the
  mapping lists them, free-form JSON with sorted keys), so two exports of one configuration are the same bytes and a
  diff in version control reads well.
- An import writes everything in one transaction and checks it with the admin's own rules (the models' ``full_clean``,
  ``engine.validation.dependencies_validate`` and ``field_mappings_validate``) before anything is committed; any
  error rolls it all back and names the key at fault (``mappings[CUSTOMER].fields[3].crm_field``). A dry run does the
  same and always rolls back, so its difference is exactly what the import would do.
- A file exported with ``mappings=[...]`` is *partial*: importing it adds and changes, never removes. In a full file,
  a record of a section that the file has but that is not in it is removed; a section the file lacks is left alone.
"""

import json
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, models, transaction

from p2c.outcomes import DONE, OperationRefused, Outcome

from .engine.validation import dependencies_validate, field_mappings_validate
from .models import (
    ConnectionSetup,
    IntegrationFieldMapping,
    IntegrationProject,
    IntegrationProjectTask,
    IntegrationProjectTaskDefault,
    IntegrationTableMapping,
    IntegrationTemplate,
    IntegrationTemplateTask,
    ValueMap,
    ValueMapEntry,
)

# Who may read the configuration, and who may replace it (an import adds, changes and removes mappings and changes
# the connection setup): every door checks these.
EXPORT_PERMISSIONS = ("integration.view_integrationtablemapping",)
IMPORT_PERMISSIONS = ("integration.add_integrationtablemapping", "integration.change_integrationtablemapping",
                      "integration.delete_integrationtablemapping", "integration.change_connectionsetup")

FORMAT = "p2c-integration-configuration"
VERSION = 1
FORMATS = ("json", "yaml")

# The keys of each record, in the order a file shows them. A key naming another record holds its name.
CONNECTION_KEYS = ("is_enabled", "integration_user", "sales_order_integration_enabled",
                   "create_sales_orders_automatically", "item_availability_enabled", "log_retention_days")
VALUE_MAP_KEYS = ("name", "description", "entries")
ENTRY_KEYS = ("erp_value", "crm_value")
MAPPING_KEYS = ("name", "erp_model", "crm_model", "crm_option_field", "direction", "is_enabled", "realtime_sync",
                "sort_order", "erp_filter", "crm_filter", "sync_only_coupled", "create_new_if_no_match",
                "sync_after_match_coupling", "dependencies", "parent", "parent_erp_field", "parent_crm_field",
                "update_conflict_resolution", "deletion_conflict_resolution", "rules_module", "user_defined",
                "schedule", "fields")
FIELD_KEYS = ("erp_field", "crm_field", "direction", "status", "constant_value", "default_value", "value_map",
              "transformation", "validate_field", "clear_value_on_failed_sync", "not_null", "create_only",
              "use_for_match_coupling", "match_priority", "case_sensitive_matching")
SCHEDULE_KEYS = ("every_minutes", "enabled")
TEMPLATE_KEYS = ("name", "description", "builtin", "tasks")
TEMPLATE_TASK_KEYS = ("name", "sequence", "prerequisites", "definition")
PROJECT_KEYS = ("name", "template", "description", "tasks")
PROJECT_TASK_KEYS = ("name", "sequence", "table_mapping", "prerequisites", "defaults")
DEFAULT_KEYS = ("erp_field", "default_value", "key_field", "value_map", "required")
SECTIONS = ("connection", "value_maps", "mappings", "templates", "projects")

# record key -> (model, keys, nested lists: key -> (keys of their records, the key naming them))
NESTED = {
    "value_maps": {"entries": (ENTRY_KEYS, "erp_value")},
    "mappings": {"fields": (FIELD_KEYS, None)},
    "templates": {"tasks": (TEMPLATE_TASK_KEYS, "name")},
    "projects": {"tasks": (PROJECT_TASK_KEYS, "name")},
}
SECTION_KEYS = {"value_maps": VALUE_MAP_KEYS, "mappings": MAPPING_KEYS, "templates": TEMPLATE_KEYS,
                "projects": PROJECT_KEYS}
# Keys that name other records (or hold a structure of their own) rather than a model field of the same name.
CONNECTION_RELATIONS = ("integration_user",)
MAPPING_RELATIONS = ("dependencies", "parent", "schedule", "fields")
LIST_RELATIONS = ("dependencies", "entries", "fields", "tasks", "defaults")


class ConfigurationInvalid(OperationRefused):
    """The file cannot be imported: nothing was changed. ``errors`` are ``(where, message)`` pairs, where a key path
    (``mappings[CUSTOMER].fields[3].crm_field``) or a line (``line 12``)."""

    def __init__(self, errors):
        self.errors = [(where, message) for where, message in errors]
        lines = [f"{where}: {message}" if where else message for where, message in self.errors]
        super().__init__("The configuration is not valid; nothing was changed. " + " ".join(lines[:20])
                         + (f" … and {len(lines) - 20} more." if len(lines) > 20 else ""),
                         code="invalid_configuration", status=400)

    def as_data(self):
        return [{"where": where, "message": message} for where, message in self.errors]


@dataclass(frozen=True)
class Change:
    """One difference: ``added`` or ``removed`` record at ``path``, or ``changed`` key of the record at ``path``."""

    action: str
    path: str
    key: str = ""
    old: object = None
    new: object = None

    def text(self):
        sign = {"added": "+", "removed": "-", "changed": "~"}[self.action]
        if self.action != "changed":
            return f"{sign} {self.path}"
        return f"{sign} {self.path}.{self.key}: {_show(self.old)} → {_show(self.new)}"

    @property
    def old_shown(self):
        return _show(self.old)

    @property
    def new_shown(self):
        return _show(self.new)

    def as_data(self):
        return {"action": self.action, "path": self.path, "key": self.key, "old": self.old, "new": self.new}


def _show(value):
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)  # default: YAML's dates


@dataclass
class ConfigurationOutcome(Outcome):
    """An import's outcome: one record per change (done), and the changes field by field."""

    changes: list = field(default_factory=list)
    dry_run: bool = False

    def counts_by_action(self):
        return {action: sum(1 for c in self.changes if c.action == action) for action in ("added", "changed",
                                                                                           "removed")}

    def as_data(self):
        return {**super().as_data(), "dry_run": self.dry_run, "changes": [c.as_data() for c in self.changes]}


# -- export -----------------------------------------------------------------------------------------------------------
def configuration_data(*, mappings=None):
    """The configuration as plain data (dicts and lists in the file's order). ``mappings`` (names) makes a partial
    export of those table mappings and the value maps they use; an unknown name is refused (400)."""
    from .schedules import NAME_PREFIX

    mapping_rows = IntegrationTableMapping.objects.select_related("parent").prefetch_related("dependencies")
    if mappings:
        names = sorted(set(mappings))
        mapping_rows = mapping_rows.filter(name__in=names)
        unknown = sorted(set(names) - set(mapping_rows.values_list("name", flat=True)))
        if unknown:
            raise OperationRefused(f"No table mapping named {', '.join(unknown)}.", code="unknown_mapping",
                                   status=400)
    mapping_rows = sorted(mapping_rows, key=lambda m: m.name)
    field_rows = {}
    for fm in (IntegrationFieldMapping.objects.filter(table_mapping__in=[m.pk for m in mapping_rows])
               .select_related("value_map").order_by("table_mapping", "id")):
        field_rows.setdefault(fm.table_mapping_id, []).append(fm)
    schedules = _schedules_by_name(NAME_PREFIX)
    data = {"format": FORMAT, "version": VERSION, "partial": bool(mappings)}
    if not mappings:
        data["connection"] = _connection_data()
    value_maps = ValueMap.objects.prefetch_related("entries").order_by("name")
    if mappings:
        used = {fm.value_map.name for rows in field_rows.values() for fm in rows if fm.value_map_id}
        value_maps = value_maps.filter(name__in=used)
    data["value_maps"] = [
        {"name": vm.name, "description": vm.description,
         "entries": [{"erp_value": e.erp_value, "crm_value": e.crm_value}
                     for e in sorted(vm.entries.all(), key=lambda e: e.erp_value)]}
        for vm in value_maps
    ]
    data["mappings"] = [_mapping_data(m, field_rows.get(m.pk, []), schedules.get(m.name)) for m in mapping_rows]
    if not mappings:
        data["templates"] = _templates_data()
        data["projects"] = _projects_data()
    return data


def _connection_data():
    setup = ConnectionSetup.get_solo()
    row = {key: getattr(setup, key) for key in CONNECTION_KEYS if key not in CONNECTION_RELATIONS}
    row["integration_user"] = setup.integration_user.fullname if setup.integration_user_id else None
    return {key: row[key] for key in CONNECTION_KEYS}


def _plain(value):
    """Free-form JSON with its keys sorted (PostgreSQL's jsonb keeps its own order, SQLite the written one)."""
    if isinstance(value, dict):
        return {key: _plain(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _mapping_data(mapping, field_mappings, schedule):
    row = {}
    for key in MAPPING_KEYS:
        if key == "dependencies":
            row[key] = sorted(d.name for d in mapping.dependencies.all())
        elif key == "parent":
            row[key] = mapping.parent.name if mapping.parent_id else None
        elif key == "schedule":
            row[key] = schedule
        elif key == "fields":
            row[key] = [_field_data(fm) for fm in field_mappings]
        else:
            row[key] = _plain(getattr(mapping, key))
    return row


def _field_data(fm):
    return {key: (fm.value_map.name if fm.value_map_id else None) if key == "value_map" else getattr(fm, key)
            for key in FIELD_KEYS}


def _schedules_by_name(prefix):
    """``{mapping name: {"every_minutes": n, "enabled": bool}}`` of the recurring synchronisations
    (integration.schedules) that run on an interval."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    minutes = {IntervalSchedule.MINUTES: 1, IntervalSchedule.HOURS: 60, IntervalSchedule.DAYS: 1440}
    rows = {}
    for task in PeriodicTask.objects.filter(name__startswith=prefix).select_related("interval").order_by("name"):
        if task.interval is not None and task.interval.period in minutes:
            rows[task.name[len(prefix):]] = {"every_minutes": task.interval.every * minutes[task.interval.period],
                                             "enabled": task.enabled}
    return rows


def _templates_data():
    rows = []
    for template in IntegrationTemplate.objects.prefetch_related("tasks").order_by("name"):
        rows.append({
            "name": template.name, "description": template.description, "builtin": template.builtin,
            "tasks": [{"name": t.name, "sequence": t.sequence, "prerequisites": _plain(t.prerequisites),
                       "definition": _plain(t.definition)}
                      for t in sorted(template.tasks.all(), key=lambda t: (t.sequence, t.name))],
        })
    return rows


def _projects_data():
    rows = []
    projects = IntegrationProject.objects.select_related("template").prefetch_related(
        "tasks__table_mapping", "tasks__defaults").order_by("name")
    for project in projects:
        rows.append({
            "name": project.name, "template": project.template.name if project.template_id else None,
            "description": project.description,
            "tasks": [{"name": t.name, "sequence": t.sequence, "table_mapping": t.table_mapping.name,
                       "prerequisites": _plain(t.prerequisites),
                       "defaults": [{"erp_field": d.erp_field, "default_value": d.default_value,
                                     "key_field": d.key_field, "value_map": _plain(d.value_map),
                                     "required": d.required}
                                    for d in sorted(t.defaults.all(), key=lambda d: d.erp_field)]}
                      for t in sorted(project.tasks.all(), key=lambda t: (t.sequence, t.name))],
        })
    return rows


def configuration_export(*, mappings=None, fmt="json"):
    """The configuration as text in ``fmt`` (json: indent 2; yaml), ending with a newline. The same configuration
    always gives the same bytes."""
    return configuration_dump(configuration_data(mappings=mappings), fmt=fmt)


def configuration_dump(data, *, fmt="json"):
    if fmt not in FORMATS:
        raise OperationRefused(f"Unknown format {fmt!r}: use json or yaml.", code="unknown_format", status=400)
    if fmt == "yaml":
        import yaml

        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# -- parse ------------------------------------------------------------------------------------------------------------
def format_of(filename, text=""):
    """``yaml`` for a .yaml/.yml file, ``json`` for a .json one; otherwise from the text (JSON starts with ``{``)."""
    name = (filename or "").lower()
    if name.endswith((".yaml", ".yml")):
        return "yaml"
    if name.endswith(".json"):
        return "json"
    return "json" if text.lstrip().startswith("{") else "yaml"


def configuration_parse(text, *, fmt):
    """The file's data; a syntax error raises ConfigurationInvalid naming its line and column."""
    if fmt not in FORMATS:
        raise OperationRefused(f"Unknown format {fmt!r}: use json or yaml.", code="unknown_format", status=400)
    if fmt == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigurationInvalid([(f"line {exc.lineno}, column {exc.colno}", exc.msg)]) from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigurationInvalid([(where, " ".join(str(p) for p in (exc.context, exc.problem) if p))]) from None
    except yaml.YAMLError as exc:
        raise ConfigurationInvalid([("", str(exc))]) from None


# -- normalise: the shape of the file, with defaults filled in -------------------------------------------------------
_MODEL_OF = {"connection": ConnectionSetup, "value_maps": ValueMap, "entries": ValueMapEntry,
             "mappings": IntegrationTableMapping, "fields": IntegrationFieldMapping, "templates": IntegrationTemplate,
             "template_tasks": IntegrationTemplateTask, "projects": IntegrationProject,
             "project_tasks": IntegrationProjectTask, "defaults": IntegrationProjectTaskDefault}


def _default_of(model_field):
    if model_field.has_default():
        return model_field.get_default()
    return None if model_field.null else ""


def _type_problem(value, model_field):
    """Why ``value`` cannot be a value of ``model_field`` as JSON/YAML gives it, or None."""
    if isinstance(model_field, models.BooleanField):
        return None if isinstance(value, bool) else "expected true or false"
    if isinstance(model_field, (models.IntegerField,)):
        return None if isinstance(value, int) and not isinstance(value, bool) else "expected a whole number"
    if isinstance(model_field, models.JSONField):
        expected = type(model_field.get_default())
        return None if isinstance(value, expected) else f"expected a {'list' if expected is list else 'mapping'}"
    if isinstance(model_field, (models.CharField, models.TextField)):
        return None if isinstance(value, str) else "expected text"
    return None


def _record(raw, keys, model, path, errors, *, relations=(), required=()):
    """``raw`` as a dict with every key of ``keys`` (defaults filled in); unknown keys and wrong types are errors."""
    if not isinstance(raw, dict):
        errors.append((path, "expected a mapping of keys to values"))
        return None
    for key in raw:
        if key not in keys:
            errors.append((f"{path}.{key}", f"unknown key (expected one of: {', '.join(keys)})"))
    row = {}
    for key in keys:
        if key in relations and key not in raw:
            row[key] = [] if key in LIST_RELATIONS else None
            continue
        if key in relations:
            row[key] = raw[key]
            continue
        model_field = model._meta.get_field(key)
        if key not in raw:
            if key in required:
                errors.append((f"{path}.{key}", "required"))
            row[key] = _default_of(model_field)
            continue
        problem = _type_problem(raw[key], model_field)
        if problem:
            errors.append((f"{path}.{key}", f"{problem}, got {_show(raw[key])}"))
        row[key] = _plain(raw[key])
    return row


def _name_or_none(row, key, path, errors):
    if row[key] is not None and not isinstance(row[key], str):
        errors.append((f"{path}.{key}", f"expected a name or null, got {_show(row[key])}"))


def _records(raw, keys, model, path, label, errors, *, relations=(), required=()):
    """A list of records, each named in paths by ``label`` (a key, or None: by position); names are unique."""
    if not isinstance(raw, list):  # null too: an empty YAML key must not mean "remove them all"
        errors.append((path, "expected a list (an empty one is [])"))
        return []
    rows, seen = [], set()
    for index, item in enumerate(raw):
        name = item.get(label) if isinstance(item, dict) and label else None
        item_path = f"{path}[{name if isinstance(name, str) and name else index}]"
        row = _record(item, keys, model, item_path, errors, relations=relations, required=required)
        if row is None:
            continue
        if label:
            if not isinstance(row[label], str) or not row[label]:
                errors.append((f"{path}[{index}].{label}", "required"))
                continue
            if row[label] in seen:
                errors.append((item_path, f"appears twice (a {label} names one record)"))
            seen.add(row[label])
        rows.append(row)
    return rows


def configuration_normalize(data):
    """The file's data in the export's shape, every key present (defaults for those left out); raises
    ConfigurationInvalid naming every key at fault."""
    errors = []
    if not isinstance(data, dict):
        raise ConfigurationInvalid([("", "expected a mapping with the keys format, version, "
                                         + ", ".join(SECTIONS))])
    if data.get("format") != FORMAT:
        errors.append(("format", f"expected {FORMAT!r} (a file written by integration_export)"))
    if data.get("version") != VERSION:
        errors.append(("version", f"expected {VERSION}"))
    if not isinstance(data.get("partial", False), bool):
        errors.append(("partial", "expected true or false"))
    for key in data:
        if key not in ("format", "version", "partial", *SECTIONS):
            errors.append((key, f"unknown key (expected format, version, partial, {', '.join(SECTIONS)})"))
    out = {"format": FORMAT, "version": VERSION, "partial": data.get("partial") is True}
    if "connection" in data:
        out["connection"] = _record(data["connection"], CONNECTION_KEYS, ConnectionSetup, "connection", errors,
                                    relations=CONNECTION_RELATIONS)
        if out["connection"] is not None:
            _name_or_none(out["connection"], "integration_user", "connection", errors)
    if "value_maps" in data:
        out["value_maps"] = _records(data["value_maps"], VALUE_MAP_KEYS, ValueMap, "value_maps", "name", errors,
                                     relations=("entries",))
        for vm in out["value_maps"]:
            vm["entries"] = _records(vm["entries"], ENTRY_KEYS, ValueMapEntry, f"value_maps[{vm['name']}].entries",
                                     "erp_value", errors)
    if "mappings" in data:
        out["mappings"] = _records(data["mappings"], MAPPING_KEYS, IntegrationTableMapping, "mappings", "name",
                                   errors, relations=MAPPING_RELATIONS, required=("erp_model", "crm_model"))
        for m in out["mappings"]:
            path = f"mappings[{m['name']}]"
            _name_or_none(m, "parent", path, errors)
            if not isinstance(m["dependencies"], list) or not all(isinstance(d, str) for d in m["dependencies"]):
                errors.append((f"{path}.dependencies", "expected a list of mapping names"))
                m["dependencies"] = []
            m["dependencies"] = sorted(set(m["dependencies"]))
            if m["schedule"] is not None:
                m["schedule"] = _schedule(m["schedule"], f"{path}.schedule", errors)
            m["fields"] = _records(m["fields"], FIELD_KEYS, IntegrationFieldMapping, f"{path}.fields", None, errors,
                                   relations=("value_map",))
            for index, fm in enumerate(m["fields"]):
                _name_or_none(fm, "value_map", f"{path}.fields[{index}]", errors)
    if "templates" in data:
        out["templates"] = _records(data["templates"], TEMPLATE_KEYS, IntegrationTemplate, "templates", "name",
                                    errors, relations=("tasks",))
        for t in out["templates"]:
            t["tasks"] = _records(t["tasks"], TEMPLATE_TASK_KEYS, IntegrationTemplateTask,
                                  f"templates[{t['name']}].tasks", "name", errors)
    if "projects" in data:
        out["projects"] = _records(data["projects"], PROJECT_KEYS, IntegrationProject, "projects", "name", errors,
                                   relations=("template", "tasks"))
        for p in out["projects"]:
            path = f"projects[{p['name']}]"
            _name_or_none(p, "template", path, errors)
            p["tasks"] = _records(p["tasks"], PROJECT_TASK_KEYS, IntegrationProjectTask, f"{path}.tasks", "name",
                                  errors, relations=("table_mapping", "defaults"))
            for t in p["tasks"]:
                task_path = f"{path}.tasks[{t['name']}]"
                if not isinstance(t["table_mapping"], str) or not t["table_mapping"]:
                    errors.append((f"{task_path}.table_mapping", "required: the name of the task's table mapping"))
                t["defaults"] = _records(t["defaults"], DEFAULT_KEYS, IntegrationProjectTaskDefault,
                                         f"{task_path}.defaults", "erp_field", errors)
    if errors:
        raise ConfigurationInvalid(errors)
    return out


def _schedule(raw, path, errors):
    if not isinstance(raw, dict) or set(raw) - set(SCHEDULE_KEYS):
        errors.append((path, "expected null or {every_minutes: N, enabled: true|false}"))
        return None
    every, enabled = raw.get("every_minutes", 30), raw.get("enabled", True)
    if not isinstance(every, int) or isinstance(every, bool) or not 1 <= every <= 1440:
        errors.append((f"{path}.every_minutes", "expected a whole number of minutes from 1 to 1440"))
    if not isinstance(enabled, bool):
        errors.append((f"{path}.enabled", "expected true or false"))
    return {"every_minutes": every, "enabled": enabled}


# -- diff -------------------------------------------------------------------------------------------------------------
def _field_label(fm):
    return f"{fm.get('erp_field') or '(constant)'} ↔ {fm.get('crm_field') or '(constant)'}"


_LABELS = {"value_maps": "name", "entries": "erp_value", "mappings": "name", "fields": _field_label,
           "templates": "name", "tasks": "name", "projects": "name", "defaults": "erp_field"}


def configuration_diff(*, before, after):
    """The changes from ``before`` to ``after`` (both configuration data): records added and removed, keys changed,
    field by field, in the file's order."""
    changes = []
    for section in SECTIONS:
        if section == "connection":
            if section in before or section in after:
                _diff_record("connection", before.get(section) or {}, after.get(section) or {}, changes)
        elif section in before or section in after:
            _diff_list(section, before.get(section, []), after.get(section, []), _LABELS[section], changes)
    return changes


def _keyed(items, label):
    """``{name: item}`` in order; unnamed records (field mappings) are named by their label and occurrence."""
    rows, seen = {}, {}
    for item in items:
        name = label(item) if callable(label) else item[label]
        seen[name] = seen.get(name, 0) + 1
        rows[name if seen[name] == 1 else f"{name} #{seen[name]}"] = item
    return rows


def _diff_list(path, old_items, new_items, label, changes):
    old, new = _keyed(old_items, label), _keyed(new_items, label)
    for name in old:
        if name not in new:
            changes.append(Change("removed", f"{path}[{name}]"))
    for name, item in new.items():
        if name not in old:
            changes.append(Change("added", f"{path}[{name}]"))
        else:
            _diff_record(f"{path}[{name}]", old[name], item, changes)
    kept_old = [name for name in old if name in new]
    kept_new = [name for name in new if name in old]
    if kept_old != kept_new and callable(label):  # the order of field mappings is theirs; named records are sorted
        changes.append(Change("changed", path, "order", kept_old, kept_new))


def _diff_record(path, old, new, changes):
    for key in [*old, *(k for k in new if k not in old)]:
        old_value, new_value = old.get(key), new.get(key)
        if key in _LABELS and isinstance(old_value, list) and isinstance(new_value, list):
            _diff_list(f"{path}.{key}", old_value, new_value, _LABELS[key], changes)
        elif old_value != new_value:
            changes.append(Change("changed", path, key, old_value, new_value))


# -- apply ------------------------------------------------------------------------------------------------------------
class _Rollback(Exception):
    pass


def configuration_import(*, data=None, text=None, fmt="json", dry_run=False):
    """Validate the configuration (``data``, or ``text`` in ``fmt``), work out its difference from the current one
    and, unless ``dry_run``, apply it in one transaction. Returns a ConfigurationOutcome with the changes; an invalid
    file raises ConfigurationInvalid (nothing changed). Couplings, jobs and logs are never touched."""
    if data is None:
        data = configuration_parse(text or "", fmt=fmt)
    wanted = configuration_normalize(data)
    before = configuration_data()
    try:
        with transaction.atomic():
            _apply(wanted)
            changes = configuration_diff(before=before, after=configuration_data())
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    except IntegrityError as exc:  # a rule only the database knows (two tasks on one mapping, …)
        raise ConfigurationInvalid([("", f"The database refused the configuration: {exc}")]) from None
    except DatabaseError as exc:
        raise ConfigurationInvalid([("", f"The database refused the configuration: {exc}")]) from None
    outcome = ConfigurationOutcome("Check configuration (dry run)" if dry_run else "Import configuration",
                                   changes=changes, dry_run=dry_run)
    outcome.add(DONE, len(changes))
    counts = outcome.counts_by_action()
    outcome.notes.append(f"{counts['added']} added, {counts['changed']} changed, {counts['removed']} removed"
                         + ("; nothing was written." if dry_run else "."))
    return outcome


def _errors_of(exc, path, rename=None):
    """``(path.key, message)`` pairs of a model ValidationError, its field names turned into the file's keys."""
    rename = rename or {}
    pairs = []
    for name, messages in exc.message_dict.items():
        key = rename.get(name, name)
        where = path if name == "__all__" else f"{path}.{key}"
        pairs += [(where, message) for message in messages]
    return pairs


def _check(obj, path, errors, *, exclude=(), rename=None, full=False):
    try:
        obj.full_clean(exclude=list(exclude)) if full else obj.clean_fields(exclude=list(exclude))
    except ValidationError as exc:
        errors += _errors_of(exc, path, rename)
        return False
    return True


def _raise_if(errors):
    if errors:
        raise ConfigurationInvalid(errors)


def _apply(wanted):
    partial = wanted["partial"]
    errors = []
    if wanted.get("connection") is not None:
        _connection_apply(wanted["connection"], errors)
    value_maps = _value_maps_apply(wanted.get("value_maps"), errors) if "value_maps" in wanted else None
    _raise_if(errors)
    if value_maps is None:
        value_maps = {vm.name: vm for vm in ValueMap.objects.all()}
    mappings = _mappings_apply(wanted.get("mappings"), value_maps, partial, errors) if "mappings" in wanted else None
    _raise_if(errors)
    if "templates" in wanted:
        _templates_apply(wanted["templates"], partial, errors)
    if "projects" in wanted:
        _projects_apply(wanted["projects"], partial, errors)
    _raise_if(errors)
    if not partial:
        _remove_missing(wanted, errors)
    _raise_if(errors)
    if mappings is not None:
        _mappings_validate(wanted["mappings"], mappings, errors)
    _raise_if(errors)


def _connection_apply(row, errors):
    from crm.models import SystemUser

    setup = ConnectionSetup.get_solo()
    for key in CONNECTION_KEYS:
        if key != "integration_user":
            setattr(setup, key, row[key])
    setup.integration_user = None
    if row["integration_user"]:
        users = list(SystemUser.objects.filter(fullname=row["integration_user"])[:2])
        if len(users) != 1:
            errors.append(("connection.integration_user",
                           f"{'no' if not users else 'more than one'} Sales user named {row['integration_user']!r}"))
            return
        setup.integration_user = users[0]
    if _check(setup, "connection", errors, full=True):
        setup.save()


def _value_maps_apply(rows, errors):
    existing = {vm.name: vm for vm in ValueMap.objects.prefetch_related("entries")}
    for row in rows:
        path = f"value_maps[{row['name']}]"
        vm = existing.get(row["name"]) or ValueMap(name=row["name"])
        vm.description = row["description"]
        if not _check(vm, path, errors, exclude=["name"] if vm.pk else ()):
            continue
        vm.save()
        existing[vm.name] = vm
        entries = {e.erp_value: e for e in vm.entries.all()} if vm.pk else {}
        vm.entries.exclude(erp_value__in=[e["erp_value"] for e in row["entries"]]).delete()
        for entry in row["entries"]:
            obj = entries.get(entry["erp_value"]) or ValueMapEntry(value_map=vm, erp_value=entry["erp_value"])
            if obj.crm_value == entry["crm_value"] and obj.pk:
                continue
            obj.crm_value = entry["crm_value"]
            if _check(obj, f"{path}.entries[{entry['erp_value']}]", errors, exclude=["value_map"]):
                obj.save()
    return existing


MAPPING_SCALARS = [k for k in MAPPING_KEYS if k not in MAPPING_RELATIONS]


def _mappings_apply(rows, value_maps, partial, errors):
    """Write the table mappings, then their parents, dependencies, field mappings and schedules."""
    existing = {m.name: m for m in IntegrationTableMapping.objects.all()}
    written = {}
    for row in rows:
        path = f"mappings[{row['name']}]"
        mapping = existing.get(row["name"]) or IntegrationTableMapping()
        for key in MAPPING_SCALARS:
            setattr(mapping, key, row[key])
        if _check(mapping, path, errors, exclude=["name"] if mapping.pk else ()):
            mapping.save()
            written[mapping.name] = mapping
    if errors:
        return written
    # Names resolve within the file, and for a partial file within the database too.
    known = {**(existing if partial else {}), **written}
    for row in rows:
        path, mapping = f"mappings[{row['name']}]", written[row["name"]]
        parent = known.get(row["parent"]) if row["parent"] else None
        if row["parent"] and parent is None:
            errors.append((f"{path}.parent", f"no mapping named {row['parent']!r} in the file"))
        elif mapping.parent_id != (parent.pk if parent else None):
            mapping.parent = parent
            mapping.save(update_fields=["parent"])
        missing = [name for name in row["dependencies"] if name not in known]
        if missing:
            errors.append((f"{path}.dependencies", f"no mapping named {', '.join(map(repr, missing))} in the file"))
        else:
            mapping.dependencies.set([known[name] for name in row["dependencies"]])
        _field_mappings_apply(mapping, row["fields"], value_maps, path, errors)
        if row["schedule"] is not None and row["parent"]:
            errors.append((f"{path}.schedule", "a child mapping is synchronised with its parent: no schedule"))
            continue
        _schedule_apply(mapping, row["schedule"])
    return written


def _field_mappings_apply(mapping, rows, value_maps, path, errors):
    """Replace the mapping's field mappings by the file's, in its order, when they differ."""
    if [_field_data(fm) for fm in mapping.field_mappings.select_related("value_map").order_by("id")] == rows:
        return
    objs = []
    for index, row in enumerate(rows):
        fm = IntegrationFieldMapping(table_mapping=mapping, **{k: row[k] for k in FIELD_KEYS if k != "value_map"})
        if row["value_map"]:
            fm.value_map = value_maps.get(row["value_map"])
            if fm.value_map is None:
                errors.append((f"{path}.fields[{index}].value_map", f"no value map named {row['value_map']!r}"))
                continue
        if _check(fm, f"{path}.fields[{index}]", errors, exclude=["table_mapping"]):
            objs.append(fm)
    mapping.field_mappings.all().delete()
    # bulk_create, as integration_setup writes them: the file states every direction as it is to be.
    IntegrationFieldMapping.objects.bulk_create(objs)


def _schedule_apply(mapping, schedule):
    from .schedules import schedule_for, schedules_create, schedules_delete

    current = schedule_for(mapping)
    if schedule is None:
        if current is not None:
            schedules_delete(mappings=[mapping])
        return
    every = current.interval.every if current is not None and current.interval_id else None
    if current is None or every != schedule["every_minutes"] or current.interval.period != "minutes":
        # (schedules_create makes minute intervals; one changed by hand to hours is made minutes again)
        schedules_create(mappings=[mapping], every_minutes=schedule["every_minutes"])
        current = schedule_for(mapping)
    if current is not None and current.enabled != schedule["enabled"]:
        current.enabled = schedule["enabled"]
        current.save()


def _mappings_validate(rows, mappings, errors):
    """The admin's rules over each mapping as written: the model's checks (tables, filters, options, parent chain,
    directions served), dependencies without cycles, and each field mapping's checks."""
    for row in rows:
        path, mapping = f"mappings[{row['name']}]", mappings[row["name"]]
        mapping.refresh_from_db()
        field_mappings = list(mapping.field_mappings.select_related("value_map").order_by("id"))
        mapping.check_field_mappings = True
        ok = _check(mapping, path, errors, full=True)
        try:
            dependencies_validate(mapping=mapping, dependencies=list(mapping.dependencies.all()))
            field_mappings_validate(mapping=mapping, field_mappings=field_mappings)
        except ValidationError as exc:
            errors += [e for e in _errors_of(exc, path) if e not in errors]
        if not ok:
            continue  # the field mappings are checked against valid tables only
        for index, fm in enumerate(field_mappings):
            _check(fm, f"{path}.fields[{index}]", errors, full=True, exclude=["table_mapping"])


def _templates_apply(rows, partial, errors):
    existing = {t.name: t for t in IntegrationTemplate.objects.all()}
    for row in rows:
        path = f"templates[{row['name']}]"
        template = existing.get(row["name"]) or IntegrationTemplate(name=row["name"])
        template.description, template.builtin = row["description"], row["builtin"]
        if not _check(template, path, errors, exclude=["name"] if template.pk else ()):
            continue
        template.save()
        tasks = {t.name: t for t in template.tasks.all()}
        template.tasks.exclude(name__in=[t["name"] for t in row["tasks"]]).delete()
        for task_row in row["tasks"]:
            task = tasks.get(task_row["name"]) or IntegrationTemplateTask(template=template, name=task_row["name"])
            for key in ("sequence", "prerequisites", "definition"):
                setattr(task, key, task_row[key])
            if _check(task, f"{path}.tasks[{task_row['name']}]", errors, full=True, exclude=["template"]):
                task.save()


def _projects_apply(rows, partial, errors):
    templates = {t.name: t for t in IntegrationTemplate.objects.all()}
    mappings = {m.name: m for m in IntegrationTableMapping.objects.all()}
    existing = {p.name: p for p in IntegrationProject.objects.all()}
    for row in rows:
        path = f"projects[{row['name']}]"
        project = existing.get(row["name"]) or IntegrationProject(name=row["name"])
        project.description = row["description"]
        project.template = templates.get(row["template"]) if row["template"] else None
        if row["template"] and project.template is None:
            errors.append((f"{path}.template", f"no template named {row['template']!r}"))
            continue
        if not _check(project, path, errors, exclude=["name"] if project.pk else ()):
            continue
        project.save()
        tasks = {t.name: t for t in project.tasks.all()}
        project.tasks.exclude(name__in=[t["name"] for t in row["tasks"]]).delete()
        for task_row in row["tasks"]:
            task_path = f"{path}.tasks[{task_row['name']}]"
            task = tasks.get(task_row["name"]) or IntegrationProjectTask(project=project, name=task_row["name"])
            task.sequence, task.prerequisites = task_row["sequence"], task_row["prerequisites"]
            task.table_mapping = mappings.get(task_row["table_mapping"])
            if task.table_mapping is None:
                errors.append((f"{task_path}.table_mapping", f"no mapping named {task_row['table_mapping']!r}"))
                continue
            if not _check(task, task_path, errors, exclude=["project", "table_mapping"]):
                continue
            task.save()
            defaults = {d.erp_field: d for d in task.defaults.all()}
            task.defaults.exclude(erp_field__in=[d["erp_field"] for d in task_row["defaults"]]).delete()
            for default_row in task_row["defaults"]:
                default = defaults.get(default_row["erp_field"]) or IntegrationProjectTaskDefault(task=task)
                for key in DEFAULT_KEYS:
                    setattr(default, key, default_row[key])
                if _check(default, f"{task_path}.defaults[{default_row['erp_field']}]", errors, full=True,
                          exclude=["task"]):
                    default.save()


def _remove_missing(wanted, errors):
    """A full file removes the records of its sections that it does not hold (projects before the mappings their
    tasks own, mappings before the value maps their field mappings use)."""
    if "projects" in wanted:
        IntegrationProject.objects.exclude(name__in=[p["name"] for p in wanted["projects"]]).delete()
    if "mappings" in wanted:
        gone = IntegrationTableMapping.objects.exclude(name__in=[m["name"] for m in wanted["mappings"]])
        owned = IntegrationProjectTask.objects.filter(table_mapping__in=gone).select_related("project",
                                                                                             "table_mapping")
        for task in owned:
            errors.append((f"mappings[{task.table_mapping.name}]",
                           f"is the table mapping of task {task.name!r} of project {task.project.name!r}: "
                           "keep it, or remove the project too"))
        if errors:
            return
        from .schedules import schedules_delete

        schedules_delete(mappings=list(gone))
        gone.delete()
    if "value_maps" in wanted:
        gone = ValueMap.objects.exclude(name__in=[vm["name"] for vm in wanted["value_maps"]])
        used = (IntegrationFieldMapping.objects.filter(value_map__in=gone)
                .values_list("value_map__name", "table_mapping__name").distinct())
        for value_map, mapping in used:
            errors.append((f"value_maps[{value_map}]", f"is used by a field mapping of {mapping}: keep it"))
        if not errors:
            gone.delete()
    if "templates" in wanted:
        IntegrationTemplate.objects.exclude(name__in=[t["name"] for t in wanted["templates"]]).delete()
