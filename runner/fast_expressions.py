"""The common expression shapes computed as plain Python, for
:func:`runner.templating.compile_expression` and the ``{{ }}`` of text templates: names,
``.attr`` and ``[const]`` on dicts, lists and responses, constants, list and tuple literals,
``~``, one comparison, ``and``/``or``/``not``, ``x if y else z``, a few tests, the filters
``list``, ``length``, ``lower``, ``string`` and ``range()``. Each
closure gives what the sandboxed Jinja environment gives (checked against it in
``tests/templating/test_templating_fast.py``); off the plain path (a missing name or key, an
unexpected type) it raises :class:`runner.unsure.Unsure` and Jinja evaluates, and words the
error. It reads a parse tree only, Jinja's or :mod:`runner.template_quick`'s (the same class
names and fields), and imports nothing of Jinja.

An object other than a dict or a list shows the attributes its class names in
``expression_attrs`` (a connector's Response names its status, body, headers...): read from the
class, so this module imports nothing of the connectors, which sit above templating.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from runner.template_base import MAX_RANGE
from runner.unsure import Unsure

_TESTS: dict[str, Callable[..., bool]] = {
    "mapping": lambda v: isinstance(v, Mapping),
    "sameas": lambda v, other: v is other,
    "none": lambda v: v is None,
    "defined": lambda v: True,  # the plain path only ever sees defined values
    "string": lambda v: isinstance(v, str),
}
_Eval = Callable[[Mapping[str, Any]], Any]
_NUMBERS = (int, float)
_SCALARS = (str, int, float, bool, type(None))
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "lt": lambda x, y: x < y, "lteq": lambda x, y: x <= y,
    "gt": lambda x, y: x > y, "gteq": lambda x, y: x >= y,
}
# Jinja's filters of these names (list(), len, do_lower, soft_str) on the types they are
# taken for here: anything else hands over
_FILTERS: dict[str, tuple[tuple[type, ...], Callable[[Any], Any]]] = {
    "list": ((list, tuple, range, str), list),
    "length": ((list, tuple, dict, str, range), len),
    "lower": ((str,), str.lower),
    "string": (_SCALARS, lambda v: v if type(v) is str else str(v)),
}


def _is(node: Any, *kinds: str) -> bool:
    """Whether ``node`` is one of these kinds of Jinja node (or of the same-named nodes of
    :mod:`runner.template_quick`)."""
    return type(node).__name__ in kinds


def fast_expression(node: Any, tests: Mapping[str, Any]) -> _Eval | None:
    """A closure computing ``node`` as the sandboxed Jinja environment does on the plain path
    (names, ``.attr`` and ``[const]`` on dicts, lists and responses, constants, ``==``/``!=``,
    ``and``/``or``/``not``, a few tests); None for any other shape. ``tests``: the environment's
    tests (a test it does not have is not taken)."""
    if _is(node, "Const"):
        value = node.value
        return lambda ctx: value
    if _is(node, "Name") and node.ctx == "load":
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
    if _is(node, "Getattr"):
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
    if _is(node, "Getitem") and _is(node.arg, "Const"):
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
    if _is(node, "Compare") and len(node.ops) == 1 \
            and node.ops[0].op in ("eq", "ne", *_ORDER, "in", "notin"):
        lhs, rhs = fast_expression(node.expr, tests), fast_expression(node.ops[0].expr, tests)
        if lhs is None or rhs is None:
            return None
        a: _Eval = lhs
        b: _Eval = rhs
        op = node.ops[0].op
        if op == "eq":
            return lambda ctx: a(ctx) == b(ctx)
        if op == "ne":
            return lambda ctx: a(ctx) != b(ctx)
        if op in _ORDER:
            order = _ORDER[op]

            def ordered(ctx: Mapping[str, Any]) -> bool:
                x, y = a(ctx), b(ctx)
                if not ((type(x) in _NUMBERS and type(y) in _NUMBERS)
                        or (type(x) is str and type(y) is str)):
                    raise Unsure(op)  # other types: Jinja (Python's own rules, its error)
                return order(x, y)
            return ordered
        negate = op == "notin"

        def member(ctx: Mapping[str, Any]) -> bool:
            x, y = a(ctx), b(ctx)
            if not (type(y) in (list, tuple) or (type(y) is dict and type(x) in _SCALARS)
                    or (type(y) is str and type(x) is str)):
                raise Unsure(op)
            return (x in y) is not negate
        return member
    if _is(node, "CondExpr") and node.expr2 is not None:  # `x if y else z`
        parts = [fast_expression(n, tests) for n in (node.test, node.expr1, node.expr2)]
        if any(p is None for p in parts):
            return None
        test_, then, else_ = (p for p in parts if p is not None)
        return lambda ctx: then(ctx) if test_(ctx) else else_(ctx)
    if _is(node, "And", "Or"):
        lhs, rhs = fast_expression(node.left, tests), fast_expression(node.right, tests)
        if lhs is None or rhs is None:
            return None
        x: _Eval = lhs
        y: _Eval = rhs
        if _is(node, "And"):
            return lambda ctx: x(ctx) and y(ctx)
        return lambda ctx: x(ctx) or y(ctx)
    if _is(node, "Not"):
        maybe = fast_expression(node.node, tests)
        if maybe is None:
            return None
        neg: _Eval = maybe
        return lambda ctx: not neg(ctx)
    if _is(node, "Concat"):  # `a ~ b`: Jinja's str_join of each str()
        maybes = [fast_expression(part, tests) for part in node.nodes]
        if any(m is None for m in maybes):
            return None
        joined = [m for m in maybes if m is not None]
        return lambda ctx: "".join([str(part(ctx)) for part in joined])
    if _is(node, "List") or (_is(node, "Tuple") and node.ctx == "load"):
        maybes = [fast_expression(item, tests) for item in node.items]
        if any(m is None for m in maybes):
            return None
        items = [m for m in maybes if m is not None]
        if _is(node, "List"):
            return lambda ctx: [item(ctx) for item in items]
        return lambda ctx: tuple(item(ctx) for item in items)
    if _is(node, "Test") and node.name in _TESTS and not node.kwargs \
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
    if _is(node, "Filter") and node.name in _FILTERS and not node.args and not node.kwargs \
            and node.dyn_args is None and node.dyn_kwargs is None:
        maybe = fast_expression(node.node, tests)
        if maybe is None:
            return None
        filtered: _Eval = maybe
        takes, fn = _FILTERS[node.name]
        name_ = node.name

        def filter_(ctx: Mapping[str, Any]) -> Any:
            value = filtered(ctx)
            if type(value) not in takes:
                raise Unsure(name_)
            return fn(value)
        return filter_
    if _is(node, "Call") and _is(node.node, "Name") and node.node.name == "range" \
            and not node.kwargs and node.dyn_args is None and node.dyn_kwargs is None:
        # the environment's global range(), which a scope key never shadows (a template's
        # names leave the globals out), capped at MAX_RANGE numbers: past it, Jinja says so
        maybes = [fast_expression(arg, tests) for arg in node.args]
        if not 1 <= len(maybes) <= 3 or any(m is None for m in maybes):
            return None
        bounds = [m for m in maybes if m is not None]

        def range_(ctx: Mapping[str, Any]) -> Any:
            values = [b(ctx) for b in bounds]
            if any(type(v) is not int for v in values) or (len(values) == 3 and not values[2]):
                raise Unsure("range")
            r = range(*values)
            if len(r) > MAX_RANGE:
                raise Unsure("range")
            return r
        return range_
    return None
