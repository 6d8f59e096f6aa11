"""What the step kinds share: building a call, sending it, extracting, asserting."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from runner.connectors.http import NO_BODY, PreparedCall
from runner.connectors.response import Response
from runner.connectors.retry import RetryPolicy
from runner.errors import AssertionFailed, StepFailed, TransportError, VendorError
from runner.extract import ExtractError
from runner.model import Step
from runner.results import Exchange, StepResult
from runner.templating import TemplateFailure, compile_expression

if TYPE_CHECKING:
    from runner.engine import Runtime

Scope = MutableMapping[str, Any]


def render(rt: Runtime, value: Any, scope: Scope, what: str) -> Any:
    try:
        return rt.renderer.render(value, scope)
    except TemplateFailure as e:
        raise StepFailed(f"{what}: {e}", hint=_undefined_hint(e)) from None


def evaluate(rt: Runtime, expr: str, scope: Scope, what: str) -> Any:
    try:
        return rt.renderer.evaluate(expr, scope)
    except TemplateFailure as e:
        raise StepFailed(f"{what} `{expr}`: {e}", hint=_undefined_hint(e)) from None


def _undefined_hint(e: TemplateFailure) -> str | None:
    if e.name:
        return f"'{e.name}' has no value at this point of the run"
    return None


def build_call(rt: Runtime, step: Step, scope: Scope) -> PreparedCall:
    spec = step.call
    assert spec is not None
    client = rt.client(spec.connector)
    if spec.operation:
        params = render(rt, dict(spec.params), scope, "with")
        return client.prepare(spec.operation, params)
    return client.prepare_raw(
        str(render(rt, spec.method, scope, "method")),
        str(render(rt, spec.path, scope, "path")),
        query=render(rt, dict(spec.query or {}), scope, "query"),
        headers={k: str(v) for k, v in render(rt, dict(spec.headers or {}), scope,
                                               "headers").items()},
        json=render(rt, spec.json, scope, "json") if spec.has_json else NO_BODY,
        form=render(rt, dict(spec.form), scope, "form") if spec.form is not None else None,
        safe=spec.safe,
    )


def send(rt: Runtime, step: Step, result: StepResult, call: PreparedCall,
         attempt: int | None = None) -> Response:
    """Send ``call`` through its connector, record the exchange, emit the event."""
    client = rt.client(call.connector)
    exchange = Exchange(request=call.record(), attempt=attempt)
    journal = rt.journal if not call.safe else None
    if journal is not None:
        journal.sent(result.key, call.record())  # before it goes: a crash now is "unknown"
    policy = RetryPolicy.from_conf(step.retry, client.retry) if step.retry is not None else None
    try:
        response = client.send(call, retry=policy, sleep=rt.sleep)
    except TransportError as e:
        if journal is not None and e.sent is False:
            journal.answered(result.key, f"not sent: {e.message}")
        record_login(rt, client, result)
        exchange.request = call.record()  # auth headers added by now
        exchange.error = e.message
        result.exchanges.append(exchange)
        rt.emit("exchange", result, exchange)
        raise
    except StepFailed as e:
        if journal is not None and getattr(e, "sent", None) is False:  # Unsendable
            journal.answered(result.key, f"not sent: {e.message}")
        record_login(rt, client, result)
        raise
    if journal is not None:
        journal.answered(result.key, response.error)
    record_login(rt, client, result)
    exchange.request = call.record()
    exchange.response = response.summary()
    result.exchanges.append(exchange)
    rt.emit("exchange", result, exchange)
    return response


def record_login(rt: Runtime, client: Any, result: StepResult) -> None:
    """Record the login the connector sent on its own (first use, or renewal), if any."""
    if client.last_login is None:
        return
    login_call, login_response = client.last_login
    client.last_login = None
    login = Exchange(request=login_call.record(), response=login_response.summary())
    result.exchanges.append(login)
    rt.emit("exchange", result, login)


def vendor_failure(call: PreparedCall, response: Response) -> VendorError:
    return VendorError(f"{call.target} answered: {response.error}", status=response.status_code,
                       hint="the vendor refused the request; see its message above "
                       "(allow-error: true lets a step read response.error instead)")


def apply_extract(rt: Runtime, step: Step, response: Response, scope: Scope,
                  result: StepResult) -> None:
    for name, extractor in step.extract:
        ex = extractor
        if "{{" in ex.expr:
            rendered = str(render(rt, ex.expr, scope, f"extract {name}"))
            ex = dataclasses.replace(ex, expr=rendered)
        try:
            value = ex.apply(response)
        except (ExtractError, TransportError) as e:
            raise StepFailed(f"extract {name}: {e}", hint=getattr(e, "hint", None)) from None
        scope[name] = value
        result.extracted[name] = value


_CHAIN = re.compile(r"(?<![\w.|'\"])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[[^\[\]]+\])*)(?!\s*\()")
_WORDS = frozenset({"and", "or", "not", "is", "in", "if", "else", "true", "false", "none",
                    "True", "False", "None", "defined", "undefined", "sameas", "mapping"})


def expression_values(rt: Runtime, expr: str, scope: Scope) -> dict[str, str]:
    """The value of each name or attribute chain in ``expr``, for a failure message."""
    out: dict[str, str] = {}
    for m in _CHAIN.finditer(expr):
        chain = m.group(1)
        if chain in _WORDS or chain in out or expr[max(0, m.start() - 3):m.start()].strip() == "is":
            continue
        before = expr[: m.start()].rstrip()
        if before.endswith("|") or before.endswith(" is") or before.endswith(" is not"):
            continue
        try:
            value = compile_expression(chain).fn(scope)
            text = repr(value)
        except Exception as e:  # undefined, or a sandbox refusal: show why
            text = f"<{type(e).__name__}: {str(e)[:80]}>"
        out[chain] = rt.redactor.redact(text if len(text) <= 200 else text[:200] + "...")
    return out


def apply_asserts(rt: Runtime, step: Step, scope: Scope, result: StepResult) -> None:
    for a in step.asserts:
        try:
            ok = bool(rt.renderer.evaluate(a.that, scope))
            problem = None
        except TemplateFailure as e:
            ok, problem = False, str(e)
        record: dict[str, Any] = {"that": a.that, "passed": ok}
        result.assertions.append(record)
        if ok:
            continue
        values = expression_values(rt, a.that, scope)
        record["values"] = values
        message = None
        if a.message:
            try:
                message = str(rt.renderer.render(a.message, scope))
            except TemplateFailure:
                message = a.message
        record["message"] = message
        shown = "; ".join(f"{k} = {v}" for k, v in values.items())
        text = f"assertion failed: {a.that}"
        if message:
            text = f"{message} (assertion: {a.that})"
        if problem:
            text += f" [{problem}]"
        raise AssertionFailed(text, hint=f"values: {shown}" if shown else None)
