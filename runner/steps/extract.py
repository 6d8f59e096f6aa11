"""`extract` on its own: extract from the last answer, after e.g. a `when`-guarded call."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runner.errors import StepFailed
from runner.model import Step
from runner.results import StepResult
from runner.steps.common import Scope, apply_asserts, apply_extract

if TYPE_CHECKING:
    from runner.engine import Runtime


def run(rt: Runtime, step: Step, scope: Scope, result: StepResult) -> None:
    response = scope.get("response")
    if response is None:
        raise StepFailed("there is no answer to extract from yet",
                         hint="put extract: on a call step, or after one")
    apply_extract(rt, step, response, scope, result)
    apply_asserts(rt, step, scope, result)
    rt.remember(step, scope)
