from __future__ import annotations

import json

import pytest

from runner.secrets import MASK, MIN_LENGTH, Redactor


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
    assert r.redact_data({"a": ("b", 1)}) == {"a": ("b", 1)}
    for ignored in (None, 12345, b"bytes", ["abc"]):
        r.add(ignored)  # only strings are secrets
    assert r.values == frozenset() and r.redact("12345 abc") == "12345 abc"




def test_each_wire_form_is_registered_exactly() -> None:
    secret = 'ä"b\\c\nd e/+'  # non-ASCII, a quote, a backslash, a control character, a space
    r = Redactor([secret])
    assert r.values == {
        secret,
        "%C3%A4%22b%5Cc%0Ad%20e%2F%2B",  # quote(safe=""): a path parameter
        "%C3%A4%22b%5Cc%0Ad+e%2F%2B",  # quote_plus: a query string, a form body
        '\\u00e4\\"b\\\\c\\nd e/+',  # JSON with ensure_ascii (json.dumps' default)
        'ä\\"b\\\\c\\nd e/+',  # JSON without it: how request bodies are sent
        "%5Cu00e4%5C%22b%5C%5Cc%5Cnd%20e%2F%2B",  # ASCII JSON in a query value, quoted...
        "%5Cu00e4%5C%22b%5C%5Cc%5Cnd+e%2F%2B",  # ... and quote_plus'ed
    }
    for form in r.values:
        assert r.redact(f"<{form}>") == f"<{MASK}>", form


def test_a_json_body_sent_without_ascii_escapes_is_redacted() -> None:
    import json

    secret = 'ä"n4styZx91'
    r = Redactor([secret])
    body = json.dumps({"pw": secret}, ensure_ascii=False)
    assert r.redact(body) == '{"pw": "***"}'
    assert r.redact(json.dumps({"pw": secret})) == '{"pw": "***"}'


def test_the_mask_is_three_stars() -> None:
    assert MASK == "***"  # docs and users read it; other tests compare against the constant
    assert Redactor(["secret"]).redact("a secret") == "a ***"


def test_the_three_character_minimum() -> None:
    r = Redactor(["ab", "xyz"])
    assert r.values == {"xyz"}
    assert r.redact("ab xyz") == f"ab {MASK}"
    r.add("cd")
    assert r.redact("cd") == "cd"
    assert Redactor(["ab"]).redact("ab") == "ab"


def test_only_strings_are_registered() -> None:
    r = Redactor()
    for value in (None, 12345, 1.2345, ["abcd"], b"abcd"):
        r.add(value)
    assert r.values == frozenset()
    assert r.redact("12345 abcd") == "12345 abcd"


def test_a_value_added_after_a_redaction_is_redacted_too() -> None:
    r = Redactor(["first"])
    assert r.redact("first second") == f"{MASK} second"
    r.add("second")
    assert r.redact("first second") == f"{MASK} {MASK}"
    r.add("second")  # again: nothing changes
    assert r.redact("second") == MASK


def test_no_values_and_empty_text() -> None:
    assert Redactor().redact("anything") == "anything"
    assert Redactor(["abc"]).redact("") == ""
    assert Redactor().redact_data({"k": ["v"]}) == {"k": ["v"]}


def test_regex_characters_in_a_secret_are_literal() -> None:
    r = Redactor(["a.c*"])
    assert r.redact("abcc a.c*") == f"abcc {MASK}"


def test_overlapping_secrets_mask_the_longest() -> None:
    r = Redactor(["abc", "abcdef"])
    assert r.redact("abcdefabc") == MASK + MASK
    assert r.redact("xabcx") == f"x{MASK}x"


def test_tuples_lists_and_non_string_keys_keep_their_shape() -> None:
    r = Redactor(["tok123"])
    data = {"t": ("tok123", 7, ("x tok123",)), 5: "tok123", None: ["a", "tok123"],
            "tok123": True, ("tok123", 1): 2.5}
    assert r.redact_data(data) == {"t": (MASK, 7, (f"x {MASK}",)), 5: MASK, None: ["a", MASK],
                                   MASK: True, (MASK, 1): 2.5}
    out = r.redact_data(data)
    assert type(out["t"]) is tuple and type(out[None]) is list
    assert r.redact_data(3) == 3 and r.redact_data(None) is None
    assert data["t"][0] == "tok123"  # a copy: the data itself is untouched


# -- masked without a regex per run (issue 17: ~110 us and ~1.2 KB a run) ------------------------
def _by_regex(values: list[str], text: str) -> str:
    """What the redactor did before: one regex of the alternatives, longest first."""
    import re

    forms: set[str] = set()
    for v in values:
        forms |= Redactor([v]).values
    alts = sorted(forms, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, alts))).sub(MASK, text)


@pytest.mark.parametrize(("values", "text"), [
    (["tok-1234abcd", "GXHQ/9Hd+uPQQu"], '{"token": "tok-1234abcd"} q=GXHQ%2F9Hd%2BuPQQu'),
    (["abcdef", "abc"], "abcabcdefabc abcdefabcdef"),
    (["aaa"], "aaaaaaa"),
    (["s3cret", "s3cret-longer"], "s3cret-longer s3cret s3cret-longers3cret"),
    (["p@ss word/+"], "x p@ss word/+ y q=p%40ss+word%2F%2B"),
])
def test_it_masks_as_the_regex_did_and_compiles_none(
        values: list[str], text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    want = _by_regex(values, text)
    r = Redactor(values)

    def no_regex(*args: object, **kw: object) -> None:
        raise AssertionError("a regex compiled for the run's secrets")

    monkeypatch.setattr("re.compile", no_regex)
    assert r.redact(text) == want
    assert values[0] not in r.redact(text)


def test_a_value_holding_a_star_cannot_be_made_by_the_mask() -> None:
    """``str.replace`` of "abc" in "x***abc***y" leaves "x******y"; were "x***" a secret too,
    masking another value could spell it: a value with a ``*`` is masked by the regex."""
    r = Redactor(["mid-secret", "ab***cd"])
    assert r.redact("abmid-secretcd") == f"ab{MASK}cd"  # as the regex masks it: one pass
    assert r.redact("ab***cd and mid-secret") == f"{MASK} and {MASK}"
