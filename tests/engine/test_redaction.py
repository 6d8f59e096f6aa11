from __future__ import annotations

import json

import pytest

from runner.secrets import MASK, MIN_LENGTH, Redactor, read_env


def test_secret_forms_on_the_wire_are_redacted() -> None:
    r = Redactor(["p@ss word/+"])
    assert r.redact("x p@ss word/+ y") == f"x {MASK} y"
    assert r.redact("q=p%40ss%20word%2F%2B") == f"q={MASK}"
    assert r.redact("q=p%40ss+word%2F%2B") == f"q={MASK}"


def test_longest_value_wins_and_short_values_are_ignored() -> None:
    r = Redactor(["abcdef", "abc", "x"])
    assert r.redact("abcdefg x") == f"{MASK}g x"


def test_nested_data_is_redacted() -> None:
    r = Redactor(["tok123"])
    assert r.redact_data({"a": ["tok123", 1], "tok123": {"b": "Bearer tok123"}}) == {
        "a": [MASK, 1], MASK: {"b": f"Bearer {MASK}"}}


# -- what mutation testing (make mutation) found no test for -----------------------------------
@pytest.mark.parametrize("secret", ['ä"n4styZx91', 'back\\slash', "tab\there", "nl\nz", "€uro",
                                    'q"uote'])
def test_the_json_escaped_form_of_a_secret_is_redacted(secret: str) -> None:
    """A body sent as JSON carries `"`, `\\`, control and non-ASCII characters escaped."""
    body = json.dumps({"password": secret, "user": "full name"})
    assert json.dumps(secret)[1:-1] != secret  # the escaped form is not the value itself
    assert Redactor([secret]).redact(body) == json.dumps({"password": MASK, "user": "full name"})
    assert Redactor([secret]).redact(f"raw {secret} end") == f"raw {MASK} end"


def test_the_three_character_minimum_is_inclusive() -> None:
    assert MIN_LENGTH == 3
    r = Redactor(["ab", "xyz"])
    assert r.redact("ab xyz abxyz") == f"ab {MASK} ab{MASK}"
    assert r.values == frozenset({"xyz"})


def test_a_redactor_without_secrets_changes_nothing() -> None:
    r = Redactor()
    assert r.redact("some text") == "some text"
    assert r.redact("") == ""
    assert r.redact_data({"a": ("b", 1)}) == {"a": ["b", 1]}
    for ignored in (None, 12345, b"bytes", ["abc"]):
        r.add(ignored)  # only strings are secrets
    assert r.values == frozenset() and r.redact("12345 abc") == "12345 abc"


def test_secrets_inside_tuples_and_keys_are_redacted() -> None:
    r = Redactor(["tok123"])
    assert r.redact_data(("tok123", ("x tok123", 7), None)) == [MASK, [f"x {MASK}", 7], None]
    assert r.redact_data({5: "tok123", "k": True}) == {"5": MASK, "k": True}


def test_a_secret_added_later_is_redacted_by_the_same_redactor() -> None:
    r = Redactor(["first1"])
    assert r.redact("first1 second2") == f"{MASK} second2"
    r.add("second2")
    assert r.redact("first1 second2") == f"{MASK} {MASK}"
    r.add("second2")  # again: nothing changes
    assert r.redact("second2") == MASK


def test_read_env_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNNER_TEST_SECRET", "s3cret")
    monkeypatch.delenv("RUNNER_TEST_ABSENT", raising=False)
    assert read_env("RUNNER_TEST_SECRET") == "s3cret"
    assert read_env("RUNNER_TEST_ABSENT") is None
