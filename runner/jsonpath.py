"""JSONPath over any JSON value: the common shapes through :mod:`runner.fast_jsonpath`
(plain Python), anything else, or data of a shape it is not sure about, through jsonpath_ng.
Parsed paths are cached by their text; jsonpath_ng is imported with the first path the fast
path does not take. JSONPath's own regexes (``=~``, ``sub()``) run on RE2 (:mod:`runner.regex`).

It reads plain data, not a connector's answer: the extraction of a step
(:mod:`runner.extract`) and a login's token (:mod:`runner.connectors.token_auth`) both use it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from runner.extract_error import ExtractError
from runner.fast_jsonpath import fast_jsonpath
from runner.regex import compile_regex
from runner.unsure import Unsure


@lru_cache(maxsize=4096)
def compile_jsonpath(expr: str) -> Any:
    from jsonpath_ng.ext import filter as jsonpath_filter
    from jsonpath_ng.ext.parser import parse as jsonpath_parse

    # JSONPath's own regexes (`=~` in a filter, `sub(/.../, ...)`) run on RE2 too: with
    # Python's re, [?(@.name =~ '(a+)+$')] backtracks for ever on 41 characters
    jsonpath_filter.OPERATOR_MAP["=~"] = _re2_search
    try:
        parsed = jsonpath_parse(expr)
    except Exception as e:  # jsonpath_ng's lexer and parser errors, and what its rules raise
        raise ExtractError(f"invalid JSONPath {expr!r}: {str(e).splitlines()[0]}",
                           hint="JSONPath looks like $.data.items[?(@.name == 'x')].id") from None
    _regexes_on_re2(parsed)
    return parsed


def _re2_search(value: Any, pattern: Any) -> bool:
    return isinstance(value, str) and isinstance(pattern, str) \
        and compile_regex(pattern).search(value) is not None


def _regexes_on_re2(node: Any) -> None:
    """Compile each regex of a parsed JSONPath with RE2 (refused constructs named now, at
    validate time); a ``sub()`` then matches with it."""
    from jsonpath_ng.ext.filter import Expression
    from jsonpath_ng.ext.string import Sub
    from jsonpath_ng.jsonpath import JSONPath

    if isinstance(node, Sub):
        node.regex = compile_regex(node.expr)
    elif isinstance(node, Expression) and node.op == "=~" and isinstance(node.value, str):
        compile_regex(node.value)
    for child in vars(node).values():
        for sub in child if isinstance(child, (list, tuple)) else (child,):
            if isinstance(sub, JSONPath):
                _regexes_on_re2(sub)


def jsonpath_values(expr: str, data: Any) -> list[Any]:
    """Every value ``expr`` finds in ``data``, in order."""
    fast = fast_jsonpath(expr)
    if fast is not None:
        try:
            return fast(data)
        except Unsure:
            pass
    return [m.value for m in compile_jsonpath(expr).find(data)]
