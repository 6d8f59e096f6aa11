"""The three accelerators (fast expressions, the yes/no schema check, the simple JSONPath) are
small modules of their own beside what they accelerate: each signals "not sure, let the full
implementation decide" with the one :class:`runner.unsure.Unsure`, and importing one costs
nothing of the library it spares (the fast expressions read a parse tree, Jinja's or the Jinja-free
one of runner.template_quick, and import nothing of Jinja)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from jinja2 import nodes

from runner import fast_expressions, fast_jsonpath, fast_schema
from runner.template_env import ENV
from runner.unsure import Unsure


def test_each_accelerator_hands_over_with_the_one_unsure_signal() -> None:
    find = fast_jsonpath.fast_jsonpath("$.a")
    assert find is not None
    with pytest.raises(Unsure):
        find([1])  # a member of a list: jsonpath_ng decides
    with pytest.raises(Unsure):
        fast_schema.conforms({"patternProperties": {}}, {})  # a keyword it does not walk
    assert fast_schema.passes({"patternProperties": {}}, {}) is False  # so jsonschema decides
    body = ENV.parse("{{ missing }}").body[0]
    assert isinstance(body, nodes.Output)
    evaluate = fast_expressions.fast_expression(body.nodes[0], ENV.tests)
    assert evaluate is not None
    with pytest.raises(Unsure):
        evaluate({})  # an undefined name: Jinja words the error


def test_the_accelerators_do_not_import_what_they_spare() -> None:
    code = ("import sys, runner.fast_jsonpath, runner.fast_schema, runner.fast_expressions; "
            "print(sorted(m for m in ('jsonpath_ng', 'jsonschema', 'lxml', 'jinja2', "
            "'runner.extract', 'runner.validation', 'runner.templating') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_the_parity_helper_refuses_a_different_answer() -> None:
    from parity import agrees

    def unsure() -> int:
        raise Unsure("here")

    assert agrees(lambda: 1, lambda: 1)
    assert not agrees(unsure, lambda: 2)  # handed over: the reference decides
    for fast, reference in ((lambda: 1, lambda: 2), (lambda: 1, lambda: True),
                            (lambda: 1, lambda: 1.0)):
        with pytest.raises(AssertionError):
            agrees(fast, reference)  # another value, or another type
