"""Regular expressions on RE2, whose matching takes time linear in the text, so no pattern
a playbook or a JSONPath filter holds can hang a run; what RE2 refuses that Python's ``re``
accepts is named in the error, so the message says which construct to rewrite."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from runner.extract_error import ExtractError

# What RE2 refuses that Python's re accepts, by the start of RE2's error text: named, so the
# message says which construct to rewrite rather than "invalid perl operator".
_RE2_UNSUPPORTED = (
    ("invalid perl operator: (?=", "a lookahead (?=...)"),
    ("invalid perl operator: (?!", "a negative lookahead (?!...)"),
    ("invalid perl operator: (?<=", "a lookbehind (?<=...)"),
    ("invalid perl operator: (?<!", "a negative lookbehind (?<!...)"),
    ("invalid perl operator: (?P", "a named backreference (?P=name)"),  # RE2 cuts it there
    ("invalid perl operator: (?>", "an atomic group (?>...)"),
    ("invalid perl operator: (?(", "a conditional group (?(...)...)"),
    ("invalid perl operator: (?#", "a comment group (?#...)"),
    ("invalid escape sequence: \\Z", "\\Z (RE2 spells end of text \\z)"),
    ("invalid escape sequence: \\g", "a group reference \\g<...>"),
    ("bad repetition operator: *+", "a possessive quantifier (*+, ++, ?+)"),
    ("bad repetition operator: ++", "a possessive quantifier (*+, ++, ?+)"),
    ("bad repetition operator: ?+", "a possessive quantifier (*+, ++, ?+)"),
    ("invalid repetition size", "a repetition count over 1000"),
)
_RE2_HINT = ("runner matches regular expressions with RE2, in time linear in the text, so no "
             "pattern can hang a run; rewrite the pattern without it, or extract a wider match "
             "and test it in an expression")


def _re2_construct(message: str) -> str | None:
    """The construct named by RE2's error ``message``, when it is one Python's re accepts."""
    if message.startswith("invalid escape sequence: \\") and message[26:27].isdigit():
        return f"a backreference ({message[25:]})"
    if message.startswith("invalid perl operator: (?") and message[25:26].isalpha() \
            and message[25:26] not in "P<":
        return f"the inline flag {message[23:]}) (RE2 knows i, m, s and U)"
    return next((what for start, what in _RE2_UNSUPPORTED if message.startswith(start)), None)


@lru_cache(maxsize=4096)
def compile_regex(expr: str) -> Any:
    """``expr`` compiled by RE2, whose matching takes time linear in the text: ``(a+)+$``
    cannot backtrack for ever as it does with Python's re. Imported here, on the first regex:
    a playbook without one does not pay for it."""
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print its own copy of the error on stderr
    try:
        return re2.compile(expr, options)
    except re2.error as e:
        message = e.args[0].decode("utf-8", "replace") if e.args and isinstance(e.args[0], bytes) \
            else str(e)
        construct = _re2_construct(message)
        if construct is not None:
            raise ExtractError(f"regular expression {expr!r} uses {construct}, which runner's "
                               "regex engine (RE2) does not support", hint=_RE2_HINT) from None
        raise ExtractError(f"invalid regular expression {expr!r}: {message}") from None
