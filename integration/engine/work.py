"""What a run does with the chunks it reads (`ChunkWork`): the one thing that differs between a synchronisation
(`sync.Synchronisation`), match-based coupling (`coupling.couplings.MatchCoupling`) and an option mapping's codes
(`options.OptionCoupling`). They share one chunk loop, `sync.DirectionRun`, which keeps the run's life (docs/engine.md).
"""

from contextlib import nullcontext


class ChunkWork:
    """What a run (`DirectionRun`) does with each chunk it reads; the run keeps the rest of its life.

    A work says what the run reads (`reads`), does one chunk and tells the run once it is committed
    (`chunk`), and says the job's closing message (`closing`); `closed` runs after a run that did not fail, still
    under the mapping's lock."""

    writes_records = True  # writes through the couplings (intents completed first, statistics refreshed as they grow)
    moves_watermark = False  # a whole run moves the source's watermark once done (`run_done_advance`)
    message_limit = None  # the closing message's text is cut at this many characters

    def __init__(self, run):
        self.run, self.plan, self.job = run, run.plan, run.job

    def reads(self):
        """The source's reads (`Side.record_reads`), read in turn, and the keys examined in any case (`ALL`, or
        a set: a row of them read twice is left out of the later read)."""
        raise NotImplementedError

    def writing(self):
        """A context the chunks are done in."""
        return nullcontext()

    def chunk(self, rows, written):
        """Do one chunk of source rows; call ``written(rows, result)`` (a `ChunkResult`) once it is committed."""
        raise NotImplementedError

    def closing(self, log):
        """The job's closing message (a run that did not fail)."""
        return log.summary()

    def closed(self):
        """After the job closed, not failed."""
