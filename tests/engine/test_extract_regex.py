"""Regex extractions run on RE2 (linear time): what it refuses is named at validate time, and
a playbook without a regex does not import it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers import ROOT, cli

from runner.errors import EXIT_INVALID
from runner.extract import ExtractError, check_syntax, compile_regex


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
