"""What a run tells: its job (`SyncJob`) with counters, the dry run's report, the skip reasons with a few records
named each, and the job's closing message."""

import json
from dataclasses import dataclass, field

from django.utils.translation import gettext_noop

from integration.models import SyncJob
from p2c.said import Joined, counted, said, said_data, said_from_data

REPORT_LIMIT = 1000
SKIP_EXAMPLES = 5  # records named per skip reason in a job's message


def job_create(*, mapping, direction, full=False, dry_run=False, type=SyncJob.Type.SYNCHRONIZATION, holder=None,
               **fields):
    """A job of ``mapping`` in ``direction``: queued, or running already when its ``holder`` is given
    (`SyncJobQuerySet.create_running`)."""
    fields = dict(table_mapping=mapping, mapping_name=mapping.name, direction=direction, full=full, dry_run=dry_run,
                  type=type, **fields)
    if holder is None:
        return SyncJob.objects.create(**fields)
    return SyncJob.objects.create_running(holder=holder, **fields)


@dataclass
class ChunkResult:
    counts: dict = field(default_factory=dict)
    report: list = field(default_factory=list)
    skips: dict = field(default_factory=dict)  # reason → [count, labels of the first few records]

    def add(self, name, n=1):
        self.counts[name] = self.counts.get(name, 0) + n

    def skip(self, reason, label=None, n=1):
        self.add("skipped", n)
        entry = self.skips.setdefault(reason, [0, []])
        entry[0] += n
        if label is not None and len(entry[1]) < SKIP_EXAMPLES:
            entry[1].append(label)


def job_summary(job, skips, *, dry_run=False):
    """A job's closing message, in the active language (`job_summary_said`)."""
    return str(job_summary_said(job, skips, dry_run=dry_run))


def job_summary_said(job, skips, *, dry_run=False):
    """A job's closing message as what it means (p2c.said), told in the reader's language: its counts (``3
    inserted, 1 modified``), then the skip reasons with a few records named each. ``skips``: reason → (count,
    labels of the first few records)."""
    counts = Joined(tuple(job_count_said(n, getattr(job, n)) for n in job.COUNTERS if getattr(job, n)))
    text = counts if counts.parts else said(gettext_noop("nothing to synchronise"))
    if dry_run:
        # Translators: a dry run's job message: what it would have written (counts such as "3 inserted").
        text = said(gettext_noop("Dry run, nothing written: %(counts)s"), counts=text)
    reasons = Joined(tuple(skip_reason_said(reason, n, labels) for reason, (n, labels) in skips.items()), "; ")
    if reasons.parts:
        # Translators: a job's message: its counts, then why records were skipped (reasons separated by "; ").
        text = said(gettext_noop("%(counts)s. Skipped: %(reasons)s"), counts=text, reasons=reasons)
    return text


class JobLog:
    """A run's job as the chunks go: their counts, report lines and skip reasons added up."""

    def __init__(self, job, *, dry_run):
        self.job = job  # the run's sink: its job, or a partition's (`request.py`)
        self.dry_run = dry_run
        self.report = []
        self.skips = {}
        self.counts = dict.fromkeys(SyncJob.COUNTERS, 0)  # this run's own, whatever its job held before

    def written(self):
        """Rows this run has written to the destination so far, new or matched (none in a dry run)."""
        return 0 if self.dry_run else self.counts["inserted"] + self.counts["coupled"]

    def add(self, result):
        job = self.job
        for name, n in result.counts.items():
            self.counts[name] = self.counts.get(name, 0) + n
        if len(self.report) < REPORT_LIMIT:
            self.report.extend(result.report[: REPORT_LIMIT - len(self.report)])
        for reason, (n, labels) in result.skips.items():
            entry = self.skips.setdefault(reason, [0, []])
            entry[0] += n
            entry[1].extend(labels[: SKIP_EXAMPLES - len(entry[1])])
        job.add_counts(result.counts)

    def summary(self):
        """The job's closing message as what it means (`job_summary_said`)."""
        return job_summary_said(self.job, self.skips, dry_run=self.dry_run)

    def skip_reasons(self):
        """Reason (in the active language) → how many records were skipped for it."""
        return {str(reason): n for reason, (n, _) in self.skips.items()}

    def skip_reasons_data(self):
        """Reason as what it means (`skip_reason_key`) → how many records were skipped for it."""
        return {skip_reason_key(reason): n for reason, (n, _) in self.skips.items()}


def skip_reason_key(reason):
    """A skip reason (a `Said` or a text) as a JSON object's key: its `said_data` as JSON, or the text."""
    return reason if isinstance(reason, str) else json.dumps(said_data(reason), sort_keys=True)


def skip_reason_from_key(key):
    """The skip reason `skip_reason_key` stored: a `Said`, or the text (a key stored before, or a plain text)."""
    if key.startswith("{"):
        try:
            return said_from_data(json.loads(key))
        except (KeyError, TypeError, ValueError):
            return key
    return key


def skip_reason_text(reason, count, labels):
    """``count`` records skipped for ``reason``, naming ``labels`` (the first few of them), in the active language:
    ``2 the Sales record holds newer data (Customer 10000 (Adatum), and 1 more)``."""
    return str(skip_reason_said(reason, count, labels))


def skip_reason_said(reason, count, labels):
    """`skip_reason_text` as what it means (p2c.said); ``reason`` a `Said` or a text."""
    if not labels:
        # Translators: how many records a job skipped, then why (a skip reason such as "the Sales record holds
        # newer data").
        return counted("%(count)s %(reason)s", "%(count)s %(reason)s", count=count, reason=reason)
    more = count - len(labels)
    records = Joined(tuple(labels), ", ")  # `Said` labels (the table's name in the reader's language) or texts
    if more <= 0:
        # Translators: how many records a job skipped, why, then the records, e.g. "Customer 10000 (Adatum)".
        return counted("%(count)s %(reason)s (%(records)s)", "%(count)s %(reason)s (%(records)s)", count=count,
                       reason=reason, records=records)
    # Translators: how many records a job skipped, why, then the first few records and how many more were skipped.
    return counted("%(count)s %(reason)s (%(records)s, and %(more)s more)",
                   "%(count)s %(reason)s (%(records)s, and %(more)s more)", counter="more", count=count,
                   reason=reason, records=records, more=more)


COUNT_TEXTS = {
    "inserted": lambda n: counted("%(count)s inserted", "%(count)s inserted", count=n),
    "modified": lambda n: counted("%(count)s modified", "%(count)s modified", count=n),
    "deleted": lambda n: counted("%(count)s deleted", "%(count)s deleted", count=n),
    "unchanged": lambda n: counted("%(count)s unchanged", "%(count)s unchanged", count=n),
    "skipped": lambda n: counted("%(count)s skipped", "%(count)s skipped", count=n),
    "failed": lambda n: counted("%(count)s failed", "%(count)s failed", count=n),
    "coupled": lambda n: counted("%(count)s coupled", "%(count)s coupled", count=n),
    "uncoupled": lambda n: counted("%(count)s uncoupled", "%(count)s uncoupled", count=n),
}


def job_count_said(name, count):
    """``count`` rows of a job's counter ``name`` (inserted, modified …, `SyncJob.COUNTERS`), as what it means."""
    if name not in COUNT_TEXTS:
        return f"{count} {name}"
    return COUNT_TEXTS[name](count)


def job_count_text(name, count):
    """``count`` rows of a job's counter ``name`` (inserted, modified …, `SyncJob.COUNTERS`), as a person reads it."""
    return str(job_count_said(name, count))
