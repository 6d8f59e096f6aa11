"""Compiling a template or an expression, once per source text: parsed, its private
attribute access refused, what it reads found (:mod:`runner.template_names`), and a function
made on its first use (Jinja's compiler is most of the cost, and validation needs the parse
only). A string that is exactly one ``{{ expr }}`` compiles to the expression (a native value);
an expression of a common shape runs as plain Python (:mod:`runner.fast_expressions`), handing
over to Jinja when it is unsure. The function is called with the names it reads only.

A template of the common shapes is parsed without Jinja (:mod:`runner.template_quick`), and
Jinja is imported only when a template is of another shape, or a value is off the plain path:
this module, :mod:`runner.templating` and :mod:`runner.fast_expressions` import nothing of it."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runner import template_quick
from runner.fast_expressions import fast_expression
from runner.template_base import FAST_TESTS, MAX_LENGTH
from runner.unsure import Unsure

if TYPE_CHECKING:
    from jinja2 import nodes

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
    """A template compiled once: the names it reads and how to render it."""
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
    from jinja2 import nodes

    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        attr: Any = getattr(node, "attr", None)
        if isinstance(node, nodes.Getitem):
            attr = getattr(node.arg, "value", None)
        if isinstance(attr, str) and attr.startswith("_"):
            raise TemplateFailure(f"access to the private attribute '{attr}' is not allowed",
                                  syntax=True)


def _env() -> Any:
    from runner.template_env import ENV  # Jinja, for a template off the common shapes

    return ENV


_QUICK_TESTS = dict.fromkeys(FAST_TESTS, True)  # the tests template_quick takes


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
        compiled = _quick_text(source) or _jinja_text(source)
    _cache[key] = compiled
    return compiled


def _jinja_text(source: str) -> Compiled:
    from jinja2 import TemplateSyntaxError

    from runner.template_names import check_names, inputs_read, names_read

    env = _env()
    try:
        ast = env.parse(source)
        _check_ast(ast)
        check_names(ast)
    except TemplateSyntaxError as e:
        raise TemplateFailure(f"template syntax error: {e.message}", syntax=True) from None
    names = names_read(ast)
    slow = _Lazy(lambda: _bind(env.from_string(ast).render, names))
    return Compiled(source, names, _fast_text(ast, slow) or slow, True, inputs_read(ast),
                    _parts(ast, source))


def _quick_text(source: str) -> Compiled | None:
    """A text of plain data and ``{{ }}`` of the common shapes, parsed and computed without
    Jinja; None for any other."""
    pieces = template_quick.text(source)
    if pieces is None:
        return None
    trees = [p[0] for p in pieces if not isinstance(p, str)]
    fast = [p if isinstance(p, str) else fast_expression(p[0], _QUICK_TESTS) for p in pieces]
    if any(f is None for f in fast):
        return None
    names = template_quick.names_read(trees)
    slow = _Lazy(lambda: _bind(_env().from_string(source).render, names))
    parts = tuple(_quick_part(tree, expr, source, f) for p, f in zip(pieces, fast, strict=True)
                  if not isinstance(p, str) for tree, expr in [p])
    return Compiled(source, names, _text_render([f for f in fast if f is not None], slow), True,
                    template_quick.inputs_read(trees), parts)


def _quick_part(tree: Any, expr: str, source: str, fast: Any) -> Compiled:
    """One ``{{ }}`` of a quick text alone (what a secret registers): its value's ``str()``,
    as the text joins it; Jinja renders it when the value is off the plain path."""
    names = template_quick.names_read([tree])
    slow = _Lazy(lambda: _bind(_env().from_string("{{" + expr + "}}").render, names))
    return Compiled(source, names, _text_render([fast], slow), True,
                    template_quick.inputs_read([tree]))


def _text_part(expr: nodes.Expr, source: str) -> Compiled:
    from jinja2 import nodes

    from runner.template_names import inputs_read, names_read

    env = _env()
    ast = nodes.Template([nodes.Output([expr], lineno=expr.lineno)], lineno=expr.lineno)
    ast.set_environment(env)
    names = names_read(ast)
    return Compiled(source, names, _Lazy(lambda: _bind(env.from_string(ast).render, names)),
                    True, inputs_read(ast))


def _fast_text(ast: nodes.Template, slow: Callable[[Mapping[str, Any]], Any]
               ) -> Callable[[Mapping[str, Any]], Any] | None:
    """A text of plain data and ``{{ expr }}`` of the common shapes (``/items/{{ item }}``)
    rendered as plain Python: each value's ``str()`` joined, as Jinja's output is, capped as
    Jinja's is; Jinja renders (and words any error) when a value is off the plain path.
    None for any other text (blocks, other filters)."""
    from jinja2 import nodes

    pieces: list[str | Callable[[Mapping[str, Any]], Any]] = []
    for node in ast.body:
        if not isinstance(node, nodes.Output):
            return None
        for expr in node.nodes:
            if isinstance(expr, nodes.TemplateData):
                pieces.append(expr.data)
                continue
            fast = fast_expression(expr, _env().tests)
            if fast is None:
                return None
            pieces.append(fast)
    return _text_render(pieces, slow)


def _text_render(pieces: list[str | Callable[[Mapping[str, Any]], Any]],
                 slow: Callable[[Mapping[str, Any]], Any]) -> Callable[[Mapping[str, Any]], Any]:
    def render(ctx: Mapping[str, Any]) -> Any:
        try:
            out = "".join([p if isinstance(p, str) else str(p(ctx)) for p in pieces])
            if len(out) > MAX_LENGTH:  # over the cap: Jinja refuses it, in its words
                raise Unsure("length")
            return out
        except Unsure:
            return slow(ctx)

    return render


def _parts(ast: nodes.Template, source: str) -> tuple[Compiled, ...] | None:
    from jinja2 import nodes

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
    tree = template_quick.expression(expr)
    fast = fast_expression(tree, _QUICK_TESTS) if tree is not None else None
    if fast is not None:
        names = template_quick.names_read([tree])
        inputs = template_quick.inputs_read([tree])
    else:
        names, inputs, fast = _jinja_expr(expr)
    slow = _Lazy(lambda: _bind(_env().compile_expression(expr, undefined_to_none=False), names))
    if fast is None:
        return Compiled(source, names, slow, False, inputs)
    plain = fast

    def call(ctx: Mapping[str, Any]) -> Any:
        try:
            return plain(ctx)
        except Unsure:  # something off the plain path: Jinja decides, and words the error
            return slow(ctx)

    return Compiled(source, names, call, False, inputs)


def _jinja_expr(expr: str) -> tuple[frozenset[str], frozenset[str] | None,
                                    Callable[[Mapping[str, Any]], Any] | None]:
    """Jinja's parse of an expression off the common shapes: its names, inputs read, and the
    plain-Python closure if it has one."""
    from jinja2 import TemplateSyntaxError, nodes

    from runner.template_names import check_names, inputs_read, names_read

    env = _env()
    try:
        ast = env.parse("{{ " + expr + " }}")
        _check_ast(ast)
        check_names(ast)
    except TemplateSyntaxError as e:
        raise TemplateFailure(f"expression syntax error: {e.message}", syntax=True) from None
    body = ast.body[0] if len(ast.body) == 1 else None
    fast = fast_expression(body.nodes[0], env.tests) \
        if isinstance(body, nodes.Output) and len(body.nodes) == 1 else None
    return names_read(ast), inputs_read(ast), fast


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
