"""Expressions of the common shapes run as plain Python; each gives what Jinja gives (value
and type, or the same error) over answers of every shape, including the ones off the plain
path (missing keys, lists where a mapping was expected, dict methods, undefined names)."""

from __future__ import annotations

from typing import Any

import pytest
from parity import agrees

from runner.connectors.response import Response
from runner.fast_expressions import fast_expression
from runner.template_compile import (
    Compiled,
    TemplateFailure,
    _bind,
    compile_expression,
    compile_template,
)
from runner.template_env import ENV
from runner.templating import _call

EXPRESSIONS = [
    "host", "response.json.data.machines[0].machineId == '456DEF'",
    "response.json is mapping and response.json.status is sameas false",
    "response.json.status != true", "not response.json.status", "response.status_code == 200",
    "response.json.data.machines[-1].department", "response.json['data']", "response.json.items",
    "missing", "response.json.nope", "response.json.data.machines[5]", "host == 3 or flag",
    "response.json.status is none", "response.json.status is defined", "x.y is string",
    "response.error", "response.text == ''", "1 == 1.0", "flag and host",
    "host ~ '-1'", "x.y ~ host ~ 2", "[host ~ '-1', flag] == [host ~ '-1', flag]",
    "(host, flag)", "[response.json.status, missing]", "[]", "response.json ~ ''",
]
TEXTS = [
    "/items/{{ host }}", "a{{ x.y }}b{{ host }}c", "{{ host }}{{ flag }}", "n={{ 1 }}\n",
    "{{ response.json.status }}/x", "{{ missing }}-", "{{ x.z }}/", "{{ host ~ '-' ~ flag }}!",
    "{{ response.json.data.machines[0].machineId }} ok",
]

ANSWERS = [
    b'{"status": true, "data": {"machines": [{"machineId": "456DEF", "department": "DEV"}]}}',
    b'{"status": false, "error": "Expired Job"}',
    b'[{"status": false}]', b"not json", b"", b'{"status": null, "data": {"machines": []}}',
    b'{"data": {"machines": {"0": 1}}, "items": 5}',
]
CONTEXTS: list[dict[str, Any]] = [
    {"host": "NTB2", "flag": True, "x": {"y": "s"}},
    {"host": 3, "flag": 0, "x": {"y": 1}},
    {"flag": None, "x": []},
]


def jinja(expr: str, ctx: dict[str, Any]) -> Any:
    names = compile_expression(expr).names
    slow = Compiled(expr, names, _bind(ENV.compile_expression(expr, undefined_to_none=False),
                                       names), False)
    return _call(slow, ctx)


def ours(expr: str, ctx: dict[str, Any]) -> Any:
    return _call(compile_expression(expr), ctx)


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_plain_python_gives_what_jinja_gives(expr: str) -> None:
    for body in ANSWERS:
        for base in CONTEXTS:
            ctx = {**base, "response": Response(200, {"content-type": "application/json"}, body)}
            # ours never hands over (Jinja takes what the plain path is unsure of): it answers
            assert agrees(ours, jinja, expr, ctx, errors=(TemplateFailure,))


def jinja_text(source: str, ctx: dict[str, Any]) -> Any:
    names = compile_template(source).names
    slow = Compiled(source, names, _bind(ENV.from_string(source).render, names), True)
    return _call(slow, ctx)


def ours_text(source: str, ctx: dict[str, Any]) -> Any:
    return _call(compile_template(source), ctx)


@pytest.mark.parametrize("source", TEXTS)
def test_a_text_template_in_plain_python_gives_what_jinja_gives(source: str) -> None:
    for body in ANSWERS:
        for base in CONTEXTS:
            ctx = {**base, "response": Response(200, {"content-type": "application/json"}, body)}
            assert agrees(ours_text, jinja_text, source, ctx, errors=(TemplateFailure,))


def test_a_text_of_common_shapes_takes_the_fast_path() -> None:
    from runner.template_compile import _Lazy

    assert not isinstance(compile_template("/items/{{ host }}?n={{ x.y ~ 1 }}").fn, _Lazy)
    assert isinstance(compile_template("/items/{{ host | upper }}").fn, _Lazy)


def test_the_common_shapes_take_the_fast_path() -> None:
    for expr in EXPRESSIONS[:6]:
        ast = ENV.parse("{{ " + expr + " }}")
        assert fast_expression(ast.body[0].nodes[0], ENV.tests) is not None, expr  # type: ignore[attr-defined]
    assert fast_expression(ENV.parse("{{ x | upper }}").body[0].nodes[0], ENV.tests) is None  # type: ignore[attr-defined]
