"""The database time of a benchmark by kind of statement, for the benchmarks that print it (``P2C_BENCH_SQL=1``)."""

import time


class StatementTimes:
    """Database time of the full synchronisation by kind of statement (``P2C_BENCH_SQL=1``)."""

    def __init__(self):
        self.seconds, self.counts = {}, {}

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            words = sql.split()
            kind = " ".join(words[:3]) if words[0] in ("INSERT", "UPDATE", "DELETE") else " ".join(
                words[:1] + [w for w in words if w.startswith('"') and "." not in w][:1])
            self.seconds[kind] = self.seconds.get(kind, 0) + time.perf_counter() - started
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def print(self):
        for kind, seconds in sorted(self.seconds.items(), key=lambda item: -item[1])[:15]:
            print(f"  {seconds:7.2f} s  {self.counts[kind]:6d}  {kind[:100]}")
