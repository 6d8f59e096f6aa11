"""`poll-until`: repeat a call until an expression holds.

Each attempt sends the call, then: a `fail-if` that holds stops at once (a terminal answer such
as Automatos' "Expired Job"); the `poll-until` expression that holds ends the poll; otherwise
the step waits `every` seconds (multiplied by `backoff` after each attempt, capped by
`max-interval`) and tries again, until `timeout` or `max-attempts`. An expression that reads
something the answer does not have (``response.json.data.delivered`` on an error answer) counts
as false. Transport errors during a poll (a dropped connection on a safe call) are counted apart
from "not yet" and retried within the same deadline.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from runner.errors import StepFailed, TransportError
from runner.model import Step
from runner.results import StepResult
from runner.steps.common import (
    Scope,
    apply_asserts,
    apply_extract,
    build_call,
    send,
)
from runner.templating import TemplateFailure

if TYPE_CHECKING:
    from runner.connectors.response import Response
    from runner.engine import Runtime


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


def run(rt: Runtime, step: Step, scope: Scope, result: StepResult) -> None:
    poll = step.poll
    assert poll is not None
    start = time.monotonic()
    deadline = start + poll.timeout
    interval = poll.every
    transient = 0
    attempt = 0
    response = None
    last_state = ""
    while True:
        attempt += 1
        result.attempts = attempt
        call = build_call(rt, step, scope)
        call.deadline = deadline  # the request in flight ends with the poll, not 30 s later
        try:
            response = send(rt, step, result, call, attempt=attempt)
        except TransportError as e:
            if not call.safe or e.final:  # a redirect loop will loop on the next try too
                raise
            transient += 1
            last_state = f"transport error: {e.message}"
        else:
            scope["response"] = response
            if response.error is not None and \
                    response.status_code in rt.client(call.connector).auth.renew_on:
                # refused even with credentials renewed just now: waiting will not help
                raise StepFailed(f"{call.target}: credentials refused: {response.error}",
                                 hint="check the connector's credentials in the environment")
            for expr in poll.fail_if:
                if _holds(rt, expr, scope):
                    detail = f": {response.error}" if response.error else ""
                    raise StepFailed(
                        f"{call.target} gave a terminal answer (fail-if `{expr}`){detail}",
                        hint=f"attempt {attempt}, after {time.monotonic() - start:.1f} s")
            if _holds(rt, poll.until, scope):
                break
            last_state = _state(response)
        elapsed = time.monotonic() - start
        rt.emit("poll_attempt", result, attempt, elapsed, last_state)
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
        rt.sleep(min(interval, remaining))
        interval = min(interval * poll.backoff, poll.max_interval)
    assert response is not None
    apply_extract(rt, step, response, scope, result)
    apply_asserts(rt, step, scope, result)
    rt.remember(step, scope, response=response)


def _transient_hint(count: int) -> str | None:
    return f"{count} attempt(s) failed in transport (not counted as 'not yet')" if count else None
