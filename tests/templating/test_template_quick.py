"""Templates of the common shapes are parsed without Jinja (runner.template_quick): the tree is
the one Jinja's parser makes, node for node, or the parse declines and Jinja parses; the names
the Jinja-free modules know are the environment's; and a run whose templates are all of those
shapes never imports Jinja (checked in real processes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jinja2 import nodes
from jinja2.filters import do_list, do_lower
from markupsafe import soft_str
from parity import agrees

from runner import template_quick
from runner.template_base import FAST_FILTERS, FAST_TESTS, GLOBALS
from runner.template_compile import (
    Compiled,
    TemplateFailure,
    _bind,
    _Lazy,
    compile_expression,
    compile_template,
)
from runner.template_env import ENV
from runner.templating import _call

TAKEN = [  # the quick parse takes each, and gives Jinja's tree
    "host", "a.b.c", "a.0", "a[0]", "a['k']", 'a["k"].b[1]', "'x'", '"y"', "'a' 'b'", "12",
    "0", "true", "False", "none", "None", "a == b", "a != 'x'", "a and b or c", "not a",
    "not not a", "a or b and c", "not a == b", "a ~ b ~ 'c'", "[a, b]", "[a, b,]", "[]",
    "(a)", "(a,)", "()", "(a, b)", "a is defined", "a is not none", "a.b is mapping",
    "not a is string", "a is defined and b", "range(inputs.n) | list", "range(3)",
    "range(1, 10, 2) | list", "x | list", "x | list | list", "[a ~ '-1', b] == c",
    "inputs.id ~ '-1'", "response.json.data[0].id", "a.if", "a.true", "f(a, b,)",
    "  host  ", "\n host\n", "a[b]", "a[b.c]", "x.y ~ host ~ 2", "(host, flag)",
    "(a | list)(1)", "a < b", "a <= 1", "a > 'x'", "a >= b.c", "a in b", "a not in [1, 2]",
    "not a in b", "a in b and c not in d", "a if b else c", "a if b else c if d else e",
    "(a if b else c) ~ d", "[a if b else c]", "f(a if b else c)", "x[a if b else c]",
    "x | length", "x | length > 0", "x | lower", "x | string", "x | string | lower ~ 'a'",
    "inputs.user_ids | length == 0", "[inputs.cb] if inputs.cb else []",
    "response.status_code in [200, 404]", "a if a is defined else b",
]
DECLINED = [  # anything else: Jinja parses it (and words any error)
    "a + b", "-1", "a[-1]", "a * 2", "a == b == c", "a < b < c", "a in b in c",
    "a if b", "a is defined if b else c", "a | upper", "a | length(1)", "a | lower.x",
    "a =< b", "a <> b", "a | list(1)", "a | default('x')", "a is sameas b",
    "a is divisibleby(3)", "a is defined.x", "{'a': 1}", "a[1:2]", "a[b, c]", "a._x",
    "a['_x']", "a.__class__", "'a\\nb'", "'\r'", "1.5", "1e3", "0x10", "01", "1_000",
    "é", "aé", "a, b", "and", "a and", "", "   ", "a }} b", "f(x=1)", "f(*a)", "a.b(",
    "a is defined is none", "a ! b", "a = b", "a | list.x",
]
TEXTS_TAKEN = [
    "/items/{{ item }}", "a{{ x.y }}b{{ host }}c", "{{ host }}{{ flag }}", "n={{ 1 }}\n",
    "item {{ inputs.id }}: kind b is {{ b_ids }}", "plain", "", "{ {{ a }} }", "a}}b",
    "{{ '}}' }}", "x {{ range(2) | list }} y",
]
TEXTS_DECLINED = [
    "{% if a %}x{% endif %}", "{# c #}{{ a }}", "{{- a }}", "{{ a -}}", "{{+ a }}",
    "a\r\nb{{ x }}", "{{ a | upper }}", "{{ a", "{{ {'a': 1} }}", "{{ a }}{% raw %}{% endraw %}",
]


def dump(node: Any) -> Any:
    """A node as plain data: its class name and its fields (the same for Jinja's nodes and the
    quick ones)."""
    if isinstance(node, list):
        return [dump(n) for n in node]
    if hasattr(node, "fields"):
        return (type(node).__name__, tuple((f, dump(getattr(node, f))) for f in node.fields))
    return node


def jinja_tree(expr: str) -> Any:
    body = ENV.parse("{{ " + expr + " }}").body
    assert len(body) == 1 and isinstance(body[0], nodes.Output) and len(body[0].nodes) == 1
    return body[0].nodes[0]


@pytest.mark.parametrize("expr", TAKEN)
def test_a_common_shape_parses_to_the_tree_jinja_makes(expr: str) -> None:
    tree = template_quick.expression(expr)
    assert tree is not None, expr
    assert dump(tree) == dump(jinja_tree(expr))


@pytest.mark.parametrize("expr", DECLINED)
def test_any_other_shape_is_left_to_jinja(expr: str) -> None:
    assert template_quick.expression(expr) is None


def jinja_pieces(source: str) -> list[Any]:
    out: list[Any] = []
    for node in ENV.parse(source).body:
        assert isinstance(node, nodes.Output)
        out += [n.data if isinstance(n, nodes.TemplateData) else dump(n) for n in node.nodes]
    return out


@pytest.mark.parametrize("source", TEXTS_TAKEN)
def test_a_text_of_common_shapes_parses_as_jinja_parses_it(source: str) -> None:
    pieces = template_quick.text(source)
    assert pieces is not None, source
    assert [p if isinstance(p, str) else dump(p[0]) for p in pieces] == jinja_pieces(source)
    for p in pieces:
        if not isinstance(p, str):
            assert dump(jinja_tree(p[1])) == dump(p[0])  # each part's source, alone


@pytest.mark.parametrize("source", TEXTS_DECLINED)
def test_any_other_text_is_left_to_jinja(source: str) -> None:
    assert template_quick.text(source) is None


def test_what_is_read_is_what_jinja_analysis_finds() -> None:
    from runner.template_names import inputs_read, names_read

    for expr in TAKEN + ["inputs", "inputs[a]", "inputs.a ~ inputs['b']", "inputs.a ~ inputs",
                         "range(x) | list", "fail ~ dict ~ namespace ~ lipsum"]:
        tree = template_quick.expression(expr)
        if tree is None:
            continue
        ast = ENV.parse("{{ " + expr + " }}")
        assert template_quick.names_read([tree]) == names_read(ast), expr
        assert template_quick.inputs_read([tree]) == inputs_read(ast), expr


def test_the_jinja_free_names_are_the_environments() -> None:
    assert set(ENV.globals) == GLOBALS
    assert set(ENV.tests) >= FAST_TESTS
    assert {"list", "length", "lower", "string"} == FAST_FILTERS
    assert ENV.filters["list"] is do_list and ENV.filters["length"] is len
    assert ENV.filters["lower"] is do_lower and ENV.filters["string"] is soft_str


def jinja(expr: str, ctx: dict[str, Any]) -> Any:
    names = compile_expression(expr).names
    slow = Compiled(expr, names, _bind(ENV.compile_expression(expr, undefined_to_none=False),
                                       names), False)
    return _call(slow, ctx)


def ours(expr: str, ctx: dict[str, Any]) -> Any:
    return _call(compile_expression(expr), ctx)


@pytest.mark.parametrize("expr", [
    "range(inputs.n) | list", "range(n)", "range(1, n, 2) | list", "range(n, 0, -1)",
    "range(1, 2, step) | list", "x | list", "range(x) | list",
])
def test_range_and_list_give_what_jinja_gives(expr: str) -> None:
    expr = expr.replace("-1", "step")  # no unary minus in the common shapes
    for n in (0, 3, 100_000, 100_001, True, "3", None):
        for x in ([1, 2], (1,), "ab", {"a": 1}, range(2), 5, n):
            ctx = {"inputs": {"n": n}, "n": n, "x": x, "step": 0 if x == 5 else -1}
            agrees(ours, jinja, expr, ctx, errors=(TemplateFailure,))
    assert not isinstance(compile_expression("range(inputs.n) | list").fn, _Lazy)


@pytest.mark.parametrize("expr", [
    "a < b", "a <= b", "a > b", "a >= b", "a in b", "a not in b", "a if b else c",
    "a | length", "b | length", "a | lower", "b | string", "a | string", "c | lower ~ a",
    "(a | length) > 1 if b else c | string",
])
def test_comparisons_and_filters_give_what_jinja_gives(expr: str) -> None:
    values: list[Any] = [1, 2.5, "ab", "b", True, None, [1, "ab"], ("b",), {"ab": 1, "1": 2},
                         0, "", [], range(3), -0.5]
    for a in values:
        for b in values:
            agrees(ours, jinja, expr, {"a": a, "b": b, "c": "X"}, errors=(TemplateFailure,))


def test_an_over_long_text_is_refused_in_jinjas_words() -> None:
    source = "{{ a }}{{ a }}"
    ctx = {"a": "x" * 6_000_000}
    with pytest.raises(TemplateFailure, match="over the cap"):
        _call(compile_template(source), ctx)


PROBE = """
import atexit, sys
atexit.register(lambda: print("jinja2 imported:", "jinja2" in sys.modules, file=sys.stderr))
from runner.cli import main
main(sys.argv[1:], prog_name="runner")
"""
COMMON = """name: common shapes
inputs:
  n: {type: integer, default: 3}
steps:
  - id: each
    loop: "{{ range(inputs.n) | list }}"
    assert:
      - that: "[item ~ '-1', inputs.n] == [item ~ '-1', 3] and item is defined"
        message: "item {{ item }} of {{ inputs.n }}"
"""


def _imports_jinja(tmp_path: Path, *args: str) -> bool:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    said = [ln for ln in done.stderr.splitlines() if ln.startswith("jinja2 imported:")]
    assert len(said) == 1 and done.returncode == 0, done.stdout + done.stderr
    return said[0].endswith("True")


def test_a_run_of_common_shapes_never_imports_jinja(tmp_path: Path) -> None:
    common = tmp_path / "common.yaml"
    common.write_text(COMMON)
    other = tmp_path / "other.yaml"
    other.write_text(COMMON.replace("{{ item }}", "{{ item | upper }}"))
    store = ("--store", str(tmp_path / "runs.db"))
    assert not _imports_jinja(tmp_path, "validate", str(common))
    assert not _imports_jinja(tmp_path, "run", str(common), "-q", "--env", "none", *store)
    assert not _imports_jinja(tmp_path, "run", str(common), "--env", "none", *store)
    assert _imports_jinja(tmp_path, "validate", str(other))


def test_a_quick_texts_parts_give_what_jinja_renders_of_each() -> None:
    # a text reading a secret registers each part alone (runner.templating): computed here
    # as the text is, Jinja only off the plain path
    for source in ("Bearer {{ inputs.key }}", "{{ a }}-{{ inputs.key ~ b }}/{{ n }}"):
        compiled = compile_template(source)
        assert compiled.parts and not any(isinstance(p.fn, _Lazy) for p in compiled.parts)
        pieces = template_quick.text(source)
        assert pieces is not None
        exprs = [p[1] for p in pieces if not isinstance(p, str)]
        for ctx in ({"inputs": {"key": "s3cr3t-value"}, "a": [1, "x"], "b": None, "n": 2.5},
                    {"inputs": {"key": 7}, "a": {"k": True}, "b": "", "n": 0},
                    {"inputs": {}, "a": 1, "b": 2, "n": 3}):
            for part, expr in zip(compiled.parts, exprs, strict=True):
                agrees(lambda _, c, p=part: _call(p, c), jinja_text, expr, ctx,
                       errors=(TemplateFailure,))


def jinja_text(expr: str, ctx: dict[str, Any]) -> Any:
    source = "{{" + expr + "}}"
    names = compile_template(source).names
    return _call(Compiled(source, names, _bind(ENV.from_string(source).render, names), True),
                 ctx)


HALF_IMPORTED = """
import sys, types
from runner.template_compile import compile_expression
from runner.templating import _call
sys.modules["jinja2"] = types.ModuleType("jinja2")  # another thread's import, half done
print(_call(compile_expression("a ~ 'x'"), {"a": 1}))
"""


def test_jinja_half_imported_by_another_thread_does_not_fail_a_plain_template() -> None:
    # a batch: one run's template goes through Jinja, importing it, while another's renders
    out = subprocess.run([sys.executable, "-c", HALF_IMPORTED], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "1x"
