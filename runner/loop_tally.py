"""A loop's tally as the console sees it: iterations by status, running, the slowest so far.

Counted from the listener's events (``step_started`` / ``step_finished`` with an iteration),
not from the loop's result: the engine keeps only the first and last 10 iterations and every
failure there (:class:`runner.results.Iterations`), so a summary of 10,000 iterations needs
its own counts. The console's end-of-loop summary and the live line's loop count both read it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from runner.report import ms
from runner.results import ERRORED, FAILED, INTERRUPTED, PASSED, SKIPPED, StepResult

ORDER = (PASSED, FAILED, ERRORED, SKIPPED, INTERRUPTED)  # as the summary names the counts


def loop_of(iteration: StepResult) -> str:
    """The trail of the loop an iteration belongs to: ``push[3]`` is ``push``'s, ``a[1] > b[0]``
    is ``a[1] > b``'s (one loop per outer iteration, so concurrent ones never mix)."""
    trail = iteration.trail
    return trail[:trail.rindex("[")] if trail.endswith("]") and "[" in trail else trail


@dataclass
class LoopTally:
    """One loop's counts so far."""

    total: int | None = None  # from loop_started
    started: float = field(default_factory=time.monotonic)
    counts: dict[str, int] = field(default_factory=dict)  # finished iterations, by status
    running: int = 0
    slowest: tuple[str, float] | None = None  # (trail, duration in ms)

    def start(self) -> None:
        self.running += 1

    def finish(self, it: StepResult) -> None:
        self.running = max(self.running - 1, 0)
        self.counts[it.status] = self.counts.get(it.status, 0) + 1
        if self.slowest is None or it.duration_ms > self.slowest[1]:
            self.slowest = (it.trail or it.label, it.duration_ms)

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    @property
    def failed(self) -> int:
        return self.counts.get(FAILED, 0) + self.counts.get(ERRORED, 0)

    def slowest_text(self) -> str:
        return f"slowest {self.slowest[0]} {ms(self.slowest[1])}" if self.slowest else ""

    def summary(self, loop: StepResult) -> str:
        """The end-of-loop line: counts, the slowest iteration, the loop's whole time.
        ``loop``: the loop's result, for what sent no event (iterations ``when`` skipped)."""
        counts = dict(self.counts)
        if not counts:  # a loop restored on resume sent no events: what its result kept
            for it in loop.iterations:
                counts[it.status] = counts.get(it.status, 0) + 1
            for status, n in (loop.omitted or {}).items():
                counts[status] = counts.get(status, 0) + n
        else:  # skipped by `when`: no events, but counted in the result (kept or omitted)
            skipped = sum(it.status == SKIPPED for it in loop.iterations) \
                + (loop.omitted or {}).get(SKIPPED, 0)
            if skipped:
                counts[SKIPPED] = counts.get(SKIPPED, 0) + skipped
        total = self.total if self.total is not None else sum(counts.values())
        order = [*ORDER, *sorted(set(counts) - set(ORDER))]
        parts = [f"{counts[s]:,} {s}" for s in order if counts.get(s)]
        not_run = total - sum(counts.values())
        if not_run > 0:  # a loop stops at its first failure unless it runs concurrently
            parts.append(f"{not_run:,} not run")
        text = f"{total:,} iteration{'s' if total != 1 else ''}: " + (", ".join(parts) or
                                                                       "none ran")
        slowest = self.slowest_text()
        return text + (f" · {slowest}" if slowest else "") + f" · {ms(loop.duration_ms)}"
