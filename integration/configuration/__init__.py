"""The integration's configuration as a file (docs/decisions.md#configuration-as-a-file): export, parse, validate, diff
and apply, one operation each door calls (``integration_export`` / ``integration_import``, the admin's export and import
pages, the API).

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
  ``catalogue.validation.dependencies_validate`` and ``field_mappings_validate``) before anything is committed; any
  error rolls it all back and names the key at fault (``mappings[CUSTOMER].fields[3].crm_field``). A dry run does the
  same and always rolls back, so its difference is exactly what the import would do.
- A file exported with ``mappings=[...]`` is *partial*: importing it adds and changes, never removes. In a full file,
  a record of a section that the file has but that is not in it is removed; a section the file lacks is left alone.

One module per step: `format` (sections, keys, refusal, outcome), `export`, `parse` (parse and normalise), `apply`
(diff and apply). Every public name is re-exported here. Its history: `history` (what every door changed) and
`history_admin` (its list in the admin, and the mixin of the integration's and the F&O admins that record it).
"""

from integration.configuration.apply import (
    MAPPING_SCALARS,
    configuration_diff,
    configuration_import,
)
from integration.configuration.export import (
    configuration_data,
    configuration_dump,
    configuration_export,
)
from integration.configuration.format import (
    CONNECTION_KEYS,
    CONNECTION_RELATIONS,
    DEFAULT_KEYS,
    ENTRY_KEYS,
    EXPORT_PERMISSIONS,
    FIELD_KEYS,
    FORMAT,
    FORMATS,
    IMPORT_PERMISSIONS,
    LIST_RELATIONS,
    MAPPING_KEYS,
    MAPPING_RELATIONS,
    NESTED,
    PROJECT_KEYS,
    PROJECT_TASK_KEYS,
    SCHEDULE_KEYS,
    SECTION_KEYS,
    SECTIONS,
    TEMPLATE_KEYS,
    TEMPLATE_TASK_KEYS,
    VALUE_MAP_KEYS,
    VERSION,
    Change,
    ConfigurationInvalid,
    ConfigurationOutcome,
)
from integration.configuration.parse import (
    configuration_normalize,
    configuration_parse,
    format_of,
)

__all__ = [
    "CONNECTION_KEYS",
    "CONNECTION_RELATIONS",
    "DEFAULT_KEYS",
    "ENTRY_KEYS",
    "EXPORT_PERMISSIONS",
    "FIELD_KEYS",
    "FORMAT",
    "FORMATS",
    "IMPORT_PERMISSIONS",
    "LIST_RELATIONS",
    "MAPPING_KEYS",
    "MAPPING_RELATIONS",
    "MAPPING_SCALARS",
    "NESTED",
    "PROJECT_KEYS",
    "PROJECT_TASK_KEYS",
    "SCHEDULE_KEYS",
    "SECTIONS",
    "SECTION_KEYS",
    "TEMPLATE_KEYS",
    "TEMPLATE_TASK_KEYS",
    "VALUE_MAP_KEYS",
    "VERSION",
    "Change",
    "ConfigurationInvalid",
    "ConfigurationOutcome",
    "configuration_data",
    "configuration_diff",
    "configuration_dump",
    "configuration_export",
    "configuration_import",
    "configuration_normalize",
    "configuration_parse",
    "format_of",
]
