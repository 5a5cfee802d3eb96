"""Diff two configurations, and apply one in one transaction checked with the admin's own rules."""


from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils.translation import gettext

from crm.models import SystemUser
from integration.background.schedules import schedule_for, schedules_create, schedules_delete
from integration.catalogue.validation import dependencies_validate, field_mappings_validate
from integration.configuration.export import _field_data, configuration_data
from integration.configuration.format import (
    CONNECTION_KEYS,
    DEFAULT_KEYS,
    FIELD_KEYS,
    MAPPING_KEYS,
    MAPPING_RELATIONS,
    SECTIONS,
    Change,
    ConfigurationInvalid,
    ConfigurationOutcome,
    capped_errors,
)
from integration.configuration.parse import configuration_depth_check, configuration_normalize, configuration_parse
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
from p2c.outcomes import DONE


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


def configuration_import(*, data=None, text=None, fmt="json", dry_run=False, on_applied=None):
    """Validate the configuration (``data``, or ``text`` in ``fmt``), work out its difference from the current one
    and, unless ``dry_run``, apply it in one transaction. Returns a ConfigurationOutcome with the changes; an invalid
    file raises ConfigurationInvalid (nothing changed). Couplings, jobs and logs are never touched.
    ``on_applied(before=, after=, changes=)`` is called in that transaction once applied (the door's history:
    integration.configuration.history.history_recorder)."""
    if data is None:
        data = configuration_parse(text or "", fmt=fmt)
    else:
        configuration_depth_check(data)
    wanted = configuration_normalize(data)
    before = configuration_data()
    try:
        with transaction.atomic():
            _apply(wanted)
            after = configuration_data()
            changes = configuration_diff(before=before, after=after)
            if dry_run:
                raise _Rollback
            if on_applied is not None:
                on_applied(before=before, after=after, changes=changes)
    except _Rollback:
        pass
    except IntegrityError as exc:  # a rule only the database knows (two tasks on one mapping, …)
        raise ConfigurationInvalid(
            [("", gettext("The database refused the configuration: %(exc)s") % {"exc": exc})]
        ) from None
    except DatabaseError as exc:
        raise ConfigurationInvalid(
            [("", gettext("The database refused the configuration: %(exc)s") % {"exc": exc})]
        ) from None
    outcome = ConfigurationOutcome(
        gettext("Check configuration (dry run)") if dry_run else gettext("Import configuration"),
        changes=changes,
        dry_run=dry_run,
    )
    outcome.add(DONE, len(changes))
    counts = outcome.counts_by_action()
    outcome.notes.append(
        gettext("%(added)s added, %(changed)s changed, %(removed)s removed")
        % {"added": counts["added"], "changed": counts["changed"], "removed": counts["removed"]}
        + (gettext("; nothing was written.") if dry_run else ".")
    )
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
    errors = capped_errors()
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
    setup = ConnectionSetup.get_solo()
    for key in CONNECTION_KEYS:
        if key != "integration_user":
            setattr(setup, key, row[key])
    setup.integration_user = None
    if row["integration_user"]:
        users = list(SystemUser.objects.filter(fullname=row["integration_user"])[:2])
        if len(users) != 1:
            errors.append(
                (
                    "connection.integration_user",
                    (gettext("no Sales user named %(name)s") if not users
                     else gettext("more than one Sales user named %(name)s")) % {"name": repr(row["integration_user"])},
                )
            )
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
            errors.append(
                (f"{path}.parent", gettext("no mapping named %(parent)s in the file") % {"parent": repr(row["parent"])})
            )
        elif mapping.parent_id != (parent.pk if parent else None):
            mapping.parent = parent
            mapping.save(update_fields=["parent"])
        missing = [name for name in row["dependencies"] if name not in known]
        if missing:
            errors.append(
                (
                    f"{path}.dependencies",
                    gettext("no mapping named %(map)s in the file") % {"map": ", ".join(map(repr, missing))},
                )
            )
        else:
            mapping.dependencies.set([known[name] for name in row["dependencies"]])
        _field_mappings_apply(mapping, row["fields"], value_maps, path, errors)
        if row["schedule"] is not None and row["parent"]:
            errors.append((f"{path}.schedule", gettext("a child mapping is synchronised with its parent: no schedule")))
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
                errors.append(
                    (
                        f"{path}.fields[{index}].value_map",
                        gettext("no value map named %(value_map)s") % {"value_map": repr(row["value_map"])},
                    )
                )
                continue
        if _check(fm, f"{path}.fields[{index}]", errors, exclude=["table_mapping"]):
            objs.append(fm)
    mapping.field_mappings.all().delete()
    # bulk_create, as integration_setup writes them: the file states every direction as it is to be.
    IntegrationFieldMapping.objects.bulk_create(objs)


def _schedule_apply(mapping, schedule):
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
            errors.append(
                (f"{path}.template", gettext("no template named %(template)s") % {"template": repr(row["template"])})
            )
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
                errors.append(
                    (
                        f"{task_path}.table_mapping",
                        gettext("no mapping named %(table_mapping)s")
                        % {"table_mapping": repr(task_row["table_mapping"])},
                    )
                )
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
            errors.append(
                (
                    f"mappings[{task.table_mapping.name}]",
                    gettext(
                        "is the table mapping of task %(task)s of project %(project)s: keep it, or remove the project too"
                    )
                    % {"task": repr(task.name), "project": repr(task.project.name)},
                )
            )
        if errors:
            return
        schedules_delete(mappings=list(gone))
        gone.delete()
    if "value_maps" in wanted:
        gone = ValueMap.objects.exclude(name__in=[vm["name"] for vm in wanted["value_maps"]])
        used = (IntegrationFieldMapping.objects.filter(value_map__in=gone)
                .values_list("value_map__name", "table_mapping__name").distinct())
        for value_map, mapping in used:
            errors.append(
                (
                    f"value_maps[{value_map}]",
                    gettext("is used by a field mapping of %(mapping)s: keep it") % {"mapping": mapping},
                )
            )
        if not errors:
            gone.delete()
    if "templates" in wanted:
        IntegrationTemplate.objects.exclude(name__in=[t["name"] for t in wanted["templates"]]).delete()
