"""`call`: one connector operation, or a raw method and path on a connector.

A call that is not safe to repeat may carry a ``resume-check``: on ``runner resume``, when an
earlier attempt sent it and its outcome is unknown, that call finds out whether it took effect
(``runner.restore``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from runner.loader import Path_
from runner.model import Step
from runner.steps.answers import apply_asserts, apply_extract
from runner.steps.call_spec import CallSpec
from runner.steps.calls import CALL_SCHEMA, build_call_spec
from runner.steps.kind import Builder, Planner
from runner.steps.runtime import Runtime, Scope
from runner.steps.sending import build_call, send, vendor_failure

if TYPE_CHECKING:  # a type only: loading a playbook needs no results
    from runner.results import StepResult

KEY = "call"
YIELDS_TO = ("poll-until",)  # a poll-until step repeats its call
SCHEMA: dict[str, Any] = {
    **CALL_SCHEMA,
    "resume-check": {
        "type": "object", "additionalProperties": False, "required": ["call"],
        "description": "on resume, a call whose success means this step's request took effect",
        "properties": {"call": {"type": "string"}, "with": {"type": "object"},
                       "extract": {"type": "object"}},
    },
}
KEYS = frozenset(SCHEMA)


def build(b: Builder, raw: Mapping[str, Any], path: Path_) -> CallSpec:
    return build_call_spec(b, raw, path)


def run(rt: Runtime, step: Step, scope: Scope, result: StepResult) -> None:
    spec: CallSpec = step.spec
    call = build_call(rt, spec, scope)
    response = send(rt, step, result, call)
    scope["response"] = response
    if response.error is not None and not spec.allow_error:
        outcome = rt.client(call.connector).outcome(call, response) if not call.safe else ""
        raise vendor_failure(call, response, outcome)
    apply_extract(rt, step, response, scope, result)
    apply_asserts(rt, step, scope, result)
    rt.remember(step, scope, response=response)  # steps.<id> exists once the step passed


def plan(p: Planner, step: Step, scope: Scope, pad: str) -> None:
    p.request(step.spec, step, scope, pad)
