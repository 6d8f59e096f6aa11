"""`call`: one connector operation, or a raw method and path on a connector.

A call that is not safe to repeat may carry a ``resume-check``: on ``runner resume``, when an
earlier attempt sent it and its outcome is unknown, that call finds out whether it took effect
(``runner.restore``); and an ``undo``: the calls that compensate it once it passed, run last
first when a later step fails (``runner.undo``; the loader builds them as steps).

With ``allow-error: true`` neither an error answer nor no answer at all (a transport error, once
the retry policy gave up) fails the step: ``response.error`` says what happened, and a missing
answer reads as status 0 with an empty body (``runner.steps.answers.no_answer``). The step passed,
so ``runner resume`` never sends it again, even when its outcome is unknown. ``status:`` names
the statuses the answer must have: one of them is a success, any other fails the step.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from runner.connectors.outcome import NOT_APPLIED
from runner.connectors.spec import safe_by_verb
from runner.errors import TransportError
from runner.loader import Path_
from runner.model import Step
from runner.schema_atoms import IDENT
from runner.steps.answers import apply_asserts, apply_extract, no_answer
from runner.steps.call_spec import CallSpec
from runner.steps.calls import CALL_SCHEMA, build_call_spec
from runner.steps.check import SCHEMA as ASSERT_SCHEMA
from runner.steps.extract import SCHEMA as EXTRACT_SCHEMA
from runner.steps.kind import Builder, Planner
from runner.steps.paging_keys import PAGING_SCHEMA
from runner.steps.runtime import Runtime, Scope
from runner.steps.sending import build_call, one_of, send, status_failure, vendor_failure

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
    **PAGING_SCHEMA,
}
# an undo step is a call (with its answer's extract and assert), no loop, no undo of its own
UNDO_STEP: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["call"],
    "properties": {"id": {"type": "string", "pattern": IDENT}, "name": {"type": "string"},
                   "when": {"type": ["string", "boolean"]}, **CALL_SCHEMA,
                   "retry": {"type": ["boolean", "object"]}, **EXTRACT_SCHEMA, **ASSERT_SCHEMA},
}
SCHEMA["undo"] = {
    "type": "array", "minItems": 1, "items": UNDO_STEP,
    "description": "calls that compensate this one once it passed (delete what it created), "
    "run last first when a later step fails, or by runner undo RUN_ID; they read this "
    "step's response and extracted values",
}
KEYS = frozenset(SCHEMA)


def build(b: Builder, raw: Mapping[str, Any], path: Path_) -> CallSpec:
    spec = build_call_spec(b, raw, path)
    if "undo" in raw:  # only what changes something needs compensating
        if spec.operation:
            safe = b.alias(spec.connector, path + ("call",)).operations[spec.operation].safe
        else:
            safe = safe_by_verb(spec.method or "") if spec.safe is None else spec.safe
        if safe:
            raise b.fail(path + ("undo",), f"{spec.target} is safe to repeat: it changes "
                         "nothing, so there is nothing to undo",
                         "put undo: on the call that creates or changes something")
        if path[0] == "finally":
            raise b.fail(path + ("undo",), "a finally step cannot have undo: (the undos "
                         "run before the finally steps)",
                         "move the call into steps:, or undo it in a later finally step")
    if any(key in raw for key in PAGING_SCHEMA):  # the paging code is loaded when asked for
        from runner.steps.paging import paged

        return paged(b, raw, path, spec)
    return spec


def run(rt: Runtime, step: Step, scope: Scope, result: StepResult) -> None:
    spec: CallSpec = step.spec
    if spec.all_pages:  # every page, each an exchange; the answer's JSON is the items
        from runner.steps.paging import read_pages

        call, response = read_pages(rt, step, result, spec, scope)
    else:
        call = build_call(rt, spec, scope)
        start = time.perf_counter()
        try:
            response = send(rt, step, result, call)
        except TransportError as e:  # the retry policy gave up; the exchange is recorded
            if not spec.allow_error:
                result.maybe_applied = not call.safe and e.sent is not False
                raise
            response = no_answer(rt, call, e, (time.perf_counter() - start) * 1000)
    scope["response"] = response
    if response.error is not None and not spec.allow_error:
        outcome = rt.client(call.connector).outcome(call, response) if not call.safe else ""
        result.maybe_applied = outcome not in ("", NOT_APPLIED)  # its undo: runs too
        if spec.status and response.status_code not in spec.status:
            raise status_failure(call, response, spec.status, outcome)
        raise vendor_failure(call, response, outcome)
    apply_extract(rt, step, response, scope, result)
    apply_asserts(rt, step, scope, result)
    rt.remember(step, scope, response=response)  # steps.<id> exists once the step passed


def plan(p: Planner, step: Step, scope: Scope, pad: str) -> None:
    spec: CallSpec = step.spec
    p.request(spec, step, scope, pad)
    if spec.status:
        p.line(f"{pad}expects status {one_of(spec.status)}")
    if spec.all_pages:
        pager = spec.paginate or p.connector(spec.connector).operations[
            str(spec.operation)].paginate
        bound = f", at most {spec.max_items} items" if spec.max_items else ""
        p.line(f"{pad}then every next page ({pager.style if pager else '?'} paging{bound})")
