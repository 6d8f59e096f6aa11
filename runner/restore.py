"""Resuming a step: what an earlier attempt finished is put back; what it sent is checked.

A step the journal shows finished is restored, not run: its values, its ``steps.<id>``, the
``response`` it left. A step whose unsafe request was sent but not known to have finished is
not sent again, unless its ``resume-check`` (a call step's) proves it did not take effect.
"""

from __future__ import annotations

from typing import Any

from runner.connectors.outcome import NOT_APPLIED
from runner.errors import StepFailed
from runner.journal import ResumeState, restored_response
from runner.model import Step
from runner.results import PASSED, SKIPPED, StepResult
from runner.secrets import MASK
from runner.steps import KINDS
from runner.steps.answers import apply_extract
from runner.steps.runtime import Runtime, Scope
from runner.steps.sending import build_call, send
from runner.templating import withheld


def masked(value: Any) -> bool:
    """Whether a value the journal kept holds a masked secret (``***``, ``Bearer ***``)."""
    if isinstance(value, str):
        return MASK in value
    if isinstance(value, dict):
        return any(masked(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(masked(v) for v in value)
    return False


def _in_scope(name: str, value: Any) -> Any:
    if not masked(value):
        return value
    # Not run again to get it back: a safe call made before an unsafe one would now answer
    # with what that one changed (the previous token of a rotation would be the new one)
    return withheld(name, f"'{name}' was put back by the resume, and the journal keeps masked "
                    "what holds a secret: its value is not known here, so it is not sent; "
                    "start a new run (or give the value another way, e.g. as a secret input)")


def defined(step: Step, scope: Scope) -> dict[str, Any]:
    """The values a step defined, as its journal entry keeps them."""
    names = [n for n, _ in step.extract]
    if step.include is not None:
        names.append(step.id)
    return {n: scope[n] for n in names if n in scope}


def restore(resume: ResumeState, step: Step, scope: Scope, done: dict[str, Any],
            result: StepResult) -> None:
    """Put back everything a later step can read of a step an earlier attempt finished:
    its values, its ``steps.<id>`` (a skipped step had none), the ``response`` it left."""
    for name, value in (done.get("defined") or {}).items():
        scope[name] = _in_scope(name, value)  # the report shows the masked value
        if name != step.id:
            result.extracted[name] = value
        else:
            result.outputs = value
    response = restored_response(done["response"]) if done.get("response") else None
    if response is not None:
        scope["response"] = response
    entry = done.get("steps", {})  # an older journal always wrote one
    if entry is not None:
        entry = {k: _in_scope(k, v) if k != "response" else v for k, v in entry.items()}
        if done.get("steps_response") and response is not None:
            entry["response"] = response
        scope["steps"][step.id] = entry
    result.status = SKIPPED if done.get("status") == SKIPPED else PASSED
    result.skipped_reason = done.get("skipped_reason")
    result.resumed = True
    resume.resumed_keys.add(result.key)



def resume_check(rt: Runtime, resume: ResumeState, step: Step, scope: Scope,
                 result: StepResult, outcome: str) -> None:
    """A step an earlier attempt sent (``outcome``: "unknown", or "applied" when it succeeded
    but the step did not finish): refused, unless its resume-check finds out."""
    what = (f"its outcome is unknown ({resume.why(result.key)})"
            if outcome == "unknown" else "it succeeded but the step did not finish")
    check = step.resume_check
    if check is None:
        raise StepFailed(
            f"{step.target} is not safe to repeat and was sent before the run stopped; "
            f"{what}, so it is not sent again",
            hint="check on the vendor's side whether it took effect; a resume-check: on "
            "the step lets runner find out by itself; or start a new run")
    call_ = build_call(rt, check.spec, scope)
    response = send(rt, check, result, call_)
    if response.error is not None:
        # only an answer that proves "not there" (a 4xx but 408, a vendor's own error:
        # the connector's not_applied rule) says the first request did not take effect;
        # a gateway's 502 says nothing, and sending the create again then could repeat it
        if rt.client(call_.connector).outcome(call_, response) != NOT_APPLIED:
            raise StepFailed(
                f"{step.target} is not safe to repeat and was sent before the run stopped; "
                f"{what}, and its resume-check {check.target} was answered "
                f"HTTP {response.status_code}, which does not tell: it is not sent again",
                hint="run runner resume again once the vendor answers, or check on its "
                "side whether the first request took effect")
        KINDS[step.kind].run(rt, step, scope, result)  # it did not: send it now
        return
    scope["response"] = response
    apply_extract(rt, check, response, scope, result)
    rt.remember(step, scope, response=response)
    result.skipped_reason = f"resume-check: {check.target} found it done"
