"""`call`: one connector operation, or a raw method and path on a connector."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runner.model import Step
from runner.results import StepResult
from runner.steps.common import (
    Scope,
    apply_asserts,
    apply_extract,
    build_call,
    send,
    vendor_failure,
)

if TYPE_CHECKING:
    from runner.engine import Runtime


def run(rt: Runtime, step: Step, scope: Scope, result: StepResult) -> None:
    call = build_call(rt, step, scope)
    response = send(rt, step, result, call)
    scope["response"] = response
    if response.error is not None and not step.allow_error:
        outcome = rt.client(call.connector).outcome(call, response) if not call.safe else ""
        raise vendor_failure(call, response, outcome)
    apply_extract(rt, step, response, scope, result)
    apply_asserts(rt, step, scope, result)
    rt.remember(step, scope, response=response)  # steps.<id> exists once the step passed
