"""The configuration's history: every change, from whichever door, kept with who, when and the difference key by key.

The difference is the one ``integration_import`` shows (`configuration_diff` of the configuration as data, before
and after), so the history speaks of mappings, field mappings, value maps, templates and projects by their names,
whatever table holds them. A record added or removed is kept with each of its keys. The doors record through
`configuration_recorded` (a block: the configuration read before and after it) or `configuration_changes_record`
(the import, which has both already).
"""

import csv
import io
import json
import re
import uuid
from contextlib import contextmanager

from django.utils import timezone
from django.utils.translation import gettext_noop

from integration.configuration.apply import _LABELS, _diff_list, _diff_record, _keyed, configuration_diff
from integration.configuration.export import configuration_data
from integration.configuration.format import Change
from integration.models import ConfigurationChange, ConfigurationChangeSet
from p2c.said import Joined, counted, said, said_data

SEGMENT = re.compile(r"(?:^|\.)(\w+)\[(.*?)\](?=\.|$)")
EXPORT_COLUMNS = ("at", "username", "door", "action", "path", "key", "old", "new")


def _item_at(data, path, keyed=None):
    """The record at ``path`` (``mappings[CUSTOMER].fields[name ↔ name]``) in configuration ``data``, or None.
    ``keyed``: each list's records by name, kept between calls (each list is indexed once, not once per record
    looked up: an import's history is linear in what it changed)."""
    keyed = {} if keyed is None else keyed
    item = data
    for section, name in SEGMENT.findall(path):
        rows = item.get(section) if isinstance(item, dict) else None
        if not isinstance(rows, list) or section not in _LABELS:
            return None
        if id(rows) not in keyed:
            keyed[id(rows)] = (rows, _keyed(rows, _LABELS[section]))  # (rows: kept alive, so its id stays its own)
        item = keyed[id(rows)][1].get(name)
        if item is None:
            return None
    return item if item is not data else None


def _expanded(changes, before, after, keyed=None):
    """``changes`` with each record added or removed followed by its keys (and its own records', recursively)."""
    keyed = {} if keyed is None else keyed
    result = []
    for change in changes:
        result.append(change)
        if change.action not in ("added", "removed"):
            continue
        item = _item_at(after if change.action == "added" else before, change.path, keyed)
        if not isinstance(item, dict):
            continue
        inner = []
        old, new = ({}, item) if change.action == "added" else (item, {})
        for key in item:
            if key in _LABELS and isinstance(item[key], list):
                _diff_list(f"{change.path}.{key}", old.get(key, []), new.get(key, []), _LABELS[key], inner)
            else:
                _diff_record(change.path, {key: old.get(key)}, {key: new.get(key)}, inner)
        result.extend(_expanded(inner, before, after, keyed))
    return result


def _mapping_name(path):
    match = re.match(r"mappings\[(.*?)\](?=\.|$)", path)
    return match.group(1)[:30] if match else ""


HISTORY_CHUNK = 2000  # rows built and written at a time: memory bounded however large the import


def configuration_changes_record(*, before, after, user=None, door, changes=None):
    """Keep the differences from ``before`` to ``after`` (configuration data; ``changes``: their
    `configuration_diff`, when the caller has it) as one batch by ``user`` through ``door``; return how many rows.
    Linear in what changed: each list is indexed once (`_item_at`) and the rows are written `HISTORY_CHUNK` at a
    time."""
    changes = configuration_diff(before=before, after=after) if changes is None else changes
    if not changes:
        return 0
    batch, now = uuid.uuid4(), timezone.now()
    user = user if getattr(user, "is_authenticated", False) else None
    username = user.get_username() if user else ""
    expanded = _expanded(changes, before, after)
    for start in range(0, len(expanded), HISTORY_CHUNK):
        ConfigurationChange.objects.bulk_create([
            ConfigurationChange(batch=batch, at=now, user=user, username=username, door=door,
                                action=change.action, path=change.path[:500], key=change.key[:100],
                                old=_plain(change.old), new=_plain(change.new),
                                mapping_name=_mapping_name(change.path))
            for change in expanded[start:start + HISTORY_CHUNK]
        ])
    ConfigurationChangeSet.objects.create(
        batch=batch, at=now, user=user, username=username, door=door, changes=len(expanded),
        summary_data=said_data(change_set_summary(changes, door=door)))
    return len(expanded)


def _records_said(section, action, count):
    """``count`` records of ``section`` added, changed, removed or reset, as what it means (each sentence written
    out, so that makemessages finds it)."""
    if section == "mappings":
        if action == "reset":
            return counted("%(count)s table mapping reset to its defaults",
                           "%(count)s table mappings reset to their defaults", count=count)
        if action == "added":
            return counted("%(count)s table mapping added", "%(count)s table mappings added", count=count)
        if action == "removed":
            return counted("%(count)s table mapping removed", "%(count)s table mappings removed", count=count)
        return counted("%(count)s table mapping changed", "%(count)s table mappings changed", count=count)
    if section == "value_maps":
        if action == "added":
            return counted("%(count)s value map added", "%(count)s value maps added", count=count)
        if action == "removed":
            return counted("%(count)s value map removed", "%(count)s value maps removed", count=count)
        return counted("%(count)s value map changed", "%(count)s value maps changed", count=count)
    return counted("%(count)s other record changed", "%(count)s other records changed", count=count)


def change_set_summary(changes, *, door=None):
    """The one-line summary of ``changes`` (their `configuration_diff`, or the rows of a set), as what it means:
    the connection enabled or disabled first (what matters most), then its other settings, then how many table
    mappings and value maps were added, changed or removed (the assisted set-up's: reset to their defaults), then
    the rest. Records are counted once, whatever number of their keys changed."""
    parts = []
    enabled = next((c for c in changes if c.path == "connection" and c.key == "is_enabled"
                    and c.action == "changed"), None)
    if enabled is not None:
        parts.append(said(gettext_noop("Connection enabled")) if enabled.new else
                     said(gettext_noop("Connection disabled")))
    settings = {c.key for c in changes if c.path == "connection" and c.key and c.key != "is_enabled"}
    if settings:
        parts.append(counted("%(count)s connection setting changed", "%(count)s connection settings changed",
                             count=len(settings)))
    records = {}  # (section, name) -> added / removed / changed
    for change in changes:
        match = RECORD.match(change.path)
        if not match:
            continue
        key = match.groups()
        if change.path == match.group(0) and change.action in ("added", "removed"):
            records[key] = change.action
        else:
            records.setdefault(key, "changed")
    by_kind = {}
    for (section, _name), action in records.items():
        if section not in ("mappings", "value_maps"):
            section, action = "other", "changed"
        elif door == ConfigurationChange.Door.WIZARD and section == "mappings":
            action = "reset"  # the assisted set-up writes the default mappings
        by_kind[(section, action)] = by_kind.get((section, action), 0) + 1
    parts += [_records_said(section, action, count) for (section, action), count in by_kind.items()]
    return Joined(tuple(parts), "; ") if parts else said(gettext_noop("No change"))


RECORD = re.compile(r"^(\w+)\[(.*?)\](?=\.|$)")


def _plain(value):
    """JSON-safe: what configuration_data holds is (names, numbers, booleans, lists, dicts). A name, a whole number,
    a boolean or None is already (most of an import's values: no JSON round trip for each)."""
    if value is None or type(value) in (str, int, bool):
        return value
    return json.loads(json.dumps(value, default=str))


def history_recorder(*, user=None, door):
    """What `configuration_import` calls once applied (``on_applied``): the changes kept as by ``user``/``door``."""
    def record(*, before, after, changes):
        configuration_changes_record(before=before, after=after, changes=changes, user=user, door=door)
    return record


@contextmanager
def configuration_recorded(*, user=None, door):
    """Record what the block changes in the configuration, by ``user`` through ``door`` (nothing when it raises).
    The configuration is read before and after: a handful of queries, for a door that changes it."""
    before = configuration_data()
    yield
    configuration_changes_record(before=before, after=configuration_data(), user=user, door=door)


def history_export(changes, *, fmt="csv"):
    """The ``changes`` (ConfigurationChange rows, newest first) as CSV or JSON text."""
    rows = [{
        "at": change.at.isoformat(), "username": change.username, "door": change.door, "action": change.action,
        "path": change.path, "key": change.key, "old": change.old, "new": change.new,
    } for change in changes]
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "old": Change("changed", "", "", row["old"]).old_shown if row["old"] is not None
                         else "", "new": Change("changed", "", "", None, row["new"]).new_shown
                         if row["new"] is not None else ""})
    return out.getvalue()
