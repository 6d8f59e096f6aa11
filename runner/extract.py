"""Extraction of values from a response: JSONPath, XPath, regex, header, status.

One interface for every kind: ``Extractor(kind, expr, all, default)`` applied to a Response.
By default an extraction must match exactly once: no match and several matches are both clear
failures (several machines for one hostname must not silently pick the first). ``all: true``
returns the list of every match; ``default`` is used when nothing matches.
Parsed JSONPath and XPath expressions are cached by their text.

The path languages are rooms of their own below this one: :mod:`runner.jsonpath` (common
shapes in plain Python by :mod:`runner.fast_jsonpath`, the rest by jsonpath_ng),
:mod:`runner.xpath` (lxml) and :mod:`runner.regex` (RE2); jsonpath_ng, lxml and RE2 are
imported only when needed, so ``runner validate`` of a playbook with simple paths and no XPath
imports none of them. This module is what a step's ``extract:`` is: it reads a connector's
:class:`~runner.connectors.response.Response`, so it sits above ``runner.connectors``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from runner.connectors.response import Response
from runner.extract_error import ExtractError
from runner.fast_jsonpath import fast_jsonpath
from runner.jsonpath import compile_jsonpath, jsonpath_values
from runner.regex import compile_regex
from runner.xpath import Namespaces, compile_xpath, xml_value

__all__ = ["KINDS", "Extractor", "check_syntax", "from_spec"]

KINDS = ("jsonpath", "xpath", "regex", "header", "status")
_NO_DEFAULT: Any = object()


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


@dataclass(frozen=True)
class Extractor:
    """One ``extract:`` value: its kind (jsonpath, xpath, regex, header, status) and expression."""
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
            return [xml_value(n) for n in nodes]
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
                               hint="check the answer in the report; if it may be absent, "
                               f"give the extraction a default: {{{self.kind}: "
                               f"{self.expr!r}, default: none}}")
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
