from __future__ import annotations

from runner.secrets import MASK, Redactor


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
