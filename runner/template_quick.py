"""Templates and expressions of the common shapes parsed without Jinja, so that a run whose
templates are all of them never imports Jinja (~20 ms of every ``runner run``).

The shapes are those :mod:`runner.fast_expressions` computes: names, ``.attr``, ``.0`` and
``[const]``, string, integer, ``true``/``false``/``none`` constants, list and tuple literals,
``~``, one comparison (``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``in``, ``not in``),
``and``/``or``/``not``, ``x if y else z``, ``is [not]`` a test without arguments, the filters
``list``, ``length``, ``lower`` and ``string`` without arguments, and ``range(...)``; a text is
plain data and ``{{ }}`` of those. The parse gives the tree Jinja's parser gives (nodes of
the same class names and fields, checked against Jinja in
tests/templating/test_template_quick.py), so one set of closures computes both. Anything else
(another character, operator, filter or test, a block, a comment, whitespace control, a
backslash or ``\\r`` in the text, a private attribute) is declined: None, and Jinja parses it,
and words any error, as before.
"""

from __future__ import annotations

import re
from typing import Any

from runner.template_base import FAST_FILTERS, FAST_TESTS, GLOBALS


class Node:
    """A parse-tree node: the class name and ``fields`` of the Jinja node it stands for."""

    __slots__: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()

    def __init__(self, *values: Any) -> None:
        for name, value in zip(self.fields, values, strict=True):
            setattr(self, name, value)

    def children(self) -> list[Node]:
        out: list[Node] = []
        for name in self.fields:
            value = getattr(self, name)
            if isinstance(value, Node):
                out.append(value)
            elif isinstance(value, list):
                out.extend(v for v in value if isinstance(v, Node))
        return out


def _kind(name: str, *fields: str) -> Any:
    return type(name, (Node,), {"__slots__": fields, "fields": fields})


Const = _kind("Const", "value")
Name = _kind("Name", "name", "ctx")
Getattr = _kind("Getattr", "node", "attr", "ctx")
Getitem = _kind("Getitem", "node", "arg", "ctx")
Compare = _kind("Compare", "expr", "ops")
Operand = _kind("Operand", "op", "expr")
And = _kind("And", "left", "right")
Or = _kind("Or", "left", "right")
Not = _kind("Not", "node")
Concat = _kind("Concat", "nodes")
List = _kind("List", "items")
Tuple = _kind("Tuple", "items", "ctx")
Test = _kind("Test", "node", "name", "args", "kwargs", "dyn_args", "dyn_kwargs")
Filter = _kind("Filter", "node", "name", "args", "kwargs", "dyn_args", "dyn_kwargs")
Call = _kind("Call", "node", "args", "kwargs", "dyn_args", "dyn_kwargs")
CondExpr = _kind("CondExpr", "test", "expr1", "expr2")

_TOKEN = re.compile(r"""\s*(?:
    (?P<name>[A-Za-z_][A-Za-z0-9_]*)(?![^\x00-\x7f])
  | (?P<int>0|[1-9][0-9]*)(?![0-9A-Za-z_.])
  | (?P<str>'[^'\\\r]*'|"[^"\\\r]*")
  | (?P<op>==|!=|<=|>=|\}\}|[.\[\](),~|<>])
)""", re.X)
_KEYWORDS = frozenset({"and", "or", "not", "is", "in", "if", "else"})
_CONSTS = {"true": True, "True": True, "false": False, "False": False, "none": None,
           "None": None}
_END = ("end", "")
_COMPARE = {"==": "eq", "!=": "ne", "<": "lt", "<=": "lteq", ">": "gt", ">=": "gteq"}


class _Declined(Exception):
    pass


def _tokens(source: str, pos: int, *, until_end: bool) -> tuple[list[tuple[str, str]], int]:
    """The tokens from ``pos`` up to ``}}`` (``until_end``) or the end of ``source``."""
    out: list[tuple[str, str]] = []
    while True:
        m = _TOKEN.match(source, pos)
        if m is None:
            if not until_end and source[pos:].strip() == "":
                return out, len(source)
            raise _Declined
        pos = m.end()
        kind = m.lastgroup or ""
        value = m.group(kind)
        if value == "}}":
            if not until_end:
                raise _Declined
            return out, pos
        out.append((kind, value))


class _Parser:
    """Jinja's expression grammar (jinja2/parser.py), cut down to the shapes above."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self, ahead: int = 0) -> tuple[str, str]:
        i = self.pos + ahead
        return self.tokens[i] if i < len(self.tokens) else _END

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.pos += 1
        return token

    def is_(self, kind: str, value: str) -> bool:
        return self.peek() == (kind, value)

    def expect(self, kind: str, value: str) -> None:
        if self.take() != (kind, value):
            raise _Declined

    def whole(self) -> Any:
        node = self.condexpr()
        if self.peek() != _END:  # a top-level comma (a tuple), anything left
            raise _Declined
        return node

    def condexpr(self) -> Any:
        expr1 = self.or_()
        while self.is_("name", "if"):
            self.take()
            test = self.or_()
            if not self.is_("name", "else"):
                raise _Declined  # `a if b` alone: undefined when b is false
            self.take()
            expr1 = CondExpr(test, expr1, self.condexpr())
        return expr1

    def or_(self) -> Any:
        left = self.and_()
        while self.is_("name", "or"):
            self.take()
            left = Or(left, self.and_())
        return left

    def and_(self) -> Any:
        left = self.not_()
        while self.is_("name", "and"):
            self.take()
            left = And(left, self.not_())
        return left

    def not_(self) -> Any:
        if self.is_("name", "not"):
            self.take()
            return Not(self.not_())
        return self.compare()

    def compare(self) -> Any:
        expr = self.concat()
        op = self.compare_op()
        if op is not None:
            expr = Compare(expr, [Operand(op, self.concat())])
            if self.compare_op() is not None:
                raise _Declined  # a chained comparison
        return expr

    def compare_op(self) -> str | None:
        """The comparison operator here (taken), as Jinja names it; None if there is none."""
        kind, value = self.peek()
        if kind == "op" and value in _COMPARE:
            self.take()
            return _COMPARE[value]
        if (kind, value) == ("name", "in"):
            self.take()
            return "in"
        if (kind, value) == ("name", "not") and self.peek(1) == ("name", "in"):
            self.take()
            self.take()
            return "notin"
        return None

    def concat(self) -> Any:
        args = [self.unary()]
        while self.is_("op", "~"):
            self.take()
            args.append(self.unary())
        return args[0] if len(args) == 1 else Concat(args)

    def unary(self) -> Any:
        node = self.postfix(self.primary())
        while True:
            if self.is_("op", "|"):
                self.take()
                kind, name = self.take()
                if kind != "name" or name not in FAST_FILTERS or self.peek()[1] in (".", "("):
                    raise _Declined
                node = Filter(node, name, [], [], None, None)
            elif self.is_("name", "is"):
                node = self.test(node)
            elif self.is_("op", "("):
                raise _Declined  # a call of a filter's or a test's result
            else:
                return node

    def test(self, node: Any) -> Any:
        self.take()
        negated = self.is_("name", "not")
        if negated:
            self.take()
        kind, name = self.take()
        if kind != "name" or name not in FAST_TESTS:
            raise _Declined
        following = self.peek()
        if following[1] in (".", "(", "[") or (following[0] in ("name", "str", "int")
                                                 and following[1] not in ("else", "or", "and")):
            raise _Declined  # a dotted name, or the test's argument
        test = Test(node, name, [], [], None, None)
        return Not(test) if negated else test

    def primary(self) -> Any:
        kind, value = self.take()
        if kind == "name":
            if value in _CONSTS:
                return Const(_CONSTS[value])
            if value in _KEYWORDS:
                raise _Declined
            return Name(value, "load")
        if kind == "str":
            parts = [value[1:-1]]
            while self.peek()[0] == "str":  # 'a' 'b' is 'ab', as in Python
                parts.append(self.take()[1][1:-1])
            return Const("".join(parts))
        if kind == "int":
            return Const(int(value))
        if (kind, value) == ("op", "("):
            items, comma = self.items(")")
            if comma or not items:
                return Tuple(items, "load")
            return items[0]
        if (kind, value) == ("op", "["):
            return List(self.items("]")[0])
        raise _Declined

    def items(self, close: str) -> tuple[list[Any], bool]:
        """Comma-separated expressions up to ``close`` (a trailing comma allowed); whether
        there was a comma."""
        items: list[Any] = []
        comma = False
        while not self.is_("op", close):
            if items:
                self.expect("op", ",")
                comma = True
                if self.is_("op", close):
                    break
            items.append(self.condexpr())
        self.take()
        return items, comma

    def postfix(self, node: Any) -> Any:
        while True:
            if self.is_("op", "."):
                self.take()
                kind, value = self.take()
                if kind == "name" and not value.startswith("_"):
                    node = Getattr(node, value, "load")
                elif kind == "int":
                    node = Getitem(node, Const(int(value)), "load")
                else:
                    raise _Declined
            elif self.is_("op", "["):
                self.take()
                arg = self.condexpr()
                self.expect("op", "]")
                if type(arg) is Const and isinstance(arg.value, str) and \
                        arg.value.startswith("_"):
                    raise _Declined  # Jinja refuses it, with its words
                node = Getitem(node, arg, "load")
            elif self.is_("op", "("):
                self.take()
                args, _ = self.items(")")
                node = Call(node, args, [], None, None)
            else:
                return node


def expression(source: str) -> Any | None:
    """The parse tree of a bare expression (what ``{{ source }}`` holds), or None."""
    try:
        tokens, _ = _tokens(source, 0, until_end=False)
        return _Parser(tokens).whole()
    except _Declined:
        return None


def text(source: str) -> list[str | tuple[Any, str]] | None:
    """A text template as its pieces: plain data, and (tree, expression source) for each
    ``{{ }}``; None when it is anything else."""
    if "\r" in source or "{#" in source or "{%" in source:
        return None
    pieces: list[str | tuple[Any, str]] = []
    pos = 0
    try:
        while True:
            start = source.find("{{", pos)
            if start < 0:
                if source[pos:]:
                    pieces.append(source[pos:])
                return pieces
            if start > pos:
                pieces.append(source[pos:start])
            tokens, end = _tokens(source, start + 2, until_end=True)
            pieces.append((_Parser(tokens).whole(), source[start + 2:end - 2]))
            pos = end
    except _Declined:
        return None


def _walk(node: Node) -> list[Any]:
    out: list[Any] = []
    todo = [node]
    while todo:
        n = todo.pop()
        out.append(n)
        todo.extend(n.children())
    return out


def names_read(trees: list[Any]) -> frozenset[str]:
    """The top-level names the trees read (no block binds one in these shapes)."""
    return frozenset(n.name for t in trees for n in _walk(t)
                     if type(n) is Name and n.name not in GLOBALS)


def inputs_read(trees: list[Any]) -> frozenset[str] | None:
    """As :func:`runner.template_names.inputs_read`: the inputs read by a constant attribute
    or key; None when ``inputs`` is also used any other way."""
    every = [n for t in trees for n in _walk(t)]
    uses = sum(1 for n in every if type(n) is Name and n.name == "inputs")
    read: set[str] = set()
    named = 0
    for n in every:
        if type(n) not in (Getattr, Getitem):
            continue
        of = n.node
        if not (type(of) is Name and of.name == "inputs"):
            continue
        key = n.attr if type(n) is Getattr else n.arg.value if type(n.arg) is Const else None
        if isinstance(key, str):
            read.add(key)
            named += 1
    return frozenset(read) if named == uses else None
