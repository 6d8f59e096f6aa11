"""`assert`: expressions that must hold; a failure shows the expression and its values."""

from __future__ import annotations

from runner.model import Step
from runner.results import StepResult
from runner.steps.common import Scope, apply_asserts


def run(rt, step: Step, scope: Scope, result: StepResult) -> None:  # type: ignore[no-untyped-def]
    apply_asserts(rt, step, scope, result)
    rt.remember(step, scope)
