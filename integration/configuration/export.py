"""Export: the configuration as plain data in a stable order, dumped as JSON or YAML."""

import json

import yaml
from django.utils.translation import gettext
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from integration.background.schedules import NAME_PREFIX
from integration.configuration.format import (
    CONNECTION_KEYS,
    CONNECTION_RELATIONS,
    FIELD_KEYS,
    FORMAT,
    FORMATS,
    MAPPING_KEYS,
    VERSION,
)
from integration.models import (
    ConnectionSetup,
    IntegrationFieldMapping,
    IntegrationProject,
    IntegrationTableMapping,
    IntegrationTemplate,
    ValueMap,
)
from p2c.outcomes import OperationRefused, Refusal


# -- export -----------------------------------------------------------------------------------------------------------
def configuration_data(*, mappings=None):
    """The configuration as plain data (dicts and lists in the file's order). ``mappings`` (names) makes a partial
    export of those table mappings and the value maps they use; an unknown name is refused (400)."""
    mapping_rows = IntegrationTableMapping.objects.select_related("parent").prefetch_related("dependencies")
    if mappings:
        names = sorted(set(mappings))
        mapping_rows = mapping_rows.filter(name__in=names)
        unknown = sorted(set(names) - set(mapping_rows.values_list("name", flat=True)))
        if unknown:
            raise OperationRefused(
                gettext("No table mapping named %(unknown)s.") % {"unknown": ", ".join(unknown)},
                code=Refusal.UNKNOWN_MAPPING,
                status=400,
            )
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
    (integration.background.schedules) that run on an interval."""
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
        raise OperationRefused(
            gettext("Unknown format %(fmt)s: use json or yaml.") % {"fmt": repr(fmt)}, code=Refusal.UNKNOWN_FORMAT, status=400
        )
    if fmt == "yaml":
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
