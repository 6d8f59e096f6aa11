"""The common expression shapes computed as plain Python, for
:func:`runner.templating.compile_expression` and the ``{{ }}`` of text templates: names,
``.attr`` and ``[const]`` on dicts, lists and responses, constants, list and tuple literals,
``~``, ``==``/``!=``, ``and``/``or``/``not``, a few tests. Each closure gives
what the sandboxed Jinja environment gives (checked against it in
``tests/templating/test_templating_fast.py``); off the plain path (a missing name or key, an
unexpected type) it raises :class:`runner.unsure.Unsure` and Jinja evaluates, and words the
error. It reads Jinja's parse tree only: Jinja's compiler is not needed for these shapes.

An object other than a dict or a list shows the attributes its class names in
``expression_attrs`` (a connector's Response names its status, body, headers...): read from the
class, so this module imports nothing of the connectors, which sit above templating.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import nodes

from runner.unsure import Unsure

_TESTS: dict[str, Callable[..., bool]] = {
    "mapping": lambda v: isinstance(v, Mapping),
    "sameas": lambda v, other: v is other,
    "none": lambda v: v is None,
    "defined": lambda v: True,  # the plain path only ever sees defined values
    "string": lambda v: isinstance(v, str),
}
_Eval = Callable[[Mapping[str, Any]], Any]


def fast_expression(node: nodes.Node, tests: Mapping[str, Any]) -> _Eval | None:
    """A closure computing ``node`` as the sandboxed Jinja environment does on the plain path
    (names, ``.attr`` and ``[const]`` on dicts, lists and responses, constants, ``==``/``!=``,
    ``and``/``or``/``not``, a few tests); None for any other shape. ``tests``: the environment's
    tests (a test it does not have is not taken)."""
    if isinstance(node, nodes.Const):
        value = node.value
        return lambda ctx: value
    if isinstance(node, nodes.Name) and node.ctx == "load":
        name = node.name

        def lookup(ctx: Mapping[str, Any]) -> Any:
            maps = getattr(ctx, "maps", None)  # a ChainMap (a loop's scope): its maps in order,
            if maps is None:  # as ChainMap looks, without its Python-level `in` and `[]`
                if name in ctx:
                    return ctx[name]
                raise Unsure(name)
            for m in maps:
                if name in m:
                    return m[name]
            raise Unsure(name)
        return lookup
    if isinstance(node, nodes.Getattr):
        maybe, attr = fast_expression(node.node, tests), node.attr
        if maybe is None or attr.startswith("_"):
            return None
        of: _Eval = maybe

        def getattr_(ctx: Mapping[str, Any]) -> Any:
            obj = of(ctx)
            if type(obj) is dict and not hasattr(dict, attr) and attr in obj:
                return obj[attr]
            shown = getattr(type(obj), "expression_attrs", None)
            if shown is not None and attr in shown:  # a connector's Response, say
                return getattr(obj, attr)
            raise Unsure(attr)
        return getattr_
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        maybe, key = fast_expression(node.node, tests), node.arg.value
        if maybe is None or not isinstance(key, (int, str)) or isinstance(key, bool):
            return None
        in_: _Eval = maybe

        def getitem(ctx: Mapping[str, Any]) -> Any:
            obj = in_(ctx)
            if type(obj) is list and type(key) is int and -len(obj) <= key < len(obj):
                return obj[key]
            if type(obj) is dict and key in obj:
                return obj[key]
            raise Unsure(key)
        return getitem
    if isinstance(node, nodes.Compare) and len(node.ops) == 1 \
            and node.ops[0].op in ("eq", "ne"):
        lhs, rhs = fast_expression(node.expr, tests), fast_expression(node.ops[0].expr, tests)
        if lhs is None or rhs is None:
            return None
        a: _Eval = lhs
        b: _Eval = rhs
        if node.ops[0].op == "eq":
            return lambda ctx: a(ctx) == b(ctx)
        return lambda ctx: a(ctx) != b(ctx)
    if isinstance(node, (nodes.And, nodes.Or)):
        lhs, rhs = fast_expression(node.left, tests), fast_expression(node.right, tests)
        if lhs is None or rhs is None:
            return None
        x: _Eval = lhs
        y: _Eval = rhs
        if isinstance(node, nodes.And):
            return lambda ctx: x(ctx) and y(ctx)
        return lambda ctx: x(ctx) or y(ctx)
    if isinstance(node, nodes.Not):
        maybe = fast_expression(node.node, tests)
        if maybe is None:
            return None
        neg: _Eval = maybe
        return lambda ctx: not neg(ctx)
    if isinstance(node, nodes.Concat):  # `a ~ b`: Jinja's str_join of each str()
        maybes = [fast_expression(part, tests) for part in node.nodes]
        if any(m is None for m in maybes):
            return None
        joined = [m for m in maybes if m is not None]
        return lambda ctx: "".join([str(part(ctx)) for part in joined])
    if isinstance(node, nodes.List) or (isinstance(node, nodes.Tuple) and node.ctx == "load"):
        maybes = [fast_expression(item, tests) for item in node.items]
        if any(m is None for m in maybes):
            return None
        items = [m for m in maybes if m is not None]
        if isinstance(node, nodes.List):
            return lambda ctx: [item(ctx) for item in items]
        return lambda ctx: tuple(item(ctx) for item in items)
    if isinstance(node, nodes.Test) and node.name in _TESTS and not node.kwargs \
            and node.dyn_args is None and node.dyn_kwargs is None \
            and tests.get(node.name) is not None:
        maybe = fast_expression(node.node, tests)
        args = [fast_expression(arg, tests) for arg in node.args]
        if maybe is None or any(arg is None for arg in args):
            return None
        subject: _Eval = maybe
        test = _TESTS[node.name]
        bound = [arg for arg in args if arg is not None]
        return lambda ctx: test(subject(ctx), *(arg(ctx) for arg in bound))
    return None
