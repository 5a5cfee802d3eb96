"""Parse a configuration file and normalise its shape (the keys, their types, defaults filled in)."""

import json

import yaml
from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from integration.configuration.export import _plain
from integration.configuration.format import (
    CONNECTION_KEYS,
    CONNECTION_RELATIONS,
    DEFAULT_KEYS,
    ENTRY_KEYS,
    FIELD_KEYS,
    FORMAT,
    FORMATS,
    LIST_RELATIONS,
    MAPPING_KEYS,
    MAPPING_RELATIONS,
    PROJECT_KEYS,
    PROJECT_TASK_KEYS,
    SCHEDULE_KEYS,
    SECTIONS,
    TEMPLATE_KEYS,
    TEMPLATE_TASK_KEYS,
    VALUE_MAP_KEYS,
    VERSION,
    ConfigurationInvalid,
    _show,
    capped_errors,
)
from integration.mappings import definitions
from integration.models import (
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
from p2c.limits import size_check
from p2c.outcomes import OperationRefused, Refusal
from p2c.text import NUL, SURROGATE, first_surrogate, shown, text_fault


# -- parse ------------------------------------------------------------------------------------------------------------
def format_of(filename, text=""):
    """``yaml`` for a .yaml/.yml file, ``json`` for a .json one; otherwise from the text (JSON starts with ``{``)."""
    name = (filename or "").lower()
    if name.endswith((".yaml", ".yml")):
        return "yaml"
    if name.endswith(".json"):
        return "json"
    return "json" if text.lstrip().startswith("{") else "yaml"


MAX_DEPTH = 20  # a configuration nests about 5 levels (mappings, a mapping, its fields, a field, a filter)


def configuration_parse(text, *, fmt):
    """The file's data; a syntax error raises ConfigurationInvalid naming its line and column, and so does data
    nested deeper than `MAX_DEPTH` (refused, not left to end in a RecursionError of the parser or of what follows)
    or holding text that cannot be stored (`configuration_depth_check`). A text larger than
    P2C_CONFIGURATION_MAX_BYTES is refused unread (413), a YAML one of more nodes or aliases than
    P2C_CONFIGURATION_MAX_NODES / _ALIASES as soon as the reader counts past them."""
    if fmt not in FORMATS:
        raise OperationRefused(
            gettext("Unknown format %(fmt)s: use json or yaml.") % {"fmt": repr(fmt)}, code=Refusal.UNKNOWN_FORMAT, status=400
        )
    # len(text) is at most its UTF-8 size: only a text near the limit is measured in bytes.
    if len(text) * 4 > settings.P2C_CONFIGURATION_MAX_BYTES:
        size_check(len(text.encode("utf-8", "surrogatepass")), setting="P2C_CONFIGURATION_MAX_BYTES")
    try:
        data = _parse(text, fmt=fmt)
    except RecursionError:  # the parsers recurse once per level: far deeper than any configuration
        raise ConfigurationInvalid([("", _too_deep())]) from None
    configuration_depth_check(data)
    return data


def configuration_depth_check(data):
    """Refuse (ConfigurationInvalid) data nested deeper than `MAX_DEPTH`, naming the key path where, and text that
    cannot be stored (a NUL, a lone surrogate), naming each key that holds it
    (docs/decisions.md#bounded-and-total-doors): checked once here, for every door, before anything reads the data
    further."""
    where = _too_deep_at(data)
    if where is not None:
        raise ConfigurationInvalid([(where, _too_deep())])
    errors = capped_errors()
    for path, problem in _text_problems(data):
        errors.append((path, problem))
    if errors:
        raise ConfigurationInvalid(errors)


def _too_deep():
    return _("The file nests lists or objects more than %(max)s levels deep; a configuration is never that deep.") % {
        "max": MAX_DEPTH}


def _shown(key):
    """A key as a path shows it: printable whatever it holds (a lone surrogate or a NUL as its escape)."""
    return shown(key)


def _too_deep_at(data):
    """The key path of the first value nested deeper than `MAX_DEPTH`, or None (walked without recursion)."""
    stack = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            return path or "(top)"
        if isinstance(value, dict):
            stack.extend((v, f"{path}.{_shown(k)}" if path else _shown(k), depth + 1) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value))
    return None


def _text_problem(text):
    """What is wrong with ``text`` for storing it (p2c.text, the check of every door), or None."""
    fault = text_fault(text)
    if fault == NUL:
        return _("holds a NUL character (\\u0000), which text cannot hold")
    if fault == SURROGATE:
        return _("holds a lone surrogate (%(code)s), which is not text: was the file written as UTF-8?") % {
            "code": first_surrogate(text)}
    return None


def _text_problems(data):
    """``(key path, problem)`` of every key and text value that cannot be stored, in the file's order."""
    stack = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            problem = _text_problem(value)
            if problem:
                yield path or "(top)", problem
        elif isinstance(value, dict):
            items = []
            for k, v in value.items():
                where = f"{path}.{_shown(k)}" if path else _shown(k)
                problem = _text_problem(k) if isinstance(k, str) else None
                if problem:
                    yield where, problem
                items.append((v, where))
            stack.extend(reversed(items))
        elif isinstance(value, list):
            stack.extend(reversed([(v, f"{path}[{_name_in_list(v, i)}]") for i, v in enumerate(value)]))


def _name_in_list(item, index):
    """How a key path names a record of a list, as the import's own errors do: by its name (its ERP value, its ERP
    field) when that is clean text, else by its place."""
    if isinstance(item, dict):
        for label in ("name", "erp_value", "erp_field"):
            name = item.get(label)
            if isinstance(name, str) and name and _text_problem(name) is None:
                return name
    return index


class _LimitReached(Exception):
    def __init__(self, setting):
        self.setting = setting


class _CountingLoader(yaml.SafeLoader):
    """PyYAML's safe loader counting the nodes as it composes them, an alias as every node of what it names (so an
    alias bomb is refused after a few thousand nodes read, never expanded), and the aliases themselves."""

    def __init__(self, stream):
        super().__init__(stream)
        self.nodes = self.aliases = 0
        self.anchor_sizes = {}
        self.max_nodes = settings.P2C_CONFIGURATION_MAX_NODES
        self.max_aliases = settings.P2C_CONFIGURATION_MAX_ALIASES

    def _count(self, nodes):
        self.nodes += nodes
        if self.nodes > self.max_nodes:
            raise _LimitReached("P2C_CONFIGURATION_MAX_NODES")

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > self.max_aliases:
                raise _LimitReached("P2C_CONFIGURATION_MAX_ALIASES")
            self._count(self.anchor_sizes.get(event.anchor, 1))
            return super().compose_node(parent, index)
        start = self.nodes
        self._count(1)
        node = super().compose_node(parent, index)
        if event.anchor is not None:
            self.anchor_sizes[event.anchor] = self.nodes - start
        return node


def _limit_reached(setting):
    limits = {
        "P2C_CONFIGURATION_MAX_NODES": _("The file holds more than %(limit)s YAML nodes (each alias counted as what "
                                         "it names), the limit set by %(setting)s; reading stopped and nothing was "
                                         "changed."),
        "P2C_CONFIGURATION_MAX_ALIASES": _("The file holds more than %(limit)s YAML aliases, the limit set by "
                                           "%(setting)s; reading stopped and nothing was changed."),
    }
    return limits[setting] % {"limit": f"{getattr(settings, setting):,}", "setting": setting}


def _parse(text, *, fmt):
    if fmt == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigurationInvalid([(f"line {exc.lineno}, column {exc.colno}", exc.msg)]) from None
    loader = _CountingLoader(text)
    try:
        return loader.get_single_data()
    except _LimitReached as exc:
        raise ConfigurationInvalid([("", _limit_reached(exc.setting))]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigurationInvalid([(where, " ".join(str(p) for p in (exc.context, exc.problem) if p))]) from None
    except yaml.YAMLError as exc:
        raise ConfigurationInvalid([("", str(exc))]) from None
    finally:
        loader.dispose()


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
        return None if isinstance(value, bool) else gettext("expected true or false")
    if isinstance(model_field, (models.IntegerField,)):
        return None if isinstance(value, int) and not isinstance(value, bool) else gettext("expected a whole number")
    if isinstance(model_field, models.JSONField):
        expected = type(model_field.get_default())
        return None if isinstance(value, expected) else f"expected a {'list' if expected is list else 'mapping'}"
    if isinstance(model_field, (models.CharField, models.TextField)):
        return None if isinstance(value, str) else gettext("expected text")
    return None


def _record(raw, keys, model, path, errors, *, relations=(), required=()):
    """``raw`` as a dict with every key of ``keys`` (defaults filled in); unknown keys and wrong types are errors."""
    if not isinstance(raw, dict):
        errors.append((path, gettext("expected a mapping of keys to values")))
        return None
    for key in raw:
        if key not in keys:
            errors.append(
                (f"{path}.{key}", gettext("unknown key (expected one of: %(keys)s)") % {"keys": ", ".join(keys)})
            )
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
        errors.append((f"{path}.{key}", gettext("expected a name or null, got %(show)s") % {"show": _show(row[key])}))


def _records(raw, keys, model, path, label, errors, *, relations=(), required=()):
    """A list of records, each named in paths by ``label`` (a key, or None: by position); names are unique."""
    if not isinstance(raw, list):  # null too: an empty YAML key must not mean "remove them all"
        errors.append((path, gettext("expected a list (an empty one is [])")))
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
                errors.append((item_path, gettext("appears twice (a %(label)s names one record)") % {"label": label}))
            seen.add(row[label])
        rows.append(row)
    return rows


def _rules_modules_as_keys(raw):
    """The mappings of a file written before mappings named their declared mapping by key: its ``rules_module``
    becomes ``definition_key`` (the keys are the former rules modules' names), and a default mapping that had none
    gets its definition's key by its name and tables, as the database's were (migration 0039)."""
    if not isinstance(raw, list):
        return raw
    defaults = {(d.name, d.erp, d.crm): d.key for d in definitions() if d.seeded}
    rows = []
    for item in raw:
        if isinstance(item, dict) and "rules_module" in item and "definition_key" not in item:
            item = {**item}
            key = item.pop("rules_module")
            if key == "" and not item.get("user_defined"):
                key = defaults.get((item.get("name"), item.get("erp_model"), item.get("crm_model")), "")
            item["definition_key"] = key
        rows.append(item)
    return rows


def configuration_normalize(data):
    """The file's data in the export's shape, every key present (defaults for those left out); raises
    ConfigurationInvalid naming every key at fault (the first P2C_CONFIGURATION_MAX_ERRORS: then it stops)."""
    errors = capped_errors()
    if not isinstance(data, dict):
        raise ConfigurationInvalid([("", gettext("expected a mapping with the keys format, version, ")
                                         + ", ".join(SECTIONS))])
    if data.get("format") != FORMAT:
        errors.append(
            ("format", gettext("expected %(format)s (a file written by integration_export)") % {"format": repr(FORMAT)})
        )
    if data.get("version") != VERSION or isinstance(data.get("version"), bool):  # true == 1 in Python
        errors.append(("version", f"expected {VERSION}"))
    if not isinstance(data.get("partial", False), bool):
        errors.append(("partial", gettext("expected true or false")))
    for key in data:
        if key not in ("format", "version", "partial", *SECTIONS):
            errors.append(
                (
                    key,
                    gettext("unknown key (expected format, version, partial, %(sections)s)")
                    % {"sections": ", ".join(SECTIONS)},
                )
            )
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
        out["mappings"] = _records(_rules_modules_as_keys(data["mappings"]), MAPPING_KEYS, IntegrationTableMapping, "mappings", "name",
                                   errors, relations=MAPPING_RELATIONS, required=("erp_model", "crm_model"))
        for m in out["mappings"]:
            path = f"mappings[{m['name']}]"
            _name_or_none(m, "parent", path, errors)
            if not isinstance(m["dependencies"], list) or not all(isinstance(d, str) for d in m["dependencies"]):
                errors.append((f"{path}.dependencies", gettext("expected a list of mapping names")))
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
                    errors.append(
                        (f"{task_path}.table_mapping", gettext("required: the name of the task's table mapping"))
                    )
                t["defaults"] = _records(t["defaults"], DEFAULT_KEYS, IntegrationProjectTaskDefault,
                                         f"{task_path}.defaults", "erp_field", errors)
    if errors:
        raise ConfigurationInvalid(errors)
    return out


def _schedule(raw, path, errors):
    if not isinstance(raw, dict) or set(raw) - set(SCHEDULE_KEYS):
        errors.append((path, gettext("expected null or {every_minutes: N, enabled: true|false}")))
        return None
    every, enabled = raw.get("every_minutes", 30), raw.get("enabled", True)
    if not isinstance(every, int) or isinstance(every, bool) or not 1 <= every <= 1440:
        errors.append((f"{path}.every_minutes", gettext("expected a whole number of minutes from 1 to 1440")))
    if not isinstance(enabled, bool):
        errors.append((f"{path}.enabled", gettext("expected true or false")))
    return {"every_minutes": every, "enabled": enabled}
