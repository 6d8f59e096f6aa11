"""The common JSONPath shapes (``$.a.b``, ``[0]``, ``[*]``, ``['k']``, ``[?(@.k == 'v')]``)
compiled to plain Python, for :func:`runner.jsonpath.jsonpath_values`.

They find what jsonpath_ng finds on the same data (checked against it in
``tests/extract/test_extract_fast.py``) at a fraction of the cost. A path of another shape gets
None; data of a shape the fast path is not sure about (a member of a list, a number compared
with a string) raises :class:`runner.unsure.Unsure`, and jsonpath_ng finds. This module does
not import jsonpath_ng, so ``runner validate`` of simple paths never does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from runner.unsure import Unsure

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_SEGMENT = re.compile(
    rf"""\.(?P<field>{_NAME})
      | \[(?P<index>\d+)\]
      | \[\*\] | \.\*(?P<star>)
      | \['(?P<quoted>[^'\\]*)'\]
      | \[\?\(\s*@\.(?P<target>{_NAME}(?:\.{_NAME})*)\s*==\s*
           (?:'(?P<sq>[^'\\]*)'|"(?P<dq>[^"\\]*)")\s*\)\]""", re.X)
_RESERVED = frozenset(("where", "wherenot", "len", "sorted", "sum", "avg", "split", "sub", "str",
                       "true", "false", "null", "in", "not", "and", "or"))
Step = Callable[[list[Any]], list[Any]]


@lru_cache(maxsize=4096)
def fast_jsonpath(expr: str) -> Callable[[Any], list[Any]] | None:
    """A Python function for a simple JSONPath, or None when the path is not one."""
    if not expr.startswith("$"):
        return None
    steps: list[Step] = []
    pos = 1
    while pos < len(expr):
        m = _SEGMENT.match(expr, pos)
        if m is None:
            return None
        pos = m.end()
        field = m.group("field") or m.group("quoted")
        if m.group("field") is not None and field in _RESERVED:
            return None
        if field is not None:
            steps.append(_field(field))
        elif m.group("index") is not None:
            steps.append(_index(int(m.group("index"))))
        elif m.group("target") is not None:
            literal = m.group("sq") if m.group("sq") is not None else m.group("dq")
            if any(p in _RESERVED for p in m.group("target").split(".")):
                return None
            steps.append(_filter(tuple(m.group("target").split(".")), literal))
        else:
            steps.append(_star)
    chain = tuple(steps)

    def find(data: Any) -> list[Any]:
        values = [data]
        for step in chain:
            values = step(values)
        return values

    return find


def _field(name: str) -> Step:
    def step(values: list[Any]) -> list[Any]:
        out = []
        for v in values:
            if not isinstance(v, dict):
                raise Unsure(name)
            if name in v:
                out.append(v[name])
        return out
    return step


def _index(i: int) -> Step:
    def step(values: list[Any]) -> list[Any]:
        out = []
        for v in values:
            if not isinstance(v, list):
                raise Unsure(i)
            if i < len(v):
                out.append(v[i])
        return out
    return step


def _star(values: list[Any]) -> list[Any]:
    out = []
    for v in values:
        if not isinstance(v, list):
            raise Unsure("*")
        out.extend(v)
    return out


def _filter(target: tuple[str, ...], literal: str) -> Step:
    def holds(item: Any) -> bool:
        for name in target:
            if not isinstance(item, dict):
                raise Unsure(name)
            if name not in item:
                return False  # a missing member equals nothing
            item = item[name]
        if not isinstance(item, str):
            raise Unsure(literal)
        return item == literal

    def step(values: list[Any]) -> list[Any]:
        out: list[Any] = []
        for v in values:
            if not isinstance(v, list):
                raise Unsure(literal)
            out.extend(item for item in v if holds(item))
        return out

    if len(target) != 1:
        return step
    key = target[0]

    def step1(values: list[Any]) -> list[Any]:
        # `[?(@.key == 'v')]`, the common filter: holds() inlined (a loop of 1,000 calls
        # filtered 12 items each: 12 function calls a call)
        out: list[Any] = []
        for v in values:
            if not isinstance(v, list):
                raise Unsure(literal)
            for item in v:
                if not isinstance(item, dict):
                    raise Unsure(key)
                if key not in item:
                    continue  # a missing member equals nothing
                got = item[key]
                if not isinstance(got, str):
                    raise Unsure(literal)
                if got == literal:
                    out.append(item)
        return out
    return step1
