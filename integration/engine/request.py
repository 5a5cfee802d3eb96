"""What a synchronisation run is asked to do (`RunRequest`), built by its door and taken whole by
`sync.mapping_synchronize`.

A run also has three companions a door may hand in, each with a few methods:

- its *sink*, where its counts and its outcome go: the run's job by default (`SyncJob.start`, `add_counts`,
  `finish`, `fail`); a partition's counts are kept for its record instead (full_sync/partitions.py);
- its *lease*, renewed as each chunk commits (``renew(rows)``), which raises when the run lost what it held (a
  partition taken over by another worker): the run then stops writing and fails;
- its *work*, what it does with each chunk it reads (`work.ChunkWork`): a synchronisation by default (an option
  mapping's: its codes coupled to the Sales options); match-based coupling hands in its own.
"""

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class RunRequest:
    """One synchronisation of ``mapping`` in ``direction`` (None or "bidirectional": every direction it has).

    - ``full``: every source row, not only those changed since the last run; ``create_new``: create destination
      rows for uncoupled source rows (None: the mapping's setting).
    - ``dry_run``: decide and report, write nothing (the job's report; neither watermark nor child mapping moves).
    - ``only_ids``: these records only (a "synchronise now" of selected records), ids of the side ``ids_side``
      ("erp" or "crm"; by default the source side of a one-way run); in both directions the pass from the other
      side runs on their coupled counterparts.
    - ``decisions``: a person's decisions of conflicts, per coupling pk (`SyncPlan.decisions`).
    - ``key_range``: ``(low, high)``, one partition of a run (source rows ``low <= pk < high``, either end None for
      open): the watermark stays, child mappings are left to the coordinator, and each job tells ``job.max_seen``.
      ``rows_coupled``: with it, only the source rows coupled (True) or uncoupled (False) when their chunk is read;
      ``destinations_uncoupled``: what `matching.uncoupled_destinations_exist` answered when the partitioned run
      began (None: this run asks). ``numbers_reserved``: numbers taken ahead for the new destination records (a
      partition's, `erp.numbering.NumbersReserved`), handed to the destination side's write.
    - ``wait_seconds``: how long to wait for the mapping's lock; ``lock_token``: a lock on the mapping the caller
      holds already (the run goes on under it).
    - ``jobs``: jobs already created (queued), by direction; ``progress(job=, done=, total=)``: called as chunks
      commit; ``sink``, ``lease`` and ``work`` (a `ChunkWork` class, or a function of the run returning one): the
      run's companions (module docstring).
    """

    mapping: object
    direction: str | None = None
    full: bool = False
    dry_run: bool = False
    create_new: bool | None = None
    only_ids: list | None = None
    ids_side: str | None = None
    decisions: dict | None = field(default=None, repr=False)
    key_range: tuple | None = None
    rows_coupled: bool | None = None
    destinations_uncoupled: bool | None = None
    numbers_reserved: object = field(default=None, repr=False)
    wait_seconds: float = 0
    lock_token: str | None = None
    jobs: dict | None = field(default=None, repr=False)
    progress: object = field(default=None, repr=False)
    sink: object = field(default=None, repr=False)
    lease: object = field(default=None, repr=False)
    work: object = field(default=None, repr=False)

    @property
    def whole(self):
        """Whether the run reads the whole of what changed, and so moves what a whole run moves (the watermark, the
        child mappings): not a dry run, nor a run of some records or of one key range, nor one with work of its own
        (match-based coupling)."""
        return not self.dry_run and self.only_ids is None and self.key_range is None and self.work is None

    def for_child(self, child):
        """The same run of ``child``, a child mapping, run after its parent: under its own lock, with new jobs."""
        return RunRequest(mapping=child, direction=self.direction, full=self.full, dry_run=self.dry_run,
                          create_new=self.create_new, progress=self.progress, wait_seconds=self.wait_seconds)

    def but(self, **changes):
        """This request with ``changes``."""
        return replace(self, **changes)
