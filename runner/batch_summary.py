"""What a batch did, and how it is said: the summary of ``runner run --inputs-from``.

:class:`BatchSummary` holds the counts, the timings, every run id and the rows that did not
pass (:class:`BatchFailure`) or that an earlier batch ran already (:class:`AlreadyRan`); each
says itself in a line (``line``, ``text``), and the summary writes itself as JSON
(``--report-json``), so the command line only prints what it is handed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.results import FAILED, PASSED


@dataclass
class BatchFailure:
    """One row that did not pass: its position, its inputs and why."""

    row: int  # 0-based position in ``rows``
    inputs: dict[str, Any]
    error: str
    run_id: str | None = None  # None when the run could not start (invalid inputs)
    failed_step: str | None = None
    status: str = FAILED
    hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def line(self) -> str:
        """One line for a row that did not pass."""
        where = f"{self.run_id}  " if self.run_id else "not started  "
        step = f"{self.failed_step}: " if self.failed_step else ""
        return f"{self.status}  {where}{step}{self.error}"


@dataclass
class AlreadyRan:
    """A row that an earlier batch of the same file ran already: it is not run again."""

    row: int
    run_id: str
    status: str
    batch_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def line(self) -> str:
        """One line for a row an earlier batch ran already."""
        where = f" in batch {self.batch_id}" if self.batch_id else ""
        return f"already ran  {self.run_id}  {self.status}{where}"


@dataclass
class BatchSummary:
    """What a batch did: counts, timings, every run id, and the failures."""

    batch_id: str | None = None  # None without a run store
    already_ran: list[AlreadyRan] = field(default_factory=list)
    total: int = 0
    passed: int = 0
    failed: int = 0
    interrupted: int = 0  # runs stopped by Ctrl-C: resumable with `runner resume`
    not_started: list[int] = field(default_factory=list)  # rows Ctrl-C kept from starting
    stopped_by: str = "Ctrl-C"  # or SIGTERM: which one stopped it, for the summary to say
    wall_seconds: float = 0.0
    durations_ms: list[float] = field(default_factory=list)  # per run, in completion order
    run_ids: list[str] = field(default_factory=list)  # per row; "" for a run that never started
    failures: list[BatchFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        before = sum(1 for a in self.already_ran if a.status == PASSED)
        return self.failed == 0 and self.passed + before == self.total

    @property
    def stopped(self) -> bool:
        """Ctrl-C stopped the batch before every row ran to its end."""
        return bool(self.interrupted or self.not_started)

    def percentile_ms(self, q: float) -> float:
        """The ``q`` quantile (0..1) of the run durations, nearest rank; 0.0 when none."""
        if not self.durations_ms:
            return 0.0
        ordered = sorted(self.durations_ms)
        return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "already_ran": [a.to_dict() for a in self.already_ran],
            "total": self.total, "passed": self.passed, "failed": self.failed,
            "interrupted": self.interrupted, "not_started": self.not_started,
            "wall_seconds": round(self.wall_seconds, 3),
            "run_ms": {"p50": round(self.percentile_ms(0.5), 1),
                       "p95": round(self.percentile_ms(0.95), 1),
                       "max": round(max(self.durations_ms, default=0.0), 1)},
            "run_ids": self.run_ids,
            "failures": [f.to_dict() for f in self.failures],
        }

    def write_json(self, path: str | Path) -> None:
        """The summary as JSON (``--report-json`` with ``--inputs-from``)."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False,
                                         default=str) + "\n", encoding="utf-8")

    def text(self, source: str | Path = "") -> str:
        """The summary printed at the end of a batch: counts, time, and each failure."""
        ran = self.total - len(self.not_started)
        rate = ran / self.wall_seconds if self.wall_seconds else 0.0
        batch = f" (batch {self.batch_id})" if self.batch_id else ""
        lines = [
            f"{self.total} runs{f' from {source}' if source else ''}{batch}: "
            f"{self.passed} passed, {self.failed} failed"
            + (f", {len(self.already_ran)} already ran" if self.already_ran else "")
            + (f", {self.interrupted} interrupted" if self.interrupted else "")
            + (f", {len(self.not_started)} not started" if self.not_started else "")
            + f" in {self.wall_seconds:.1f} s ({rate:.1f} runs/s; one run "
            f"p50 {self.percentile_ms(0.5) / 1000:.1f} s, "
            f"p95 {self.percentile_ms(0.95) / 1000:.1f} s)"]
        for f in self.failures:
            lines.append(f"  row {f.row + 1}: {f.line()}")
            if f.hint:
                lines.append(f"    hint: {f.hint}")
        if self.failures:
            lines.append("  runner show RUN_ID shows a run's steps; fix and run the failed rows "
                         "again")
        if self.already_ran:
            lines.append(f"  {len(self.already_ran)} rows ran already in an earlier batch and "
                         "were not run again (--again runs them anyway)")
        if self.interrupted:
            lines.append("  interrupted runs continue with: runner resume RUN_ID"
                         + (f", or all at once: runner resume --batch {self.batch_id}"
                            if self.batch_id else ""))
        if self.not_started:
            rows = ", ".join(str(i + 1) for i in self.not_started[:20])
            more = f" and {len(self.not_started) - 20} more" if len(self.not_started) > 20 \
                else ""
            lines.append(f"  stopped by {self.stopped_by} before rows {rows}{more} started")
        return "\n".join(lines)
