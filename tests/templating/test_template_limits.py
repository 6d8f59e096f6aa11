"""What a template may compute is capped: each cap refuses, at once, before the work is done,
through both the expression path (``when``, ``assert``: the plain-Python fast path first) and
text templates; below the caps, the same operators work as before."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers import cli

from runner.errors import EXIT_FAILED
from runner.template_compile import TemplateFailure
from runner.templating import Renderer

CAPPED = [
    ("9 ** (9 ** 8)", "9 ** 43046721 would make 41,077,011 digits, over the cap of 4,300 digits"),
    ("(10 ** 3000) * (10 ** 3000)", "an integer of ~3,000 digits * an integer of ~3,000 digits "
     "would make 6,000 digits, over the cap of 4,300 digits"),
    ("'x' * 10 ** 10", "a string of length 1 repeated 10,000,000,000 times would make "
     "10,000,000,000 characters, over the cap of 10,000,000 characters"),
    ("10 ** 10 * 'ab'", "a string of length 2 repeated 10,000,000,000 times"),
    ("[0] * 10 ** 9", "a list of length 1 repeated 1,000,000,000 times would make "
     "1,000,000,000 items, over the cap of 10,000,000 items"),
    ("('x' * 6000000) + ('y' * 6000000)", "a string of length 6,000,000 + one of 6,000,000 "
     "would make 12,000,000 characters"),
    ("range(10 ** 6) | list | length", "range of 1,000,000 numbers is over the cap of 100,000"),
    ("'x'.ljust(10 ** 10)", "ljust(10,000,000,000) would make 10,000,000,000 characters"),
    ("'x'.zfill(10 ** 10)", "zfill(10,000,000,000) would make"),
    ("'\t'.expandtabs(10 ** 10)", "expandtabs(10,000,000,000) would make 10,000,000,001"),
    ("'x' | center(10 ** 10)", "center(10,000,000,000) would make 10,000,000,000 characters"),
    ("'a\nb' | indent(10 ** 9)", "indent(1,000,000,000) of 2 lines would make 2,000,000,003"),
    ("'%10000000000d' % 1", "a format width of 10,000,000,000 would make 10,000,000,000 "
     "characters, over the cap of 10,000,000"),
    ("'%*d' % (10 ** 10, 1)", "a format width of 10,000,000,000"),
    ("'%(a)10000000000s' % {'a': 1}", "a format width of 10,000,000,000"),
    ("'%10000000000d' | format(1)", "a format width of 10,000,000,000"),
    ("'{:>10000000000}'.format(1)", "a format width of 10,000,000,000"),
    ("'{:>{w}}'.format(1, w=10 ** 10)", "a format width of 10,000,000,000"),
    ("'{a:>{w}}'.format_map({'a': 1, 'w': 10 ** 10})", "a format width of 10,000,000,000"),
]


def _refused(fn: object, *args: object) -> str:
    started = time.monotonic()
    with pytest.raises(TemplateFailure) as info:
        fn(*args)  # type: ignore[operator]
    assert time.monotonic() - started < 5  # refused before the work, not after
    assert str(info.value).startswith("refused by the template sandbox: ")
    return str(info.value)


@pytest.mark.parametrize(("expr", "message"), CAPPED, ids=[c[0] for c in CAPPED])
def test_an_expression_over_a_cap_is_refused(expr: str, message: str) -> None:
    assert message in _refused(Renderer().evaluate, expr, {})


@pytest.mark.parametrize(("expr", "message"), CAPPED, ids=[c[0] for c in CAPPED])
def test_a_template_over_a_cap_is_refused(expr: str, message: str) -> None:
    assert message in _refused(Renderer().render, "{{ " + expr + " }}", {})  # native value
    assert message in _refused(Renderer().render, "id={{ " + expr + " }}", {})  # text


def test_values_from_the_context_are_capped_too() -> None:
    # the fast path reads names; the operator on them goes through the sandbox's call_binop
    assert "repeated 10,000,000,000 times" in _refused(Renderer().evaluate, "s * n == ''",
                                                       {"s": "ab", "n": 10 ** 10})


def test_doubling_in_a_namespace_is_capped() -> None:
    src = ("{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
           "{% endfor %}{{ ns.s | length }}")
    assert "setting namespace attribute 's' would make 16,777,216 characters" \
        in _refused(Renderer().render, src, {})


def test_the_rendered_text_is_capped() -> None:
    src = "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}"
    assert "the rendered text would make 10,001,000 characters, over the cap of 10,000,000" \
        in _refused(Renderer().render, src, {})


@pytest.mark.parametrize(("expr", "value"), [
    ("2 ** 10", 1024), ("2 ** -1", 0.5), ("(10 ** 4000) * 3 > 0", True), ("'ab' * 3", "ababab"),
    ("3 * [1]", [1, 1, 1]), ("[1] + [2]", [1, 2]), ("'a' + 'b'", "ab"), ("1 + 2", 3),
    ("range(3) | list", [0, 1, 2]), ("'x'.ljust(3)", "x  "), ("'x' | center(3)", " x "),
    ("('x' * 10000000) | length", 10_000_000), ("'%5d|%-3s' % (42, 'x')", "   42|x  "),
    ("'%s-%d' % ('a', 10 ** 12)", "a-1000000000000"), ("'%d%%' % 50", "50%"), ("10 % 3", 1),
    ("'%s' | format('x')", "x"), ("'{:>5}'.format(7)", "    7"),
    ("'{a}'.format_map({'a': 1})", "1"),
])
def test_below_the_caps_nothing_changes(expr: str, value: object) -> None:
    assert Renderer().evaluate(expr, {}) == value


def test_a_capped_template_fails_its_step_with_the_cap(tmp_path: Path) -> None:
    book = tmp_path / "costly.yaml"
    book.write_text("""\
name: costly
connectors: {automatos: {use: automatos}}
steps:
  - id: find
    call: automatos.get_machine
    with: {hostname: "{{ 'x' * 10 ** 10 }}"}
""")
    proc = cli("run", str(book), "--env", "sandbox", timeout=60)
    assert proc.returncode == EXIT_FAILED, proc.stderr
    assert "FAILED at step 'find'" in proc.stdout
    assert ("with: refused by the template sandbox: a string of length 1 repeated "
            "10,000,000,000 times would make 10,000,000,000 characters, over the cap of "
            "10,000,000 characters") in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
