"""What a run produced: per-step results and the run's result, and the listener protocol
through which the engine reports as it goes (console, JSON, JUnit, progress)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

PASSED, FAILED, SKIPPED, INTERRUPTED = "passed", "failed", "skipped", "interrupted"
# an internal error (a bug, a full disk) stopped it: neither passed nor failed; resumable
ERRORED = "errored"
PARKED = "parked"  # a worker's run that gave its slot back in a long wait (not an end)


@dataclass(slots=True)
class Exchange:
    """One request and its answer (or the transport error), as recorded for reports.

    Slots: a run keeps every exchange of its steps (a poll's every attempt) until it ends, and
    a batch holds thousands of runs at once. Its parts may be the very objects of the attempt
    before it (:func:`runner.steps.sending.share_with_previous`): read them, never change them.
    """

    request: dict[str, Any]
    response: dict[str, Any] | None = None
    error: str | None = None
    attempt: int | None = None
    at: float = field(default_factory=time.time)
    # time spent waiting for the connector's limits before it went (and its retries, its
    # login); reports show it only when there was some
    waited_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out = {"request": self.request, "response": self.response, "error": self.error,
               "attempt": self.attempt, "at": self.at}
        if self.waited_ms:
            out["waited_ms"] = self.waited_ms
        return out


def waited_ms(results: list[StepResult]) -> float:
    """Milliseconds the exchanges of ``results`` (their iterations' too) waited for limits."""
    total = 0.0
    for r in results:
        total += sum(e.waited_ms for e in r.exchanges)
        total += waited_ms(r.iterations)
    return total


@dataclass(slots=True)  # no __dict__: a run keeps one for each step it ran to its end
class StepResult:
    """What one step did: status, exchanges, extracted values, assertions, error."""
    step_id: str
    label: str
    kind: str
    target: str
    name: str = ""
    status: str = PASSED
    started: float = field(default_factory=time.time)
    duration_ms: float = 0.0
    exchanges: list[Exchange] = field(default_factory=list)
    extracted: dict[str, Any] = field(default_factory=dict)
    assertions: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    pages: int = 0  # a call with all: true: the pages it read (runner.steps.paging)
    error: str | None = None
    hint: str | None = None
    iterations: list[StepResult] = field(default_factory=list)
    outputs: dict[str, Any] | None = None  # include steps
    skipped_reason: str | None = None
    key: str = ""
    trail: str = ""  # where the step sits: "software[1] > wait" (loops and includes)
    where: str = ""  # the step's file:line
    resumed: bool = False  # done in an earlier attempt of this run; restored from the journal
    # a loop: the iterations not kept in ``iterations`` (see Iterations), counted by status
    omitted: dict[str, int] | None = None
    # a failed call whose request may have taken effect (no answer, a 5xx): undo it too
    maybe_applied: bool = field(default=False, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.step_id, "label": self.label, "kind": self.kind, "target": self.target,
            "name": self.name, "status": self.status, "started": self.started,
            "duration_ms": round(self.duration_ms, 2),
        }
        if self.exchanges:
            out["exchanges"] = [e.to_dict() for e in self.exchanges]
        if self.extracted:
            out["extracted"] = self.extracted
        if self.assertions:
            out["assertions"] = self.assertions
        if self.attempts:
            out["attempts"] = self.attempts
        if self.pages:
            out["pages"] = self.pages
        if self.error:
            out["error"] = self.error
            if self.hint:
                out["hint"] = self.hint
        if self.iterations:
            out["iterations"] = [i.to_dict() for i in self.iterations]
        if self.omitted:
            out["omitted_iterations"] = self.omitted
        if self.outputs is not None:
            out["outputs"] = self.outputs
        if self.skipped_reason:
            out["skipped_reason"] = self.skipped_reason
        if self.resumed:
            out["resumed"] = True
        if self.where:
            out["where"] = self.where
        return out


class Iterations:
    """What a loop's result keeps of its iterations: the first and last ``KEEP`` and every one
    that failed, whole; of the others only their count by status. A run's memory and its
    report then stay flat however long the loop (an iteration kept whole holds its requests
    and answers); ``--log-format json`` still has every exchange as it happened."""

    KEEP = 10

    def __init__(self, total: int) -> None:
        self.total = total
        self.results: list[StepResult] = []
        self.failed: list[StepResult] = []
        self.statuses: list[str] = []  # every iteration's, in order (steps.<id>.iterations)
        self._omitted: dict[str, int] = {}

    def add(self, r: StepResult) -> None:
        """The next iteration's result (they come in order)."""
        i = len(self.statuses)
        self.statuses.append(r.status)
        bad = r.status in (FAILED, ERRORED)
        if bad:
            self.failed.append(r)
        if bad or i < self.KEEP or i >= self.total - self.KEEP:
            self.results.append(r)
        else:
            self._omitted[r.status] = self._omitted.get(r.status, 0) + 1

    def omitted(self) -> dict[str, int] | None:
        return dict(self._omitted) if self._omitted else None


@dataclass
class RunResult:
    """What a run did: its status, steps, outputs and error."""
    run_id: str
    playbook: str
    file: str
    environment: str
    inputs: dict[str, Any]
    status: str = PASSED
    started: float = field(default_factory=time.time)
    duration_ms: float = 0.0
    steps: list[StepResult] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    hint: str | None = None
    failed_step: str | None = None
    # an errored run: the traceback of its internal error, redacted; for the crash log only
    traceback: str | None = field(default=None, repr=False, compare=False)
    unrecorded: bool = field(default=False, repr=False, compare=False)  # the store failed it
    # the undo of its completed steps (runner.undo), when one ran: "undone" (every undo step
    # passed), "partly-undone" (one failed; the others still ran), "interrupted" (stopped
    # mid-undo: runner resume continues it); None when nothing was undone
    undo_status: str | None = None
    undone: list[StepResult] = field(default_factory=list)  # the undo steps, in the order run

    def to_dict(self) -> dict[str, Any]:
        out = {
            "run_id": self.run_id, "playbook": self.playbook, "file": self.file,
            "environment": self.environment, "inputs": self.inputs, "status": self.status,
            "started": self.started, "duration_ms": round(self.duration_ms, 2),
            "steps": [s.to_dict() for s in self.steps], "outputs": self.outputs,
            "error": self.error, "hint": self.hint, "failed_step": self.failed_step,
        }
        if self.undo_status is not None:
            out["undo"] = {"status": self.undo_status,
                           "steps": [s.to_dict() for s in self.undone]}
        return out


class Listener:
    """Receives the engine's events. Every method is optional; arguments are not redacted."""

    def run_started(self, run: RunResult) -> None: ...
    def step_started(self, result: StepResult, iteration: int | None) -> None: ...
    def loop_started(self, result: StepResult, total: int) -> None: ...
    def exchange(self, result: StepResult, exchange: Exchange) -> None: ...
    def poll_attempt(self, result: StepResult, attempt: int, elapsed: float,
                     state: str) -> None: ...
    def step_finished(self, result: StepResult, iteration: int | None) -> None: ...
    def undo_started(self, count: int, reason: str) -> None: ...
    def undo_finished(self, status: str) -> None: ...
    def run_finished(self, run: RunResult) -> None: ...
