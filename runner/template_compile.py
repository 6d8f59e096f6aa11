"""Compiling a template or an expression, once per source text: parsed, its private
attribute access refused, what it reads found (:mod:`runner.template_names`), and a function
made on its first use (Jinja's compiler is most of the cost, and validation needs the parse
only). A string that is exactly one ``{{ expr }}`` compiles to the expression (a native value);
an expression of a common shape runs as plain Python (:mod:`runner.fast_expressions`), handing
over to Jinja when it is unsure. The function is called with the names it reads only."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateSyntaxError, nodes

from runner.fast_expressions import fast_expression
from runner.template_env import ENV
from runner.template_limits import capped_concat
from runner.template_names import check_names, inputs_read, names_read
from runner.unsure import Unsure

_SINGLE = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}\s*$", re.S)
SECRET_ROOTS = frozenset({"secrets"})
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
        slow = _Lazy(lambda: _bind(ENV.from_string(ast).render, names))
        compiled = Compiled(source, names, _fast_text(ast, slow) or slow, True,
                            inputs_read(ast), _parts(ast, source))
    _cache[key] = compiled
    return compiled


def _text_part(expr: nodes.Expr, source: str) -> Compiled:
    ast = nodes.Template([nodes.Output([expr], lineno=expr.lineno)], lineno=expr.lineno)
    ast.set_environment(ENV)
    names = names_read(ast)
    return Compiled(source, names, _Lazy(lambda: _bind(ENV.from_string(ast).render, names)),
                    True, inputs_read(ast))


def _fast_text(ast: nodes.Template, slow: Callable[[Mapping[str, Any]], Any]
               ) -> Callable[[Mapping[str, Any]], Any] | None:
    """A text of plain data and ``{{ expr }}`` of the common shapes (``/items/{{ item }}``)
    rendered as plain Python: each value's ``str()`` joined, as Jinja's output is, capped as
    Jinja's is; Jinja renders (and words any error) when a value is off the plain path.
    None for any other text (blocks, filters)."""
    pieces: list[str | Callable[[Mapping[str, Any]], Any]] = []
    for node in ast.body:
        if not isinstance(node, nodes.Output):
            return None
        for expr in node.nodes:
            if isinstance(expr, nodes.TemplateData):
                pieces.append(expr.data)
                continue
            fast = fast_expression(expr, ENV.tests)
            if fast is None:
                return None
            pieces.append(fast)

    def render(ctx: Mapping[str, Any]) -> Any:
        try:
            return capped_concat([p if isinstance(p, str) else str(p(ctx)) for p in pieces])
        except Unsure:
            return slow(ctx)

    return render


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
