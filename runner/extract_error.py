"""The one error of reading a value out of an answer: a JSONPath, XPath or regular expression
that does not parse, does not match once, or cannot apply. Its own room because the three
path languages (:mod:`runner.jsonpath`, :mod:`runner.xpath`, :mod:`runner.regex`) and
:mod:`runner.extract` above them all raise it."""

from __future__ import annotations


class ExtractError(Exception):
    def __init__(self, message: str, hint: str | None = None, prefix: str = ""):
        super().__init__(message)
        self.hint = hint
        self.prefix = prefix  # an XPath namespace prefix that is not declared
