"""One sandboxed Jinja2 environment for every template and expression.

- ``StrictUndefined``: a name that is not defined fails, it never renders as "".
- Compiled templates are cached by source text, so a loop of 1,000 calls compiles once.
- A string that is exactly one ``{{ expr }}`` renders to the expression's native value (a list
  stays a list, a number a number); any other string renders to a string.
- Only strings written in a playbook or a connector file are compiled. Values that came from a
  response are data in the context and are never compiled, so ``{{ ... }}`` in an API answer is
  inert text.
- A template that reads ``secrets`` or a secret input registers its rendered result with the
  redactor, so values derived from a secret (``b64encode``, slicing, concatenation) are
  redacted like the secret. The scope names its secret inputs under :data:`SECRET_INPUTS`. In a
  text with several ``{{ }}`` (an assert message), only the parts that read a secret are
  registered, so the rest of the text stays readable; unless a part is too short to be
  redacted alone, then the whole text is.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Collection, Mapping
from typing import Any

from runner.secrets import MIN_LENGTH
from runner.template_base import TemplateRaised
from runner.template_compile import (
    Compiled,
    TemplateFailure,
    compile_expression,
    compile_template,
    is_template,
)

__all__ = ["SECRET_INPUTS", "Renderer", "expression_names", "is_withheld", "reads_secret",
           "shown", "template_names", "withheld"]

# the scope key naming its secret inputs: not a name, so no template can read or shadow it
SECRET_INPUTS = "secret inputs"


def _call(compiled: Compiled, ctx: Mapping[str, Any]) -> Any:
    try:
        out = compiled.fn(ctx)
        # only Jinja makes Undefined values, so there is none to find before it is imported;
        # while another thread imports it the module is there without the name: none either
        # (a template that went through Jinja here waited for the whole import)
        undefined = getattr(sys.modules.get("jinja2"), "Undefined", None)
        if undefined is not None:
            if isinstance(out, undefined):  # a bare {{ name }} evaluates to it
                out._fail_with_undefined_error()
            if isinstance(out, (list, tuple)):  # and so does each of `[a, missing]`
                for item in out:
                    if isinstance(item, undefined):
                        item._fail_with_undefined_error()
        return out
    except TemplateRaised as e:
        raise TemplateFailure(str(e)) from None
    except TemplateFailure:
        raise
    except Exception as e:
        raise _failure(e) from None


@functools.cache
def _withheld_type() -> type:
    from jinja2 import StrictUndefined  # only when a resume puts a masked value back

    class Withheld(StrictUndefined):
        __slots__ = ()

    return Withheld


def withheld(name: str, why: str) -> Any:
    """A value a template may not read, in its place: reading it fails with ``why`` (a
    value the journal kept masked, put back by a resume)."""
    return _withheld_type()(hint=why, name=name)


def is_withheld(value: Any) -> bool:
    # by name: asking every run's outputs with isinstance would import Jinja on the run path
    return type(value).__name__ == "Withheld"


def shown(scope: Mapping[str, Any]) -> dict[str, Any]:
    """``scope`` for what is only shown (the outputs, masked anyway): each withheld value
    as the mask it was kept as, at the top and in ``steps.<id>``."""
    from runner.secrets import MASK

    out = {k: MASK if is_withheld(v) else v for k, v in scope.items()}
    steps = out.get("steps")
    if isinstance(steps, Mapping):
        out["steps"] = {sid: {k: MASK if is_withheld(v) else v for k, v in entry.items()}
                        if isinstance(entry, Mapping) else entry
                        for sid, entry in steps.items()}
    return out


def _failure(e: Exception) -> TemplateFailure:
    if "jinja2" in sys.modules:  # an error of Jinja's only once Jinja has run
        from jinja2.exceptions import SecurityError, UndefinedError  # (waits for the import)

        if isinstance(e, UndefinedError):
            return TemplateFailure(_undefined_message(e), name=_undefined_name(e))
        if isinstance(e, SecurityError):
            return TemplateFailure(f"refused by the template sandbox: {e}")
    return TemplateFailure(f"{type(e).__name__}: {e}")  # a filter or an operator failed


def _undefined_name(e: Exception) -> str | None:
    m = re.match(r"'([^']+)' is undefined", str(e))
    return m.group(1) if m else None


def _undefined_message(e: Exception) -> str:
    name = _undefined_name(e)
    if name:
        return f"undefined variable '{name}'"
    return f"undefined value: {e}"


class Renderer:
    """Renders playbook values against a context; registers secret-derived results."""

    def __init__(self, on_secret: Callable[[str], None] | None = None):
        self.on_secret = on_secret

    def render(self, value: Any, ctx: Mapping[str, Any]) -> Any:
        if isinstance(value, str):
            if not is_template(value):
                return value
            compiled = compile_template(value)
            out = _call(compiled, ctx)
            if self.on_secret is not None:
                secret_inputs = ctx.get(SECRET_INPUTS, ())
                if compiled.reads_secret(secret_inputs):
                    self._register_secret_parts(compiled, out, ctx, secret_inputs)
            return out
        if isinstance(value, dict):
            return {k: self.render(v, ctx) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v, ctx) for v in value]
        return value

    def evaluate(self, expr: str, ctx: Mapping[str, Any]) -> Any:
        return _call(compile_expression(expr), ctx)

    def _register_secret_parts(self, compiled: Compiled, out: Any, ctx: Mapping[str, Any],
                               secret_inputs: Collection[str]) -> None:
        if compiled.parts is not None:
            parts = [str(_call(p, ctx)) for p in compiled.parts if p.reads_secret(secret_inputs)]
            if all(len(p) >= MIN_LENGTH or not p for p in parts):
                for p in parts:
                    self._register(p)
                return
        self._register(out)  # one value, or a text whose secret parts cannot stand alone

    def _register(self, out: Any) -> None:
        assert self.on_secret is not None
        if isinstance(out, str):
            self.on_secret(out)
        elif isinstance(out, (int, float)) and not isinstance(out, bool):
            self.on_secret(str(out))  # a secret input may be a number (a PIN)
        elif isinstance(out, dict):
            for v in out.values():
                self._register(v)
        elif isinstance(out, list):
            for v in out:
                self._register(v)


def expression_names(expr: str) -> frozenset[str]:
    return compile_expression(expr).names


def reads_secret(value: Any, secret_inputs: Collection[str]) -> bool:
    """Whether a template inside ``value`` (dicts and lists walked) reads a secret."""
    if isinstance(value, str):
        return is_template(value) and compile_template(value).reads_secret(secret_inputs)
    if isinstance(value, dict):
        return any(reads_secret(v, secret_inputs) for v in value.values())
    if isinstance(value, list):
        return any(reads_secret(v, secret_inputs) for v in value)
    return False


def template_names(value: Any) -> set[str]:
    """Top-level names read by every template inside ``value`` (dicts and lists walked)."""
    out: set[str] = set()
    if isinstance(value, str) and is_template(value):
        out |= compile_template(value).names
    elif isinstance(value, dict):
        for v in value.values():
            out |= template_names(v)
    elif isinstance(value, list):
        for v in value:
            out |= template_names(v)
    return out
