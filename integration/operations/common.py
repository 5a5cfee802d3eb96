"""What every coupling and synchronisation operation checks before it runs, and how a run's jobs become its
`Outcome` (p2c.outcomes). Refusals are `OperationRefused`: 409 for what the state of the configuration refuses (the
connection or the mapping disabled, the mapping busy, a direction the mapping lacks), 400 for a request that is wrong
as it stands (an unknown direction, a malformed id)."""

from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext, gettext_lazy, ngettext

from p2c.outcomes import DONE, FAILED, QUEUED, SKIPPED, OperationRefused, RecordResult, Refusal

from ..engine.locks import MappingBusy
from ..models import ConnectionSetup, Direction, SyncJob, SyncJobError

SEND, GET, MERGE = "send", "get", "merge"
# The words a user gives for a direction (BC's Send/Get/Merge, the engine's names, the `sync` command's to/from/both).
DIRECTION_WORDS = {
    SEND: Direction.TO_INTEGRATION, "to": Direction.TO_INTEGRATION, Direction.TO_INTEGRATION: Direction.TO_INTEGRATION,
    GET: Direction.FROM_INTEGRATION, "from": Direction.FROM_INTEGRATION,
    Direction.FROM_INTEGRATION: Direction.FROM_INTEGRATION,
    MERGE: Direction.BIDIRECTIONAL, "both": Direction.BIDIRECTIONAL, Direction.BIDIRECTIONAL: Direction.BIDIRECTIONAL,
}
DIRECTION_NAMES = {
    Direction.TO_INTEGRATION: gettext_lazy("ERP → Sales"),
    Direction.FROM_INTEGRATION: gettext_lazy("Sales → ERP"),
    Direction.BIDIRECTIONAL: gettext_lazy("both directions"),
}
FINISHED = (SyncJob.Status.SUCCESS, SyncJob.Status.ERROR, SyncJob.Status.FAILED)
DONE_COUNTERS = ("inserted", "modified", "deleted", "unchanged", "coupled", "uncoupled")


def direction_parse(value):
    """The engine's direction for ``value`` (send/get/merge, to/from/both or the engine's own names); None for
    none given; a 400 refusal naming the choices for anything else."""
    if value in (None, ""):
        return None
    try:
        return DIRECTION_WORDS[value]
    except (KeyError, TypeError):
        raise OperationRefused(
            gettext("Unknown direction %(value)s: use send (ERP → Sales), get (Sales → ERP) or merge (both).")
            % {"value": repr(value)},
            code=Refusal.DIRECTION_UNKNOWN,
            status=400,
        ) from None


def ids_typed(model, ids):
    """``ids`` as ``model``'s primary keys (ids given as text by a command or the API); a 400 refusal naming a
    malformed one."""
    to_python = model._meta.pk.to_python
    try:
        return [to_python(i) for i in ids]
    except ValidationError as exc:
        raise OperationRefused(
            gettext("Not a valid id for %(verbose_name)s: %(messages)s")
            % {"verbose_name": model._meta.verbose_name, "messages": " ".join(exc.messages)},
            code=Refusal.BAD_ID,
            status=400,
        ) from exc


def connection_check():
    """Refuse (409) while the connection is disabled: nothing is synchronised or coupled then (BC: "The %1
    connection is not enabled.")."""
    if not ConnectionSetup.get_solo().is_enabled:
        raise OperationRefused(
            (
                gettext(
                    "The connection is not enabled: enable it in the connection setup (or run the "
                    "assisted set-up) first."
                )
            ),
            code=Refusal.CONNECTION_DISABLED,
            status=409,
        )


def mapping_check(mapping):
    """Refuse (409) a disabled mapping."""
    if not mapping.is_enabled:
        raise OperationRefused(
            gettext("Mapping %(mapping)s is disabled; enable it first.") % {"mapping": mapping.name},
            code=Refusal.MAPPING_DISABLED,
            status=409,
        )


def direction_check(mapping, direction):
    """Refuse (409) a one-way ``direction`` the mapping does not have (bidirectional/None: every one it has): the
    request is well formed, the mapping's configuration says no."""
    if direction not in (None, Direction.BIDIRECTIONAL) and direction not in mapping.directions():
        raise OperationRefused(
            gettext("Mapping %(mapping)s synchronises %(direction_names)s only, not %(direction_names2)s.")
            % {
                "mapping": mapping.name,
                "direction_names": DIRECTION_NAMES[mapping.direction],
                "direction_names2": DIRECTION_NAMES[direction],
            },
            code=Refusal.DIRECTION_NOT_ALLOWED,
            status=409,
        )


def refused_from(exc):
    """An OperationRefused for the engine's own refusals: a busy mapping (409) or a mapping it cannot run (409)."""
    if isinstance(exc, MappingBusy):
        return OperationRefused(
            gettext("The mapping is being synchronised already: %(exc)s") % {"exc": exc},
            code=Refusal.MAPPING_BUSY,
            status=409,
        )
    if isinstance(exc, ValidationError):
        return OperationRefused(" ".join(exc.messages), code=Refusal.MAPPING_INVALID, status=409)
    return OperationRefused(str(exc))


def jobs_settle(outcome, shares):
    """Tell what the jobs of ``shares`` ([(job, records counted queued for it)]) did, where they have finished:
    their queued records become the job's done, skipped and failed counts, with the failed records' reasons
    (the jobs' errors, read in one query). Jobs still queued or running stay counted as queued."""
    if not shares:
        return outcome
    fresh = {job.pk: job for job in SyncJob.objects.filter(pk__in=[job.pk for job, _ in shares])}
    finished = [(fresh[job.pk], n) for job, n in shares if job.pk in fresh and fresh[job.pk].status in FINISHED]
    outcome.jobs = [fresh.get(job.pk, job) for job in outcome.jobs]
    errors = {}
    for error in SyncJobError.objects.filter(job__in=[job for job, _ in finished]).order_by("id")[:200]:
        errors.setdefault(error.job_id, []).append(error)
    for job, n in finished:
        outcome.counts[QUEUED] -= n
        done = sum(getattr(job, name) for name in DONE_COUNTERS)
        counted = done + job.skipped + job.failed
        outcome.counts[DONE] += done
        outcome.counts[SKIPPED] += job.skipped
        outcome.counts[FAILED] += job.failed
        if job.status == SyncJob.Status.FAILED:  # the job as a whole failed (lock lost, a side not answering…)
            outcome.jobs_failed += 1
            outcome.counts[FAILED] += max(n - counted, 0)
        for error in errors.get(job.pk, []):
            # The engine's messages name the record already ("Customer C00010 (Adatum): …").
            outcome.results.append(RecordResult(FAILED, job.mapping_name, error.message, error.source_id))
        if job.status == SyncJob.Status.FAILED and job.message and not errors.get(job.pk):
            outcome.results.append(RecordResult(FAILED, f"{job.mapping_name} job #{job.pk}", job.message_text))
    return outcome


def scheduled_note(*, scheduled, total, failed, skipped):
    """BC's closing sentence of a *Synchronise now* or *Create in …*: how many records were scheduled, failed and
    skipped, each count with its own plural (not "1 records were skipped")."""
    return " ".join((
        ngettext("The synchronisation has been scheduled for %(count)s of %(total)s record.",
                 "The synchronisation has been scheduled for %(count)s of %(total)s records.", total)
        % {"count": formats.number_format(scheduled), "total": formats.number_format(total)},
        ngettext("%(count)s record failed.", "%(count)s records failed.", failed)
        % {"count": formats.number_format(failed)},
        ngettext("%(count)s record was skipped.", "%(count)s records were skipped.", skipped)
        % {"count": formats.number_format(skipped)},
    ))
