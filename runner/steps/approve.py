"""`approve`: stop until a person approves the rest of the run (``runner approve RUN_ID``) or
rejects it (``runner reject RUN_ID``), from any terminal or machine that shares the store.

The value is the question, a template (``Delete {{ n }} channels?``). The run is ``waiting``
meanwhile; ``runner approve`` shows the approver the plan of the calls not safe to repeat that
are still to come, secrets masked, and records who (the OS user, or ``--as``) and when. A
``deadline`` (default 24h) that passes rejects. Rejected, the step fails: the run stops there
and its ``finally`` steps run.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runner.errors import StepFailed
from runner.loader import Path_
from runner.model import Step, seconds
from runner.schema_atoms import DURATION
from runner.steps.common import render
from runner.steps.kind import Builder, Planner
from runner.steps.runtime import Runtime, Scope
from runner.steps.waiting import journal_of, wait

if TYPE_CHECKING:
    from runner.results import StepResult

KEY = "approve"
YIELDS_TO: tuple[str, ...] = ()
SCHEMA: dict[str, Any] = {
    "approve": {"type": "string", "minLength": 1,
                "description": "the question the approver answers (runner approve / reject "
                "RUN_ID); the run waits until then"},
    "deadline": {**DURATION, "description": "no answer by then rejects (default 24h)"},
}
KEYS = frozenset(SCHEMA)


@dataclass(frozen=True)
class ApproveSpec:
    """An ``approve:`` step: its question and deadline."""
    question: str
    deadline: float
    written: str

    @property
    def target(self) -> str:
        return "approval"


def build(b: Builder, raw: Mapping[str, Any], path: Path_) -> ApproveSpec:
    b.check_templates(raw["approve"], path + ("approve",))
    given = raw.get("deadline", "24h")
    try:
        return ApproveSpec(raw["approve"], seconds(given), str(given))
    except ValueError:
        raise b.fail(path + ("deadline",), f"deadline: {given!r} is not a duration",
                     hint="write a number with a unit: 30m, 4h") from None


def run(rt: Runtime, step: Step, scope: Scope, result: StepResult) -> None:
    from runner.callback_inbox import Row, add, rows  # the store: only when it runs

    spec: ApproveSpec = step.spec
    journal = journal_of(rt, "approve")
    store, run_id, key = journal.store, journal.run_id, result.key
    question = rt.redactor.redact(str(render(rt, spec.question, scope, "approve")))

    def look() -> Row | None:
        return next(iter(rows(store, run_id, key, "approval")), None)

    got = wait(rt, result, key, spec.deadline, look,
               f"waiting for approval: runner approve {run_id} (or reject)",
               **{"for": "approval", "question": question,
                  "step": f"{step.location.file}:{step.location.line}"})
    if got is None:
        add(store, run_id, key, "approval", "rejected",
            {"by": "deadline", "at": time.time(), "why": f"no answer in {spec.written}"})
        raise StepFailed(f"not approved within {spec.written}: rejected by its deadline",
                         hint=f"the question was: {question}")
    by, at = got.data.get("by", "?"), float(got.data.get("at") or got.at)
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at)) + " UTC"
    if got.status != "approved":
        raise StepFailed(f"rejected by {by} at {when}", hint=f"the question was: {question}")
    rt.remember(step, scope, approved_by=by, approved_at=at)


def plan(p: Planner, step: Step, scope: Scope, pad: str) -> None:
    spec: ApproveSpec = step.spec
    p.line(f"{pad}waits for approval (runner approve RUN_ID), at most {spec.written}: "
           f"{spec.question}")
