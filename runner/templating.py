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

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateSyntaxError, Undefined, nodes
from jinja2.exceptions import SecurityError, UndefinedError

from runner.fast_expressions import fast_expression
from runner.secrets import MIN_LENGTH
from runner.template_env import ENV, TemplateRaised
from runner.template_names import check_names, inputs_read, names_read
from runner.unsure import Unsure

__all__ = ["ENV", "SECRET_INPUTS", "Compiled", "Renderer", "TemplateFailure", "compile_expression",
           "compile_template", "expression_names", "is_template", "reads_secret",
           "template_names"]

_SINGLE = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}\s*$", re.S)
SECRET_ROOTS = frozenset({"secrets"})
# the scope key naming its secret inputs: not a name, so no template can read or shadow it
SECRET_INPUTS = "secret inputs"


class TemplateFailure(Exception):
    """A template could not be compiled or rendered; the caller adds where and which step."""

    def __init__(self, message: str, *, name: str | None = None, syntax: bool = False):
        super().__init__(message)
        self.name = name
        self.syntax = syntax


@dataclass(frozen=True)
class Compiled:
    source: str
    names: frozenset[str]  # top-level names the template reads
    fn: Callable[[Mapping[str, Any]], Any]
    is_text: bool  # rendering yields a string (not a native value)
    # the inputs read as inputs.NAME or inputs['NAME']; None: inputs read whole or by a
    # computed key, so possibly every one
    inputs_read: frozenset[str] | None = frozenset()
    # a text of several {{ }}: each expression alone, to register only those reading a secret;
    # None when blocks ({% for %}, {% set %}) make parts meaningless alone
    parts: tuple[Compiled, ...] | None = None

    @property
    def reads_secrets(self) -> bool:
        return not self.names.isdisjoint(SECRET_ROOTS)

    def reads_secret(self, secret_inputs: Collection[str]) -> bool:
        """Whether the result may be derived from ``secrets`` or one of ``secret_inputs``."""
        if self.reads_secrets:
            return True
        if not secret_inputs or "inputs" not in self.names:
            return False
        return self.inputs_read is None or not self.inputs_read.isdisjoint(secret_inputs)


_cache: dict[tuple[str, bool], Compiled] = {}


def is_template(value: str) -> bool:
    return "{{" in value or "{%" in value


def _check_ast(ast: nodes.Template) -> None:
    # Refuse dunder and private attribute access up front (the sandbox refuses it at run time
    # too, but a validation error with a line beats a run that fails half-way).
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        attr: Any = getattr(node, "attr", None)
        if isinstance(node, nodes.Getitem):
            attr = getattr(node.arg, "value", None)
        if isinstance(attr, str) and attr.startswith("_"):
            raise TemplateFailure(f"access to the private attribute '{attr}' is not allowed",
                                  syntax=True)


def compile_template(source: str) -> Compiled:
    """Compile a template string (cached)."""
    key = (source, False)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    m = _SINGLE.match(source)
    if m:
        compiled = _compile_expr(m.group("expr"), source)
    else:
        try:
            ast = ENV.parse(source)
            _check_ast(ast)
            check_names(ast)
        except TemplateSyntaxError as e:
            raise TemplateFailure(f"template syntax error: {e.message}", syntax=True) from None
        names = names_read(ast)
        compiled = Compiled(source, names,
                            _Lazy(lambda: _bind(ENV.from_string(ast).render, names)), True,
                            inputs_read(ast), _parts(ast, source))
    _cache[key] = compiled
    return compiled


def _text_part(expr: nodes.Expr, source: str) -> Compiled:
    ast = nodes.Template([nodes.Output([expr], lineno=expr.lineno)], lineno=expr.lineno)
    ast.set_environment(ENV)
    names = names_read(ast)
    return Compiled(source, names, _Lazy(lambda: _bind(ENV.from_string(ast).render, names)),
                    True, inputs_read(ast))


def _parts(ast: nodes.Template, source: str) -> tuple[Compiled, ...] | None:
    outputs = [node for node in ast.body if isinstance(node, nodes.Output)]
    if len(outputs) != len(ast.body):
        return None
    return tuple(_text_part(expr, source) for out in outputs for expr in out.nodes
                 if not isinstance(expr, nodes.TemplateData))


def compile_expression(expr: str) -> Compiled:
    """Compile a bare Jinja expression, as used by ``when``, ``poll-until``, ``assert``."""
    key = (expr, True)
    hit = _cache.get(key)
    if hit is None:
        hit = _cache[key] = _compile_expr(expr, expr)
    return hit


def _compile_expr(expr: str, source: str) -> Compiled:
    try:
        ast = ENV.parse("{{ " + expr + " }}")
        _check_ast(ast)
        check_names(ast)
    except TemplateSyntaxError as e:
        raise TemplateFailure(f"expression syntax error: {e.message}", syntax=True) from None
    names = names_read(ast)
    inputs = inputs_read(ast)
    slow = _Lazy(lambda: _bind(ENV.compile_expression(expr, undefined_to_none=False), names))
    body = ast.body[0] if len(ast.body) == 1 else None
    fast = fast_expression(body.nodes[0], ENV.tests) \
        if isinstance(body, nodes.Output) and len(body.nodes) == 1 else None
    if fast is None:
        return Compiled(source, names, slow, False, inputs)

    def call(ctx: Mapping[str, Any]) -> Any:
        try:
            return fast(ctx)
        except Unsure:  # something off the plain path: Jinja decides, and words the error
            return slow(ctx)

    return Compiled(source, names, call, False, inputs)


class _Lazy:
    """A function made on its first call (two threads may both make it: same result)."""

    __slots__ = ("_fn", "_make")

    def __init__(self, make: Callable[[], Callable[[Mapping[str, Any]], Any]]) -> None:
        self._make = make
        self._fn: Callable[[Mapping[str, Any]], Any] | None = None

    def __call__(self, ctx: Mapping[str, Any]) -> Any:
        fn = self._fn
        if fn is None:
            fn = self._fn = self._make()
        return fn(ctx)


def _bind(fn: Callable[..., Any], names: frozenset[str]) -> Callable[[Mapping[str, Any]], Any]:
    """Call ``fn`` with the names it reads only: Jinja copies what it is given into a new
    context on every call, and a run's scope holds every input, step and extracted value."""
    wanted = tuple(names)

    def call(ctx: Mapping[str, Any]) -> Any:
        return fn(**{n: ctx[n] for n in wanted if n in ctx})

    return call


def _call(compiled: Compiled, ctx: Mapping[str, Any]) -> Any:
    try:
        out = compiled.fn(ctx)
        if isinstance(out, Undefined):  # a bare {{ name }} evaluates to it without raising
            out._fail_with_undefined_error()
        return out
    except UndefinedError as e:
        raise TemplateFailure(_undefined_message(e), name=_undefined_name(e)) from None
    except SecurityError as e:
        raise TemplateFailure(f"refused by the template sandbox: {e}") from None
    except TemplateRaised as e:
        raise TemplateFailure(str(e)) from None
    except TemplateFailure:
        raise
    except Exception as e:  # a filter or an operator failed on the data
        raise TemplateFailure(f"{type(e).__name__}: {e}") from None


def _undefined_name(e: UndefinedError) -> str | None:
    m = re.match(r"'([^']+)' is undefined", str(e))
    return m.group(1) if m else None


def _undefined_message(e: UndefinedError) -> str:
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
