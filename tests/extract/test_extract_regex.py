"""Regex extractions run on RE2 (linear time): what it refuses is named at validate time, and
a playbook without a regex does not import it."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from helpers import ROOT, cli

from runner.errors import EXIT_INVALID
from runner.extract import check_syntax
from runner.extract_error import ExtractError
from runner.jsonpath import compile_jsonpath, jsonpath_values
from runner.regex import compile_regex


@pytest.mark.parametrize(("pattern", "construct"), [
    (r"(a)\1", r"a backreference (\1)"),
    (r"(?P<q>')x(?P=q)", "a named backreference (?P=name)"),
    (r"id(?=\d)", "a lookahead (?=...)"),
    (r"id(?!\d)", "a negative lookahead (?!...)"),
    (r"(?<=id=)\d+", "a lookbehind (?<=...)"),
    (r"(?<!x)\d+", "a negative lookbehind (?<!...)"),
    (r"(?>a+)b", "an atomic group (?>...)"),
    (r"a*+b", "a possessive quantifier (*+, ++, ?+)"),
    (r"(a)?(?(1)b|c)", "a conditional group (?(...)...)"),
    (r"(?x) a b", "the inline flag (?x) (RE2 knows i, m, s and U)"),
    (r"end\Z", r"\Z (RE2 spells end of text \z)"),
    (r"a{1001}", "a repetition count over 1000"),
])
def test_what_re2_refuses_is_named(pattern: str, construct: str) -> None:
    with pytest.raises(ExtractError) as info:
        check_syntax("regex", pattern)
    assert f"uses {construct}, which runner's regex engine (RE2) does not support" \
        in str(info.value)
    assert "linear" in (info.value.hint or "")


def test_a_plain_syntax_error_stays_one() -> None:
    with pytest.raises(ExtractError, match=r"invalid regular expression '\(a': missing \)"):
        compile_regex("(a")


def test_groups_names_and_flags_work_as_before() -> None:
    p = compile_regex(r"(?i)ID=(?P<id>\d+)")
    m = p.search("x id=42 y")
    assert (m.group(1), m.group("id"), p.groups) == ("42", "42", 1)


def test_the_refusal_is_a_clear_validate_error_printed_once() -> None:
    path = ROOT / "tests" / "bad_playbooks" / "regex_lookahead.yaml"
    proc = cli("validate", str(path))
    assert proc.returncode == EXIT_INVALID
    assert f"{path}:7:" in proc.stderr and "a lookahead (?=...)" in proc.stderr
    assert "re2.cc" not in proc.stderr  # RE2's own logging is off: one message, ours
    assert "Traceback" not in proc.stderr


def test_re2_is_imported_only_for_a_regex() -> None:
    code = ("import sys; from runner.playbook import load_playbook; load_playbook({!r}); "
            "print('re2' in sys.modules)")
    plain = subprocess.run([sys.executable, "-c", code.format("playbooks/onboard-employee.yaml")],
                           cwd=ROOT, capture_output=True, text=True, check=True)
    regex = subprocess.run([sys.executable, "-c", code.format(
        "tests/playbooks/nddprint/renew-pin.yaml")], cwd=ROOT, capture_output=True, text=True,
        check=True)
    assert (plain.stdout.strip(), regex.stdout.strip()) == ("False", "True")


def test_a_jsonpath_regex_filter_cannot_hang() -> None:
    # jsonpath_ng's =~ ran Python's re.search: 2**41 steps here. A process of its own, so the
    # test ends even where the match would not.
    code = ("from runner.jsonpath import jsonpath_values; "
            "print(jsonpath_values(\"$[?(@.n =~ '(a+)+$')].n\", "
            "[{'n': 'a' * 41 + '!'}, {'n': 'aa'}]))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=20)
    assert proc.stdout.strip() == "['aa']", proc.stderr


@pytest.mark.parametrize(("path", "construct"), [
    ("$[?(@.n =~ 'a(?=b)')]", "a lookahead (?=...)"),
    (r"$.n.`sub(/(a)\\1/, x)`", r"a backreference (\1)"),  # JSONPath unescapes \\ once
])
def test_a_jsonpath_regex_re2_refuses_is_named(path: str, construct: str) -> None:
    with pytest.raises(ExtractError, match=re.escape(f"uses {construct}, which runner's")):
        check_syntax("jsonpath", path)


def test_jsonpath_sub_matches_with_re2() -> None:
    path = r"$[*].n.`sub(/(a)(b)/, \\2\\1)`"
    assert jsonpath_values(path, [{"n": "xab"}, {"n": "zz"}]) == ["xba"]
    assert compile_jsonpath(path).right.regex is compile_regex("(a)(b)")
