"""Parsing an untrusted XML answer: no entities (an answer declaring one is refused as hostile),
no DTD loading, no network, no huge trees; a body that is not well-formed is a TransportError
that says so. lxml is imported with the first XML answer, not at start-up."""

from __future__ import annotations

from functools import cache
from typing import Any

from runner.errors import TransportError

MAX_XML_DEPTH = 256


@cache
def _xml_parser() -> Any:  # lxml is imported with the first XML answer, not at start-up
    from lxml import etree

    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
        remove_blank_text=True, dtd_validation=False,
    )


def parse_xml(content: bytes) -> Any:
    """Parse untrusted XML: no entities, no DTD, no network. Returns the root element."""
    if b"<!ENTITY" in content[:4096]:
        raise TransportError("the XML answer declares entities, which are refused",
                             hint="an XML answer with <!ENTITY> is treated as hostile")
    from lxml import etree

    try:
        return etree.fromstring(content, parser=_xml_parser())
    except etree.XMLSyntaxError as e:
        raise TransportError(f"the answer is not well-formed XML: {e}") from None
