"""Extraction of values from a response: JSONPath, XPath, regex, header, status.

One interface for every kind: ``Extractor(kind, expr, all, default)`` applied to a Response.
By default an extraction must match exactly once: no match and several matches are both clear
failures (several machines for one hostname must not silently pick the first). ``all: true``
returns the list of every match; ``default`` is used when nothing matches.
Parsed JSONPath and XPath expressions are cached by their text.

The common JSONPath shapes (``$.a.b``, ``[0]``, ``[*]``, ``['k']``, ``[?(@.k == 'v')]``) are
compiled to plain Python by :mod:`runner.fast_jsonpath`, which finds what jsonpath_ng finds on
the same data at a fraction of the cost; anything else, or data of a shape the fast path is not
sure about, goes to jsonpath_ng. jsonpath_ng and lxml are imported only when needed, so
``runner validate`` of a playbook with simple paths and no XPath imports neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from runner.connectors.response import Response
from runner.fast_jsonpath import fast_jsonpath
from runner.unsure import Unsure

if TYPE_CHECKING:
    from lxml import etree

KINDS = ("jsonpath", "xpath", "regex", "header", "status")
_NO_DEFAULT: Any = object()


class ExtractError(Exception):
    def __init__(self, message: str, hint: str | None = None, prefix: str = ""):
        super().__init__(message)
        self.hint = hint
        self.prefix = prefix  # an XPath namespace prefix that is not declared


Namespaces = tuple[tuple[str, str], ...]  # an xpath extraction's prefix -> URI, hashable


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


# a QName's prefix: `D` in //D:href or D:*, not an axis (child::) nor inside a string literal
_PREFIX = re.compile(r"(?<![\w.\-:$])([A-Za-z_][\w.\-]*):(?=[A-Za-z_*])")
_LITERAL = re.compile(r"'[^']*'|\"[^\"]*\"")


def xpath_prefixes(expr: str) -> list[str]:
    """The namespace prefixes an XPath names (``D`` in ``//D:href``), each once, in order."""
    return list(dict.fromkeys(m.group(1) for m in _PREFIX.finditer(_LITERAL.sub("''", expr))))


@lru_cache(maxsize=4096)
def compile_xpath(expr: str, namespaces: Namespaces = ()) -> etree.XPath:
    """The compiled XPath; an undeclared prefix is refused here, before any answer (lxml
    itself only finds it when the expression runs, and does not say which prefix)."""
    from lxml import etree

    declared = dict(namespaces)
    try:
        xpath = etree.XPath(expr, namespaces=declared or None)
    except etree.XPathSyntaxError as e:
        raise ExtractError(f"invalid XPath {expr!r}: {e}",
                           hint="XPath looks like //device/device_id/text()") from None
    except TypeError as e:  # an empty namespace URI: XPath 1.0 has no default namespace
        raise ExtractError(f"XPath {expr!r}: namespaces: {e}",
                           hint="give each prefix the namespace URI the answer declares") from None
    missing = [p for p in xpath_prefixes(expr) if p not in declared and p != "xml"]
    if missing:
        try:  # the prefix scan is a heuristic: lxml, on an empty document, has the last word
            xpath(etree.fromstring(b"<x/>"))
        except etree.XPathEvalError as e:
            if "namespace prefix" in str(e):
                raise ExtractError(
                    f"XPath {expr!r} uses the namespace prefix '{missing[0]}', which is not "
                    "declared", prefix=missing[0],
                    hint=f"declare it on the extraction: {{xpath: \"{expr}\", namespaces: "
                    f"{{{missing[0]}: \"URI\"}}}} with the URI the answer declares "
                    f"(xmlns:{missing[0]}=\"...\"; WebDAV's D: is \"DAV:\")") from None
    return xpath


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


def check_syntax(kind: str, expr: str, namespaces: Namespaces = ()) -> None:
    """Raise ExtractError when ``expr`` cannot be parsed (templates replaced by a placeholder)
    or, for an XPath, names a namespace prefix that is not declared."""
    probe = re.sub(r"\{\{.*?\}\}", "x", expr)
    if kind == "jsonpath":
        if fast_jsonpath(probe) is None:
            compile_jsonpath(probe)
    elif kind == "xpath":
        compile_xpath(probe, namespaces)
    elif kind == "regex":
        compile_regex(probe)


def jsonpath_values(expr: str, data: Any) -> list[Any]:
    """Every value ``expr`` finds in ``data``, in order."""
    fast = fast_jsonpath(expr)
    if fast is not None:
        try:
            return fast(data)
        except Unsure:
            pass
    return [m.value for m in compile_jsonpath(expr).find(data)]


def _xml_value(node: Any) -> Any:
    from lxml import etree

    if isinstance(node, etree._Element):
        if len(node):  # comments and entity references have no string tag: skip them
            return {child.tag: _xml_value(child) for child in node if isinstance(child.tag, str)}
        return node.text or ""
    if isinstance(node, bytes):
        return node.decode("utf-8", "replace")
    if isinstance(node, (str, float, bool)):
        return str(node) if isinstance(node, etree._ElementUnicodeResult) else node
    return node


@dataclass(frozen=True)
class Extractor:
    kind: str
    expr: str
    all: bool = False
    default: Any = _NO_DEFAULT
    group: int | str | None = None
    namespaces: Namespaces = ()  # xpath: the prefixes it may use, with their URIs

    @property
    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT

    def matches(self, response: Response) -> list[Any]:
        if self.kind == "status":
            return [response.status_code]
        if self.kind == "header":
            v = response.header(self.expr)
            return [] if v is None else [v]
        if self.kind == "jsonpath":
            data = response.json
            if data is None and not response.content.strip().startswith((b"null",)):
                data = response.body
            return jsonpath_values(self.expr, data)
        if self.kind == "xpath":
            root = response.xml
            if root is None:
                raise ExtractError("the answer is not XML, so XPath cannot apply",
                                   hint="use a JSONPath or regex extraction for this answer")
            from lxml import etree

            try:
                result = compile_xpath(self.expr, self.namespaces)(root)
            except ExtractError as e:  # an undeclared prefix: the answer may say its URI
                uri = next((el.nsmap[e.prefix] for el in root.iter()
                            if e.prefix and e.prefix in getattr(el, "nsmap", {})), None)
                if uri is None:
                    raise
                raise ExtractError(str(e), hint=f"the answer declares {e.prefix} as "
                                   f"\"{uri}\": write namespaces: {{{e.prefix}: \"{uri}\"}} "
                                   "on the extraction") from None
            except etree.XPathEvalError as e:
                raise ExtractError(f"XPath {self.expr!r} could not be evaluated: {e}") from None
            nodes = result if isinstance(result, list) else [result]
            return [_xml_value(n) for n in nodes]
        if self.kind == "regex":
            pattern = compile_regex(self.expr)
            out = []
            for m in pattern.finditer(response.text):
                if self.group is not None:
                    out.append(m.group(self.group))
                else:
                    out.append(m.group(1) if pattern.groups else m.group(0))
                if not self.all:
                    break
            return out
        raise ExtractError(f"unknown extraction kind {self.kind!r}")

    def apply(self, response: Response) -> Any:
        found = self.matches(response)
        if self.all:
            return found
        if len(found) == 1:
            return found[0]
        if not found:
            if self.has_default:
                return self.default
            raise ExtractError(f"{self.kind} {self.expr!r} matched nothing",
                               hint="check the answer in the report, or give a default:")
        shown = ", ".join(repr(v) for v in found[:5])
        raise ExtractError(
            f"{self.kind} {self.expr!r} matched {len(found)} values ({shown}), expected one",
            hint="narrow the expression (a filter such as [?(@.department == 'DEV')]) "
            "or set all: true to get the list",
        )


def from_spec(raw: Any) -> Extractor:
    """Build an Extractor from playbook YAML (already schema-checked).

    ``"$.a.b"`` is JSONPath, ``"/page/x"`` or ``"//x"`` is XPath; a mapping names its kind.
    """
    if isinstance(raw, str):
        if raw.startswith("$"):
            return Extractor("jsonpath", raw)
        if raw.startswith("/"):
            return Extractor("xpath", raw)
        raise ExtractError(
            f"cannot tell what kind of extraction {raw!r} is",
            hint="start a JSONPath with $ or an XPath with /, or write {regex: ...}, "
            "{header: ...}, {status: true}",
        )
    kind = next(k for k in KINDS if k in raw)
    expr = "" if kind == "status" else str(raw[kind])
    namespaces = raw.get("namespaces") or {}
    if namespaces and kind != "xpath":
        raise ExtractError(f"namespaces: go with an xpath: extraction, not with {kind}:",
                           hint="remove namespaces:, or write the extraction as xpath:")
    return Extractor(kind, expr, bool(raw.get("all", False)), raw.get("default", _NO_DEFAULT),
                     raw.get("group"), tuple(sorted(namespaces.items())))
