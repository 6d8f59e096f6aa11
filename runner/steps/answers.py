"""What a step does with an answer: extract values from it, and check its assertions.

``extract`` and ``assert`` are kinds of their own and ride on ``call`` and ``poll-until``
steps too; a failed assertion shows the value of each name its expression reads. And the
answer a step with ``allow-error: true`` reads when none came (``no_answer``, status 0).
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any

from runner.connectors.response import Response
from runner.errors import AssertionFailed, StepFailed, TransportError
from runner.extract_error import ExtractError
from runner.model import Step
from runner.steps.common import render
from runner.steps.runtime import Runtime, Scope
from runner.template_compile import TemplateFailure, compile_expression

if TYPE_CHECKING:  # a type only: loading a playbook needs no results
    from runner.connectors.http import PreparedCall
    from runner.results import StepResult

NO_ANSWER = 0  # the status of an answer that never came (k6's and Postman's 0 too)


def no_answer(rt: Runtime, call: PreparedCall, e: TransportError, elapsed_ms: float
              ) -> Response:
    """What a step with ``allow-error: true`` goes on with when no answer came (connection
    refused, a timeout, a TLS failure, an answer cut short...: after the retry policy gave up):
    status 0, no headers, no body, and ``error`` the transport error's message. It is redacted
    here, not only in the outputs, since a template may pass it on (to a vendor, a file): it
    names the host, and a base URL's ``user:password@`` goes with the host."""
    redact = rt.redactor.redact
    return Response(NO_ANSWER, {}, b"", url=redact(call.url), method=call.method,
                    elapsed_ms=elapsed_ms, decode=call.decode, error=redact(e.message),
                    attempts=e.attempts)


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


_STRING = re.compile(r"'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"")


def _blank_strings(expr: str) -> str:
    """``expr`` with its string literals blanked (same length): a word inside one (``'successfully
    done'``) is not a name to show the value of."""
    return _STRING.sub(lambda m: m.group()[0] + " " * (len(m.group()) - 2) + m.group()[-1], expr)


def expression_values(rt: Runtime, expr: str, scope: Scope) -> dict[str, str]:
    """The value of each name or attribute chain in ``expr``, for a failure message."""
    out: dict[str, str] = {}
    for m in _CHAIN.finditer(_blank_strings(expr)):
        chain = m.group(1)
        if chain in _WORDS or chain in out or expr[max(0, m.start() - 3):m.start()].strip() == "is":
            continue
        before = expr[: m.start()].rstrip()
        if before.endswith("|") or before.endswith(" is") or before.endswith(" is not"):
            continue
        try:
            value = compile_expression(chain).fn(scope)
            text = _shown(value)
        except Exception as e:  # undefined, or a sandbox refusal: show why
            text = f"<{type(e).__name__}: {str(e)[:80]}>"
        out[chain] = rt.redactor.redact(text if len(text) <= 200 else text[:200] + "...")
    return out


def _shown(value: Any) -> str:
    """``value`` as a failure message shows it: a float of many digits (a time measured,
    ``response.elapsed_ms``) shortened to the digits that say something (1002.7, 1.003)."""
    text = repr(value)
    if isinstance(value, float) and len(text) > 12:
        return f"{value:.1f}" if abs(value) >= 100 else f"{value:.4g}"
    return text


def _schema_problems(a: Any, scope: Scope) -> list[str]:
    """What is wrong with the step's answer against ``assert: {schema: ...}``."""
    response = scope.get("response")
    if not isinstance(response, Response):
        return ["there is no answer to check: the step is not a call, and no call came before"]
    data = response.json
    is_json = data is not None or response.content.strip().startswith(b"null")
    problems: list[str] = a.schema.problems(response.status_code, data, is_json=is_json)
    return problems


def _schema_assert(rt: Runtime, a: Any, scope: Scope, result: StepResult) -> None:
    problems = [rt.redactor.redact(p) for p in _schema_problems(a, scope)]
    record: dict[str, Any] = {"that": a.that, "passed": not problems}
    result.assertions.append(record)
    if not problems:
        return
    record["values"] = {"problems": "; ".join(problems)}
    message = None
    if a.message:
        try:
            message = str(rt.renderer.render(a.message, scope))
        except TemplateFailure as e:
            message = f"(its message could not be rendered: {e})"
    record["message"] = message
    head = f"{message} ({a.that})" if message else f"the answer does not match {a.that}"
    raise AssertionFailed(f"{head}: {problems[0]}",
                          hint=("also: " + "; ".join(problems[1:])) if problems[1:] else None)


def apply_asserts(rt: Runtime, step: Step, scope: Scope, result: StepResult) -> None:
    for a in step.asserts:
        if a.schema is not None:
            _schema_assert(rt, a, scope, result)
            continue
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
        unrendered = None
        if a.message:
            try:
                message = str(rt.renderer.render(a.message, scope))
            except TemplateFailure as e:  # not the raw {{ }}: say why it could not be said
                unrendered = f"its message could not be rendered: {e}"
        record["message"] = message
        shown = "; ".join(f"{k} = {v}" for k, v in values.items())
        text = f"assertion failed: {a.that}"
        if message:
            text = f"{message} (assertion: {a.that})"
        if problem:
            text += f" [{problem}]"
        if unrendered:
            text += f" ({unrendered})"
        raise AssertionFailed(text, hint=f"values: {shown}" if shown else None)
