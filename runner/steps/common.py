"""Rendering a step's templates and expressions, with a failure that says what was undefined."""

from __future__ import annotations

from typing import Any

from runner.errors import StepFailed
from runner.steps.runtime import CallContext, Scope
from runner.template_compile import TemplateFailure


def render(rt: CallContext, value: Any, scope: Scope, what: str) -> Any:
    try:
        return rt.renderer.render(value, scope)
    except TemplateFailure as e:
        raise StepFailed(f"{what}: {e}", hint=_undefined_hint(e)) from None


def evaluate(rt: CallContext, expr: str, scope: Scope, what: str) -> Any:
    try:
        return rt.renderer.evaluate(expr, scope)
    except TemplateFailure as e:
        raise StepFailed(f"{what} `{expr}`: {e}", hint=_undefined_hint(e)) from None


def _undefined_hint(e: TemplateFailure) -> str | None:
    if e.name:
        return f"'{e.name}' has no value at this point of the run"
    return None
