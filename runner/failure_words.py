"""What a failure says first: the vendor's words, then runner's, then where the step is.

A failed step's error is runner's sentence about what detected the failure (a ``fail-if`` that
held, an assertion, a status not expected); what the person on call needs first is what the
vendor said ("Installation of fail-office.exe failed"), read from the answer as the reports
read it (:func:`runner.report.vendor_words`: the connector's reading of an error, else an
error field of the JSON, an envelope or two down).
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.report import vendor_words as report_vendor_words
from runner.results import ERRORED, FAILED, Exchange, RunResult, StepResult

LIMIT = 300


@dataclass(frozen=True)
class Failure:
    """A failed run's failure, in the order the console says it."""

    step: StepResult  # the innermost failed step (inside loops and includes)
    vendor: str  # the vendor's words, or ""
    said_by: str  # who said them: the step's connector
    error: str  # runner's words: what detected the failure (they may quote the vendor's)


def innermost(result: StepResult) -> StepResult:
    """The failed step inside ``result``: its first failed iteration or included step, down."""
    while True:
        inner = next((r for r in result.iterations if r.status in (FAILED, ERRORED)), None)
        if inner is None:
            return result
        result = inner


def _answers(steps: list[StepResult], before: float) -> list[tuple[str, Exchange]]:
    """The exchanges of ``steps`` that started by ``before``, in the order the steps recorded
    them (a login a call needed comes before the call's own), with the connector of each."""
    out: list[tuple[str, Exchange]] = []
    for s in steps:
        if s.started <= before:
            out += [(s.target.split(".")[0], e) for e in s.exchanges]
            out += _answers(s.iterations, before)
    return out


def vendor_words(exchange: Exchange) -> str:
    """What the vendor said in this answer about an error; "" when it said nothing (one
    reading for the console and the reports: :func:`runner.report.vendor_words`)."""
    return report_vendor_words(exchange.response)[:LIMIT]


def failure_of(run: RunResult) -> Failure | None:
    """The run's failure, or None when no step failed (a run stopped between steps)."""
    top = next((s for s in run.steps if s.status in (FAILED, ERRORED)), None)
    if top is None:
        return None
    step = innermost(top)
    error = step.error or run.error or ""
    # its last answer; a step without one of its own (an assert) reads the run's last before it
    answers = _answers([step], step.started) or _answers(run.steps, step.started)
    if not answers:
        return Failure(step, "", "", error)
    said_by, last = answers[-1]
    return Failure(step, vendor_words(last), said_by, error)
