"""What the templating modules share without importing Jinja: the cost caps' numbers, the
names the sandboxed environment defines (its globals, and the filters and tests the plain
Python path computes), and the error a template's ``fail()`` raises. ``runner run`` of a
playbook whose templates are all of the common shapes never imports Jinja
(:mod:`runner.template_quick`); tests/templating/test_template_quick.py checks these sets
against the environment itself."""

from __future__ import annotations

MAX_DIGITS = 4_300
MAX_LENGTH = 10_000_000
MAX_RANGE = 100_000  # Jinja's sandbox limit too; here with a message that names it

# the environment's globals (Jinja's default namespace and runner's fail()): a name a
# template reads that is one of these is not a scope key
GLOBALS = frozenset({"range", "dict", "lipsum", "cycler", "joiner", "namespace", "fail"})
# the filters and tests (without arguments) the plain-Python path computes, as the
# environment does (:mod:`runner.fast_expressions`)
FAST_FILTERS = frozenset({"list", "length", "lower", "string"})
FAST_TESTS = frozenset({"mapping", "none", "defined", "string"})


class TemplateRaised(Exception):
    """``fail('message')`` in a template: the template's own error message."""
