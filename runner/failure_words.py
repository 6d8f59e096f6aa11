"""What a failure says first: the vendor's words, then runner's, then where the step is.

A failed step's error is runner's sentence about what detected the failure (a ``fail-if`` that
held, an assertion, a status not expected); what the person on call needs first is what the
vendor said ("Installation of fail-office.exe failed"). The vendor's words are the answer's
error as the connector read it (its ``errors`` rules or hook), else a message the answer's
JSON carries under a usual key (``error``, ``message``, ``detail``...; at the top or one
level down, as in ``{"status": true, "data": {"error": "..."}}``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from runner.results import ERRORED, FAILED, Exchange, RunResult, StepResult

KEYS = ("error", "message", "errorMessage", "error_message", "detail", "reason",
        "description")
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


def _in_body(body: Any, depth: int = 0) -> str:
    if not isinstance(body, dict):
        return ""
    for key in KEYS:
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    if depth < 1:
        for value in body.values():
            found = _in_body(value, depth + 1)
            if found:
                return found
    return ""


def vendor_words(exchange: Exchange) -> str:
    """What the vendor said in this answer about an error; "" when it said nothing."""
    response = exchange.response
    if not response:
        return ""  # a transport error: runner's words, already in the step's error
    if response.get("error"):
        return str(response["error"])[:LIMIT]
    try:
        body = json.loads(response.get("body") or "")
    except ValueError:  # not JSON, or cut short in the report
        return ""
    return _in_body(body)[:LIMIT]


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
