"""The configuration file's format: its sections and keys, the refusal that names the key at fault, and the
Outcome of an import (its changes)."""

import json
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext

from p2c.outcomes import OperationRefused, Outcome, Refusal

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
                   "create_sales_orders_automatically", "item_availability_enabled", "log_retention_days",
                   "alert_recipients", "alert_lag_minutes", "alert_worker_minutes", "alert_period_minutes",
                   # Where Sales lives (docs/decisions.md#sales-over-http); never the secret, which no file or history
                   # holds.
                   "sales_location", "sales_api_url", "sales_api_sign_in", "sales_api_tenant_id", "sales_api_token_url",
                   "sales_api_client_id")
VALUE_MAP_KEYS = ("name", "description", "entries")
ENTRY_KEYS = ("erp_value", "crm_value")
MAPPING_KEYS = ("name", "erp_model", "crm_model", "crm_option_field", "direction", "is_enabled", "realtime_sync",
                "sort_order", "erp_filter", "crm_filter", "sync_only_coupled", "create_new_if_no_match",
                "sync_after_match_coupling", "dependencies", "parent", "parent_erp_field", "parent_crm_field",
                "update_conflict_resolution", "deletion_conflict_resolution", "definition_key", "user_defined",
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
        super().__init__(gettext("The configuration is not valid; nothing was changed. ") + " ".join(lines[:20])
                         + (f" … and {len(lines) - 20} more." if len(lines) > 20 else ""),
                         code=Refusal.INVALID_CONFIGURATION, status=400)

    def as_data(self):
        return [{"where": where, "message": message} for where, message in self.errors]


class _CappedErrors(list):
    """The errors gathered while reading a configuration: past P2C_CONFIGURATION_MAX_ERRORS, reading stops and the
    first ones are told (a file wrong everywhere is not read to its end to list it all)."""

    def append(self, error):
        limit = settings.P2C_CONFIGURATION_MAX_ERRORS
        if len(self) >= limit:
            raise ConfigurationInvalid([*self, ("", gettext(
                "More than %(limit)s errors, the limit set by P2C_CONFIGURATION_MAX_ERRORS: reading stopped there."
            ) % {"limit": limit})])
        super().append(error)

    def extend(self, errors):
        for error in errors:
            self.append(error)

    def __iadd__(self, errors):
        self.extend(errors)
        return self


def capped_errors():
    """An empty list of ``(where, message)`` errors that raises ConfigurationInvalid once it would hold more than
    P2C_CONFIGURATION_MAX_ERRORS."""
    return _CappedErrors()


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
