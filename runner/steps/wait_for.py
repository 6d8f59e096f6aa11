"""`wait-for`: wait for the POST to a `callback` step's URL; its body is then ``response``.

``timeout`` (default 10m) bounds the wait. When it passes, ``otherwise:`` (a `poll-until`
with its call: the vendor's status endpoint) finds out instead; without one the step fails.
``extract`` and ``assert`` read the answer either way: the callback's body (status 200, its
content type) or the poll's last answer. The wait holds the run ``waiting`` (see
:mod:`runner.steps.waiting`); a callback that came while the run was stopped is found when it
is resumed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import runner.steps.poll as poll
from runner.connectors.response import Response
from runner.errors import StepFailed
from runner.loader import Path_
from runner.model import Step, seconds
from runner.schema_atoms import DURATION
from runner.steps.answers import apply_asserts, apply_extract
from runner.steps.calls import CALL_SCHEMA
from runner.steps.kind import Builder, Planner
from runner.steps.runtime import Runtime, Scope
from runner.steps.waiting import journal_of, wait

if TYPE_CHECKING:
    from runner.results import StepResult

KEY = "wait-for"
YIELDS_TO: tuple[str, ...] = ()
SCHEMA: dict[str, Any] = {
    "wait-for": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
                 "description": "the id of the callback step whose URL is POSTed to"},
    "timeout": DURATION,
    "otherwise": {
        "type": "object", "additionalProperties": False, "required": ["poll-until", "call"],
        "description": "when timeout passes: poll instead (a poll-until step's keys)",
        "properties": {**poll.SCHEMA, **CALL_SCHEMA}},
}
KEYS = frozenset(SCHEMA)


@dataclasses.dataclass(frozen=True)
class WaitSpec:
    """A ``wait-for:`` step: the callback, its timeout, the poll otherwise."""
    hook: str
    timeout: float
    otherwise: poll.PollSpec | None

    @property
    def target(self) -> str:
        return f"callback {self.hook}"


def build(b: Builder, raw: Mapping[str, Any], path: Path_) -> WaitSpec:
    try:
        timeout = seconds(raw.get("timeout", "10m"))
    except ValueError:
        raise b.fail(path + ("timeout",), f"timeout: {raw['timeout']!r} is not a duration",
                     hint="write a number with a unit: 30s, 10m") from None
    hook = raw["wait-for"]
    if b.earlier_kind(hook) != "callback":
        raise b.fail(path + ("wait-for",), f"{hook}: no callback step '{hook}' "
                     "comes before this one", f"add a step with id: {hook} and callback: {{}} "
                     "before the call that hands its URL over")
    otherwise = None
    if "otherwise" in raw:
        otherwise = poll.build(b, raw["otherwise"], path + ("otherwise",))
    return WaitSpec(hook, timeout, otherwise)


def run(rt: Runtime, step: Step, scope: Scope, result: StepResult) -> None:
    from runner.callback_inbox import Row, forget, replace, rows  # the store: when it runs

    spec: WaitSpec = step.spec
    hook = scope["steps"].get(spec.hook)
    if not isinstance(hook, Mapping) or "key" not in hook:
        raise StepFailed(f"wait-for: {spec.hook}: no callback step '{spec.hook}' ran before "
                         "this one", hint=f"add a step with id: {spec.hook} and callback: {{}}")
    journal = journal_of(rt, "wait-for")
    store, run_id, key = journal.store, journal.run_id, str(hook["key"])

    def look() -> Row | None:
        return next((r for r in rows(store, run_id, key, "callback")
                     if r.status == "received"), None)

    got = wait(rt, result, result.key, spec.timeout, look,
               f"waiting for the callback of {spec.hook}", **{"for": "callback", "hook": key})
    if got is None:
        if spec.otherwise is None:
            raise StepFailed(f"no callback to {spec.hook}'s URL within {spec.timeout:g} s",
                             hint="raise timeout:, or add otherwise: (a poll-until) to find "
                             "out from the vendor")
        poll.run(rt, dataclasses.replace(step, spec=spec.otherwise), scope, result)
        return
    forget(run_id)
    text = rt.redactor.redact(str(got.data.get("body", "")))
    if not got.data.get("masked"):  # `runner callbacks` kept it as sent: masked now
        replace(store, got.id, {**got.data, "body": text, "masked": True})
    content_type = str(got.data.get("content_type") or "application/json")
    url = hook.get("url")  # withheld (not a str) when a resume put the step back: masked
    response = Response(status_code=200, headers={"content-type": content_type},
                        content=text.encode(), url=url if isinstance(url, str) else "",
                        method="POST")
    scope["response"] = response
    apply_extract(rt, step, response, scope, result)
    apply_asserts(rt, step, scope, result)
    rt.remember(step, scope, response=response, callback=True)


def plan(p: Planner, step: Step, scope: Scope, pad: str) -> None:
    spec: WaitSpec = step.spec
    p.line(f"{pad}waits up to {spec.timeout:g} s for the POST to {spec.hook}'s callback URL")
    if spec.otherwise is not None:
        p.line(f"{pad}then, if none came:")
        poll.plan(p, dataclasses.replace(step, spec=spec.otherwise), scope, pad + "    ")
