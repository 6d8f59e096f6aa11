"""`call`: one connector operation, or a raw method and path on a connector."""

from __future__ import annotations

from runner.model import Step
from runner.results import StepResult
from runner.steps.common import (
    Scope, apply_asserts, apply_extract, build_call, send, vendor_failure,
)


def run(rt, step: Step, scope: Scope, result: StepResult) -> None:  # type: ignore[no-untyped-def]
    call = build_call(rt, step, scope)
    response = send(rt, step, result, call)
    scope["response"] = response
    rt.remember(step, scope, response=response)
    if response.error is not None and not step.allow_error:
        raise vendor_failure(call, response)
    apply_extract(rt, step, response, scope, result)
    apply_asserts(rt, step, scope, result)
