"""What a user operation did, told the same way by every door.

Every operation a user can start (from an admin action, an API view, a management command or a Celery task) is one
function that holds all of its rules and returns an `Outcome`: how many records were done, queued, skipped, failed
or refused, a reason for each record that was not done, and the jobs it started. A request that cannot run at all
(a disabled connection or mapping, a direction the mapping does not have, a busy mapping) raises `OperationRefused`
instead. The doors only translate:

- admin: `Outcome.level` (success only when everything asked was done or queued; warning when part was not; error
  when nothing was) and `Outcome.summary`, with the jobs as links (`outcome_message` in the admin helpers);
- API: `Outcome.as_data()` in the body with a 2xx status (a batch answer), `OperationRefused.status` (409 or 400)
  when the whole request is refused;
- commands: the summary lines, and `Outcome.exit_code` (1 when a record failed or was refused).

This module knows nothing of Django's request or response classes, so any layer can return an Outcome.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from django.utils import formats
from django.utils.translation import gettext, ngettext

DONE, QUEUED, SKIPPED, FAILED, REFUSED = "done", "queued", "skipped", "failed", "refused"
KINDS = (DONE, QUEUED, SKIPPED, FAILED, REFUSED)
NOT_DONE = (SKIPPED, FAILED, REFUSED)
REASONS_SHOWN = 5  # reasons a message quotes before "… and N more"

SUCCESS, WARNING, ERROR, INFO = "success", "warning", "error", "info"

# A model's ValidationError with one of these codes is refused by the state of the configuration, not by the
# request's shape: the API answers it 409 with the code (p2c.api.exceptions), like an `OperationRefused` of status 409.
NUMBER_SERIES_MISSING = "number_series_missing"
STATE_CODES = frozenset({NUMBER_SERIES_MISSING})


class Refusal(StrEnum):
    """Why a whole request was refused (`OperationRefused.code`): a stable machine-readable name the API answers in
    the body's ``code`` (and lists in its schema, p2c.api.schema). The values are part of the API: never change one."""

    ALREADY_COUPLED = "already_coupled"
    BAD_ID = "bad_id"
    CLIENT_ID_TAKEN = "client_id_taken"
    CONNECTION_DISABLED = "connection_disabled"
    COUPLING_SKIPPED = "coupling_skipped"
    DIRECTION_NOT_ALLOWED = "direction_not_allowed"
    DIRECTION_ONE_WAY = "direction_one_way"
    DIRECTION_REQUIRED = "direction_required"
    DIRECTION_UNKNOWN = "direction_unknown"
    FIELD_UNKNOWN = "field_unknown"
    FIELDS_MISSING = "fields_missing"
    INTEGRATION_USER_MISSING = "integration_user_missing"
    INTEGRATION_USER_UNKNOWN = "integration_user_unknown"
    INVALID_AGE = "invalid_age"
    INVALID_CONFIGURATION = "invalid_configuration"
    MAPPING_AMBIGUOUS = "mapping_ambiguous"
    MAPPING_BUSY = "mapping_busy"
    MAPPING_DISABLED = "mapping_disabled"
    MAPPING_INVALID = "mapping_invalid"
    MATCH_FIELD_UNKNOWN = "match_field_unknown"
    MATCH_FIELDS_MISSING = "match_fields_missing"
    MERGE_ONE_RECORD = "merge_one_record"
    NO_MAPPING = "no_mapping"
    NOT_COUPLED = "not_coupled"
    NOTHING_TO_RESTART = "nothing_to_restart"
    PROJECT_REFUSED = "project_refused"
    REFUSED = "refused"
    RESOLUTION_UNKNOWN = "resolution_unknown"
    SALES_CONNECTION_FAILED = "sales_connection_failed"
    SALES_CONNECTION_INVALID = "sales_connection_invalid"
    SALES_UNAVAILABLE = "sales_unavailable"
    SAME_SIDE = "same_side"
    SETUP_INCOMPLETE = "setup_incomplete"
    SIDE_UNKNOWN = "side_unknown"
    TOO_LARGE = "too_large"
    UNKNOWN_FORMAT = "unknown_format"
    UNKNOWN_MAPPING = "unknown_mapping"


class OperationRefused(Exception):
    """The whole request cannot run: nothing was done. ``status`` is the HTTP status the API answers (409 for a
    state that may change, e.g. a disabled mapping or a busy one; 400 for a request that is wrong as it stands),
    ``code`` a `Refusal` (its value is what the API answers)."""

    def __init__(self, message, *, code=Refusal.REFUSED, status=409):
        super().__init__(message)
        # Refusal(code) raises ValueError for a code not declared in the enum
        self.message, self.code, self.status = message, Refusal(code), status


@dataclass(frozen=True)
class RecordResult:
    """One record that was not done (or, where it helps, one that was): ``record`` names it as a user knows it
    ("Customer 10000"), ``key`` is its primary key, ``reason`` says why."""

    kind: str
    record: str
    reason: str = ""
    key: str = ""

    def as_data(self):
        return {"record": self.record, "key": self.key, "result": self.kind, "reason": self.reason}


@dataclass
class Outcome:
    """What one operation did. ``verb`` heads the summary ("Synchronise now", "Create in Sales")."""

    verb: str
    counts: dict = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    results: list = field(default_factory=list)  # RecordResult, for the records not done (and any worth naming)
    jobs: list = field(default_factory=list)  # the jobs started: objects with pk (and get_admin_url, for links)
    notes: list = field(default_factory=list)  # sentences that belong to no record
    jobs_failed: int = 0  # jobs that failed as a whole (a side that did not answer…), whatever their records did

    # -- building -------------------------------------------------------------------------------------------------
    def add(self, kind, n=1):
        """Count ``n`` records of ``kind`` without naming them (done and queued records)."""
        self.counts[kind] += n
        return self

    def record(self, kind, record, reason="", key=""):
        """Count one record of ``kind`` and keep its reason (skipped, failed and refused records)."""
        self.counts[kind] += 1
        self.results.append(RecordResult(kind, str(record), reason, str(key)))
        return self

    def merge(self, other):
        """Add another outcome's counts, records, jobs and notes to this one."""
        for kind, n in other.counts.items():
            self.counts[kind] += n
        self.results += other.results
        self.jobs += other.jobs
        self.notes += other.notes
        self.jobs_failed += other.jobs_failed
        return self

    # -- reading ------------------------------------------------------------------------------------------------------
    @property
    def total(self):
        return sum(self.counts.values())

    @property
    def not_done(self):
        return sum(self.counts[kind] for kind in NOT_DONE)

    @property
    def level(self):
        """success: everything asked was done or queued; warning: part was not; error: none was (info: nothing
        was asked)."""
        if not self.total:
            return ERROR if self.jobs_failed else INFO
        if not self.not_done and not self.jobs_failed:
            return SUCCESS
        if self.counts[DONE] + self.counts[QUEUED]:
            return WARNING
        return ERROR

    @property
    def exit_code(self):
        """A command's exit code: 1 when a record failed or was refused or a job failed, else 0 (skipped records
        are no failure)."""
        return 1 if self.counts[FAILED] or self.counts[REFUSED] or self.jobs_failed else 0

    def counts_text(self):
        """``3 done, 2 queued, 1 failed`` (the kinds that happened) or ``nothing to do``, in the active language."""
        parts = [count_text(kind, self.counts[kind]) for kind in KINDS if self.counts[kind]]
        if self.jobs_failed:
            parts.append(ngettext("%(count)s job failed", "%(count)s jobs failed", self.jobs_failed)
                         % {"count": formats.number_format(self.jobs_failed)})
        return ", ".join(parts) or gettext("nothing to do")

    def reasons_text(self, limit=REASONS_SHOWN):
        """The first ``limit`` records not done with their reasons, then how many more."""
        shown = [f"{r.record}: {r.reason}" if r.reason else r.record for r in self.results if r.kind in NOT_DONE]
        more = len(shown) - limit
        text = "; ".join(shown[:limit])
        if more <= 0:
            return text
        return ngettext("%(reasons)s; … and %(count)s more", "%(reasons)s; … and %(count)s more", more) % {
            "reasons": text, "count": formats.number_format(more)}

    def summary(self, limit=REASONS_SHOWN):
        """One line: ``Synchronise now: 2 queued, 1 skipped. Customer 10000: the Sales record holds newer data.``"""
        # Translators: an operation's outcome: its name, then what happened to how many records.
        text = gettext("%(operation)s: %(counts)s.") % {"operation": self.verb, "counts": self.counts_text()}
        reasons = self.reasons_text(limit)
        if reasons:
            text += " " + gettext("%(reasons)s.") % {"reasons": reasons.rstrip(".")}
        if self.notes:
            text += " " + " ".join(self.notes)
        return text

    def as_data(self):
        """The API body: counts, per-record results, job ids, the summary."""
        return {
            "summary": self.summary(),
            "counts": dict(self.counts),
            "records": [r.as_data() for r in self.results],
            "jobs": [job.pk for job in self.jobs if getattr(job, "pk", None)],
            "jobs_failed": self.jobs_failed,
        }


def count_text(kind, count):
    """``count`` records of ``kind`` as a person reads it (``1 failed``, ``5 failed``), in the active language."""
    n = formats.number_format(count)
    texts = {
        DONE: ngettext("%(count)s done", "%(count)s done", count),
        QUEUED: ngettext("%(count)s queued", "%(count)s queued", count),
        SKIPPED: ngettext("%(count)s skipped", "%(count)s skipped", count),
        FAILED: ngettext("%(count)s failed", "%(count)s failed", count),
        REFUSED: ngettext("%(count)s refused", "%(count)s refused", count),
    }
    return texts[kind] % {"count": n}
