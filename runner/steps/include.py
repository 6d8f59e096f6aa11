"""`include`: run another playbook with inputs; its outputs become ``<step id>`` here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runner.model import Step
from runner.results import StepResult
from runner.steps.common import Scope, render
from runner.templating import SECRET_INPUTS, reads_secret

if TYPE_CHECKING:
    from runner.engine import Runtime


def run(rt: Runtime, step: Step, scope: Scope, result: StepResult) -> None:
    sub = step.include
    assert sub is not None
    inputs = render(rt, dict(step.include_inputs), scope, "with")
    # an input given a value derived from a secret stays secret in there
    tainted = frozenset(name for name, value in step.include_inputs.items()
                        if reads_secret(value, scope.get(SECRET_INPUTS, ())))
    outputs = rt.run_nested(sub, inputs, result, secret=tainted)
    result.outputs = outputs
    scope[step.id] = outputs
    rt.remember(step, scope, outputs=outputs)
