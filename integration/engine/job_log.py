"""What a run tells: its job (`SyncJob`) with counters, the dry run's report, the skip reasons with a few records
named each, and the job's closing message."""

from dataclasses import dataclass, field

from integration.models import SyncJob

REPORT_LIMIT = 1000
SKIP_EXAMPLES = 5  # records named per skip reason in a job's message


def job_create(*, mapping, direction, full=False, dry_run=False, type=SyncJob.Type.SYNCHRONIZATION, **fields):
    return SyncJob.objects.create(table_mapping=mapping, mapping_name=mapping.name, direction=direction, full=full,
                                  dry_run=dry_run, type=type, **fields)


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


class JobLog:
    """A run's job as the chunks go: their counts, report lines and skip reasons added up."""

    def __init__(self, job, *, dry_run):
        self.job = job
        self.dry_run = dry_run
        self.report = []
        self.skips = {}

    def add(self, result):
        job = self.job
        for name, n in result.counts.items():
            setattr(job, name, getattr(job, name) + n)
        if len(self.report) < REPORT_LIMIT:
            self.report.extend(result.report[: REPORT_LIMIT - len(self.report)])
        for reason, (n, labels) in result.skips.items():
            entry = self.skips.setdefault(reason, [0, []])
            entry[0] += n
            entry[1].extend(labels[: SKIP_EXAMPLES - len(entry[1])])
        job.save(update_fields=list(job.COUNTERS))

    def summary(self):
        job = self.job
        counts = ", ".join(f"{getattr(job, n)} {n}" for n in job.COUNTERS if getattr(job, n))
        prefix = "Dry run, nothing written: " if self.dry_run else ""
        reasons = []
        for reason, (n, labels) in self.skips.items():
            more = f", and {n - len(labels)} more" if n > len(labels) else ""
            reasons.append(f"{n} {reason}" + (f" ({', '.join(labels)}{more})" if labels else ""))
        skipped = f". Skipped: {'; '.join(reasons)}" if reasons else ""
        return prefix + (counts or "nothing to synchronise") + skipped

    def skip_reasons(self):
        return {reason: n for reason, (n, _) in self.skips.items()}
