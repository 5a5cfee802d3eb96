"""The coupling and synchronisation operations a user can start, one function each (docs/features.md I4-I6;
docs/decisions.md#one-operation-every-door).

Each holds every rule deciding whether and on what it runs (the connection and the mapping enabled, the direction
allowed, coupled records only, newer data on the target side, ids split by mapping filter) and returns a
`p2c.outcomes.Outcome`, or raises `p2c.outcomes.OperationRefused` when the whole request cannot run. Admin
actions, API views, management commands and Celery tasks call these and translate the outcome (`p2c.doors`).
The conflict inbox's reads (conflict_inbox) sit beside the conflicts' resolutions (conflicts), and the periodic check
of runs whose process stopped (stopped_runs, run by beat) beside the queued runs (queued_runs).
"""

from .common import GET, MERGE, SEND, direction_parse
from .coupling import (
    couple_by_match,
    coupling_set_up,
    couplings_delete,
    match_criteria_save,
    records_create_in_other_side,
)
from .synchronising import (
    failed_records_retry,
    preselected_direction,
    skipped_restore,
    synchronize_mapping,
    synchronize_mappings,
    synchronize_now,
    synchronize_now_choices,
)

__all__ = [
    "GET", "MERGE", "SEND", "couple_by_match", "coupling_set_up", "couplings_delete", "direction_parse",
    "failed_records_retry", "match_criteria_save", "preselected_direction", "records_create_in_other_side",
    "skipped_restore", "synchronize_mapping", "synchronize_mappings", "synchronize_now", "synchronize_now_choices",
]
