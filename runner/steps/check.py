"""`assert`: expressions that must hold; a failure shows the expression and its values."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runner.model import Step
from runner.results import StepResult
from runner.steps.common import Scope, apply_asserts

if TYPE_CHECKING:
    from runner.engine import Runtime


def run(rt: Runtime, step: Step, scope: Scope, result: StepResult) -> None:
    apply_asserts(rt, step, scope, result)
    rt.remember(step, scope)
