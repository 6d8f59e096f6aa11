"""XPath over an answer's XML (lxml): compiled once per text and namespaces, an undeclared
namespace prefix refused when compiled (lxml only finds it when the expression runs, and does
not say which prefix), the nodes found turned into plain values. lxml is imported with the
first XPath."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from runner.extract_error import ExtractError

if TYPE_CHECKING:
    from lxml import etree

Namespaces = tuple[tuple[str, str], ...]  # an xpath extraction's prefix -> URI, hashable

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


def xml_value(node: Any) -> Any:
    from lxml import etree

    if isinstance(node, etree._Element):
        if len(node):  # comments and entity references have no string tag: skip them
            return {child.tag: xml_value(child) for child in node if isinstance(child.tag, str)}
        return node.text or ""
    if isinstance(node, bytes):
        return node.decode("utf-8", "replace")
    if isinstance(node, (str, float, bool)):
        return str(node) if isinstance(node, etree._ElementUnicodeResult) else node
    return node
