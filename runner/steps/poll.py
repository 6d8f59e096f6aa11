"""`poll-until`: repeat a call until an expression holds.

Each attempt sends the call, then: a `fail-if` that holds stops at once (a terminal answer such
as Automatos' "Expired Job"); the `poll-until` expression that holds ends the poll; otherwise
the step waits `every` seconds (multiplied by `backoff` after each attempt, capped by
`max-interval`) and tries again, until `timeout` or `max-attempts`. An expression that reads
something the answer does not have (``response.json.data.delivered`` on an error answer) counts
as false. Transport errors during a poll (a dropped connection on a safe call) are counted apart
from "not yet" and retried within the same deadline; one that another try cannot mend (a call
not safe to repeat that may have been sent, a redirect loop) fails the step.

With ``allow-error: true`` a transport error is an answer of status 0 (``response.error`` says
what happened) that ``fail-if`` and ``poll-until`` read like any other (``poll-until:
"response.status == 0"`` waits for a service to go away); the one that would fail the step ends
the poll instead, passing, as a call step with allow-error does. ``status:`` names the statuses
an answer may have: any other fails the step at once (with allow-error: it is "not yet").
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runner.connectors.response import replaced
from runner.errors import StepFailed, TransportError
from runner.loader import Path_
from runner.model import Step, seconds
from runner.schema_atoms import DURATION, EXPR
from runner.steps.answers import apply_asserts, apply_extract, expression_values, no_answer
from runner.steps.call_spec import CallSpec
from runner.steps.calls import CALL_SCHEMA, build_call_spec
from runner.steps.kind import Builder, Planner
from runner.steps.runtime import Runtime, Scope
from runner.steps.sending import build_call, one_of, send, status_failure
from runner.template_compile import TemplateFailure

if TYPE_CHECKING:
    from runner.connectors.http import PreparedCall
    from runner.connectors.response import Response
    from runner.results import StepResult

KEY = "poll-until"
YIELDS_TO: tuple[str, ...] = ()
SCHEMA: dict[str, Any] = {
    "poll-until": EXPR,
    "fail-if": {"anyOf": [EXPR, {"type": "array", "items": EXPR}]},
    "every": DURATION,
    "timeout": DURATION,
    "max-interval": DURATION,
    "max-attempts": {"type": "integer", "minimum": 1},
    "backoff": {"type": "number", "minimum": 1},
}
KEYS = frozenset({*SCHEMA, *CALL_SCHEMA})  # the call it repeats


@dataclass(frozen=True)
class PollSpec:
    """A ``poll-until:`` step: its call, the condition, and its pace and limits."""
    call: CallSpec
    until: str
    fail_if: tuple[str, ...]
    every: float
    timeout: float
    max_attempts: int | None
    backoff: float
    max_interval: float

    @property
    def target(self) -> str:
        return self.call.target


def build(b: Builder, raw: Mapping[str, Any], path: Path_) -> PollSpec:
    if "call" not in raw:
        raise b.fail(path + ("poll-until",), "poll-until repeats a call, but this "
                     "step has no call:", "add call: connector.operation")
    call = build_call_spec(b, raw, path)
    # the answer of the call is what poll expressions read
    b.check_expression(raw["poll-until"], path + ("poll-until",))
    fail_if = raw.get("fail-if", [])
    fail_if = [fail_if] if isinstance(fail_if, str) else fail_if
    for i, expr in enumerate(fail_if):
        b.check_expression(expr, path + ("fail-if",) + ((i,) if len(fail_if) > 1 else ()))
    every = seconds(raw.get("every", 5))
    timeout = seconds(raw.get("timeout", "10m"))
    if every > timeout:
        raise b.fail(path + ("every",), f"every ({every:g} s) is longer than timeout "
                     f"({timeout:g} s)", "the poll would try once; shorten every:")
    return PollSpec(call, raw["poll-until"], tuple(fail_if), every, timeout,
                    raw.get("max-attempts"), float(raw.get("backoff", 1.0)),
                    seconds(raw.get("max-interval", max(every, 60))))


def plan(p: Planner, step: Step, scope: Scope, pad: str) -> None:
    poll: PollSpec = step.spec
    p.request(poll.call, step, scope, pad)
    if poll.call.status:
        p.line(f"{pad}expects status {one_of(poll.call.status)}")
    p.line(f"{pad}repeat until `{poll.until}` every {poll.every:g} s (x{poll.backoff:g}, max "
           f"{poll.max_interval:g} s), timeout {poll.timeout:g} s"
           + (f", at most {poll.max_attempts} attempts" if poll.max_attempts else ""))
    for f in poll.fail_if:
        p.line(f"{pad}stop at once if `{f}`")


def _holds(rt: Runtime, expr: str, scope: Scope) -> bool:
    try:
        return bool(rt.renderer.evaluate(expr, scope))
    except TemplateFailure as e:
        if e.syntax:
            raise StepFailed(f"`{expr}`: {e}") from None
        return False


def _state(response: Response) -> str:
    if response.error:
        return f"HTTP {response.status_code}: {response.error}"[:120]
    body = response.json
    text = json.dumps(body, ensure_ascii=False) if body is not None else response.text
    return f"HTTP {response.status_code} {text}"[:120]


def _reads(rt: Runtime, poll: PollSpec, response: Response, scope: Scope) -> str:
    """What an attempt's event says of an answer that is "not yet": the values ``poll-until``
    read in it (``delivered = 'running'``), the last name of each chain; the vendor's error
    first when the answer is one."""
    values = expression_values(rt, poll.until, scope)
    text = "; ".join(f"{name.rsplit('.', 1)[-1]} = {v}" for name, v in values.items())
    if response.error:
        head = f"HTTP {response.status_code}: {response.error}"
        text = head + (f" · {text}" if text else "")
    return text[:200]


def run(rt: Runtime, step: Step, scope: Scope, result: StepResult) -> None:
    poll: PollSpec = step.spec
    woken = rt.parked_until()  # resumed: an earlier attempt parked this poll until then
    kept = rt.parked_kept() if woken is not None else {}
    began = float(kept.get("began") or time.time())  # a parked poll goes on where it was:
    if woken is not None:  # its timeout counts from its first attempt, as do its attempts
        rt.sleep(max(0.0, woken - time.time()), kept)
    start = time.monotonic() - max(0.0, time.time() - began)
    deadline = start + poll.timeout
    interval = float(kept.get("interval") or poll.every)
    transient = 0
    attempt = int(kept.get("attempts") or 0)
    response = None
    last_state = ""  # the last answer, for the failure message
    shown = ""  # what the attempt's event says: the values poll-until read
    while True:
        attempt += 1
        result.attempts = attempt
        call = build_call(rt, poll.call, scope)
        call.deadline = deadline  # the request in flight ends with the poll, not 30 s later
        sent_at = time.perf_counter()
        try:
            response = send(rt, step, result, call, attempt=attempt)
        except TransportError as e:
            ends = not call.safe or e.final  # a redirect loop will loop on the next try too
            if ends and not poll.call.allow_error:
                raise
            transient += 1
            last_state = shown = f"transport error: {e.message}"
            if poll.call.allow_error:  # the expressions see it, as an answer of status 0
                response = no_answer(rt, call, e, (time.perf_counter() - sent_at) * 1000)
                if _judge(rt, poll, call, response, scope, attempt, start) or ends:
                    break  # an end the step goes on from, as a call step with allow-error does
        else:
            if _judge(rt, poll, call, response, scope, attempt, start):
                break
            last_state, shown = _state(response), _reads(rt, poll, response, scope)
        elapsed = time.monotonic() - start
        rt.emit("poll_attempt", result, attempt, elapsed, shown)
        if rt.journal is not None:
            rt.journal.heartbeat()
        if poll.max_attempts is not None and attempt >= poll.max_attempts:
            raise StepFailed(f"`{poll.until}` still false after {attempt} attempts "
                             f"({elapsed:.1f} s); last answer: {last_state}",
                             hint=_transient_hint(transient) or "raise max-attempts, or check "
                             "the job on the vendor's side")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise StepFailed(f"`{poll.until}` still false after {poll.timeout:g} s "
                             f"({attempt} attempts); last answer: {last_state}",
                             hint=_transient_hint(transient) or "raise timeout:")
        if response is not None:  # nothing reads it while the poll waits (a new one comes)
            response.forget()
        rt.sleep(min(interval, remaining), {"began": began, "attempts": attempt,
                                            "interval": min(interval * poll.backoff,
                                                            poll.max_interval)})
        interval = min(interval * poll.backoff, poll.max_interval)
    assert response is not None
    apply_extract(rt, step, response, scope, result)
    apply_asserts(rt, step, scope, result)
    rt.remember(step, scope, response=response)


def _judge(rt: Runtime, poll: PollSpec, call: PreparedCall, response: Response, scope: Scope,
           attempt: int, start: float) -> bool:
    """Whether ``response`` ends the poll (its ``poll-until`` holds); raises for an answer that
    ends it failing: credentials refused, a ``fail-if`` that holds, a status not in
    ``status:`` (unless ``allow-error``: then it is an error answer, "not yet" as any other)."""
    replaced(scope.get("response"), response)  # the step before's: not read while it waits
    scope["response"] = response
    if response.error is not None and \
            response.status_code in rt.client(call.connector).auth.renew_on:
        # refused even with credentials renewed just now: waiting will not help
        raise StepFailed(f"{call.target}: credentials refused: {response.error}",
                         hint="check the connector's credentials in the environment")
    expected = poll.call.status
    if expected and response.status_code not in expected and not poll.call.allow_error:
        raise status_failure(call, response, expected, rt.client(call.connector).outcome(
            call, response) if not call.safe else "")
    for expr in poll.fail_if:
        if _holds(rt, expr, scope):
            detail = f": {response.error}" if response.error else ""
            raise StepFailed(
                f"{call.target} gave a terminal answer (fail-if `{expr}`){detail}",
                hint=f"attempt {attempt}, after {time.monotonic() - start:.1f} s")
    return _holds(rt, poll.until, scope)


def _transient_hint(count: int) -> str | None:
    return f"{count} attempt(s) failed in transport (not counted as 'not yet')" if count else None
