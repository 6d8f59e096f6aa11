"""Building a step's call, sending it through its connector, recording the exchange, and
wording the failure of an answer that fails the step (a vendor error, a status not expected).

The HTTP layer, the retry policy and the exchange record are imported where a call is built or
sent, not with this module: the step kinds import it, and loading a playbook (``runner
validate``) loads the kinds but sends nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runner.connectors.outcome import NOT_APPLIED, UNKNOWN
from runner.errors import StepFailed, TransportError, VendorError
from runner.model import Step
from runner.steps.call_spec import CallSpec
from runner.steps.common import render
from runner.steps.runtime import CallContext, Runtime, Scope

if TYPE_CHECKING:
    from runner.connectors.http import PreparedCall
    from runner.connectors.response import Response
    from runner.results import StepResult


def build_call(rt: CallContext, spec: CallSpec, scope: Scope) -> PreparedCall:
    from runner.connectors.bodies import body_from, multipart_from
    from runner.connectors.http import NO_BODY

    client = rt.client(spec.connector)
    if spec.operation:
        params = render(rt, dict(spec.params), scope, "with")
        call = client.prepare(spec.operation, params)
    else:
        call = client.prepare_raw(
            str(render(rt, spec.method, scope, "method")),
            str(render(rt, spec.path, scope, "path")),
            # what the step does not have is not rendered: this runs for every call of a loop
            query=render(rt, dict(spec.query), scope, "query") if spec.query else None,
            headers={k: str(v) for k, v in render(rt, dict(spec.headers), scope,
                                                   "headers").items()} if spec.headers else None,
            json=render(rt, spec.json, scope, "json") if spec.has_json else NO_BODY,
            form=render(rt, dict(spec.form), scope, "form") if spec.form is not None else None,
            # a file is read now: plan shows its size, a missing one fails before sending
            body=body_from(render(rt, spec.body, scope, "body"), spec.folder)
            if spec.has_body else None,
            multipart=multipart_from(render(rt, dict(spec.multipart), scope, "multipart"),
                                     spec.folder) if spec.multipart is not None else None,
            safe=spec.safe,
        )
    if spec.save_to is not None:
        call.save_to = str(render(rt, spec.save_to, scope, "save-to"))
    call.follow_redirects = spec.follow_redirects
    return expecting(spec, call)


def expecting(spec: CallSpec, call: PreparedCall) -> PreparedCall:
    """``call`` with the step's ``status:``, when it has one, as the statuses that are a success
    (instead of its operation's ``success:`` or any 2xx)."""
    if spec.status:
        call.success = spec.status
    return call


def send(rt: Runtime, step: Step, result: StepResult, call: PreparedCall,
         attempt: int | None = None) -> Response:
    """Send ``call`` through its connector, record the exchange, emit the event."""
    from runner.connectors.retry import RetryPolicy
    from runner.results import Exchange

    client = rt.client(call.connector)
    # `at` is now; the request is recorded once answered (auth headers added by then)
    exchange = Exchange(request={}, attempt=attempt)
    journal = rt.journal if not call.safe else None
    if journal is not None:
        journal.sent(result.key, call.record())  # before it goes: a crash now is "unknown"
    policy = RetryPolicy.from_conf(step.retry, client.retry) if step.retry is not None else None
    waited = client.waited()
    try:
        response = client.send(call, retry=policy, sleep=rt.sleep)
    except TransportError as e:
        exchange.waited_ms = round((client.waited() - waited) * 1000, 2)
        if journal is not None and e.sent is False:  # refused before it left: not applied
            journal.answered(result.key, NOT_APPLIED, f"not sent: {e.message}")
        record_login(rt, client, result)
        exchange.request = call.record(rt.redactor.redact)  # auth headers added by now
        exchange.error = e.message
        result.exchanges.append(exchange)
        rt.emit("exchange", result, exchange)
        raise
    except StepFailed as e:
        if journal is not None and getattr(e, "sent", None) is False:  # Unsendable
            journal.answered(result.key, NOT_APPLIED, f"not sent: {e.message}")
        record_login(rt, client, result)
        raise
    if journal is not None:
        journal.answered(result.key, client.outcome(call, response), response.error,
                         response.status_code)
    record_login(rt, client, result)
    exchange.waited_ms = round((client.waited() - waited) * 1000, 2)
    exchange.request = call.record(rt.redactor.redact)
    exchange.response = response.summary(redact=rt.redactor.redact)
    share_with_previous(result.exchanges, exchange)
    result.exchanges.append(exchange)
    rt.emit("exchange", result, exchange)
    return response


def share_with_previous(exchanges: list[Any], exchange: Any) -> None:
    """Make ``exchange`` hold the previous exchange's request, answer headers and body where
    they are equal, instead of copies: a poll sends the same request every attempt and mostly
    gets the same answer, and a run keeps every attempt until it ends (5,000 runs of ten
    attempts each: ~20 KB a run as copies). Records are never changed once made (reports,
    the journal and history only read them), so sharing them changes nothing they show."""
    if not exchanges:
        return
    prev = exchanges[-1]
    if exchange.request == prev.request:
        exchange.request = prev.request
    new, old = exchange.response, prev.response
    if new is not None and old is not None:
        for key in ("headers", "body"):
            if key in new and key in old and new[key] == old[key]:
                new[key] = old[key]


def record_login(rt: Runtime, client: Any, result: StepResult) -> None:
    """Record the login the connector sent on its own (first use, or renewal), if any."""
    if client.last_login is None:
        return
    from runner.results import Exchange

    login_call, login_response = client.last_login
    client.last_login = None
    login = Exchange(request=login_call.record(rt.redactor.redact),
                     response=login_response.summary(redact=rt.redactor.redact))
    result.exchanges.append(login)
    rt.emit("exchange", result, login)


def vendor_failure(call: PreparedCall, response: Response, outcome: str = NOT_APPLIED
                   ) -> VendorError:
    if outcome == UNKNOWN:  # a gateway's 504 after the vendor acted looks just like this
        hint = ("this answer does not prove the request was not applied: check on the "
                "vendor's side whether it took effect before running it again; runner resume "
                "does not send it again (a resume-check: on the step lets it find out)")
    else:
        hint = ("the vendor refused the request; see its message above "
                "(allow-error: true lets a step read response.error instead)")
    return VendorError(f"{call.target} answered: {response.error}", status=response.status_code,
                       hint=hint)


def status_failure(call: PreparedCall, response: Response, expected: tuple[int, ...],
                   outcome: str = NOT_APPLIED) -> VendorError:
    """The failure of a step whose answer's status is not among its ``status:``."""
    code = response.status_code
    got = response.error or f"HTTP {code}"
    if not got.startswith(f"HTTP {code}"):  # the connector's words for it: say the status too
        got = f"{code}: {got}"
    hint = vendor_failure(call, response, outcome).hint if outcome == UNKNOWN else (
        "the step's status: lists the answers it expects; allow-error: true lets the step go "
        "on with any answer and read response.status and response.error")
    return VendorError(f"{call.target}: expected status {one_of(expected)}, got {got}",
                       status=code, hint=hint)


def one_of(statuses: tuple[int, ...]) -> str:
    """``200``, ``200 or 201``, ``200, 201 or 204``."""
    words = [str(s) for s in statuses]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
