"""How a list operation pages (``paginate:`` in connector.yaml), and the next page of an answer.

Four styles, as vendors page their lists:

- ``offset``: the ``offset`` parameter moves by the number of items each page had; the
  ``limit`` parameter (``page_size`` when the call gives none) is the page's size;
- ``page``: the ``page`` parameter counts pages from ``start`` (1 unless said), ``limit`` as above;
- ``cursor``: the body holds the next page's cursor (the JSONPath ``next``), sent back in the
  ``cursor`` parameter;
- ``link``: the next page's URL, from the ``Link: <...>; rel="next"`` header of the answer
  (RFC 8288; every Link header of it, a list in one or several), or from the body (``next``: a
  JSONPath to a URL, as Django REST framework writes it).

The items of a page are at the JSONPath ``items`` (``$``: the body is the list). A page ends the
list when it has no items, when it has fewer than the limit it asked for (offset and page), or
when it names no next page (cursor and link). Nothing is sent here: the step kind
(:mod:`runner.steps.paging`) sends each page and records it. Only a safe operation may page:
a list read again and again must not change anything (refused when the connector loads).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from runner.connectors.paging_schema import MAX_PAGES


@dataclass(frozen=True)
class Paginate:
    """A call's ``paginate:``: its style and where the items and the next page are."""
    style: str
    items: str = "$"
    offset: str = "offset"
    limit: str | None = None  # offset: "limit" unless said
    page: str = "page"
    start: int = 1
    cursor: str = "cursor"
    next: str | None = None
    page_size: int | None = None
    max_page_size: int | None = None
    max_pages: int = MAX_PAGES

    @classmethod
    def from_conf(cls, raw: Mapping[str, Any]) -> Paginate:
        style = raw["style"]
        return cls(style=style, items=raw.get("items", "$"), offset=raw.get("offset", "offset"),
                   limit=raw.get("limit", "limit" if style == "offset" else None),
                   page=raw.get("page", "page"), start=int(raw.get("start", 1)),
                   cursor=raw.get("cursor", "cursor"), next=raw.get("next"),
                   page_size=raw.get("page_size"), max_page_size=raw.get("max_page_size"),
                   max_pages=int(raw.get("max_pages", MAX_PAGES)))

    def params_used(self) -> tuple[str, ...]:
        """The operation parameters this style sets (the operation must declare them)."""
        size = (self.limit,) if self.limit else ()
        return {"offset": (self.offset, *size), "page": (self.page, *size),
                "cursor": (self.cursor,), "link": ()}[self.style]

    def problem(self, params: Mapping[str, Any] | None) -> str | None:
        """What is wrong with this paging for an operation of ``params`` (names; None: a raw
        call, whose query takes any name), or None."""
        if self.style == "cursor" and not self.next:
            return "paginate style 'cursor' needs next: (the JSONPath to the next cursor)"
        for key in ("page_size", "max_page_size"):
            if getattr(self, key) is not None and not self.limit:
                return f"{key} needs limit: (the parameter the page size is sent in)"
        for name in self.params_used():
            if params is not None and name not in params:
                return (f"paginate names parameter '{name}', which the operation does not "
                        "declare")
        return None

    def first(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The first page's parameters: the call's, with the page size and start filled in."""
        out = dict(params)
        if self.limit:
            if self.page_size is not None:
                out.setdefault(self.limit, self.page_size)
            size = out.get(self.limit)
            if self.max_page_size is not None and isinstance(size, int) \
                    and size > self.max_page_size:  # more than it serves: a short page
                out[self.limit] = self.max_page_size
        if self.style == "offset":
            out.setdefault(self.offset, 0)
        elif self.style == "page":
            out.setdefault(self.page, self.start)
        return out

    def next_params(self, params: Mapping[str, Any], items: list[Any], body: Any
                    ) -> dict[str, Any] | None:
        """offset, page and cursor: the next page's parameters after a page of ``items``
        (``body``: the page's JSON), or None when this page was the last."""
        limit = params.get(self.limit) if self.limit else None
        if self.style in ("offset", "page"):
            if not items or (isinstance(limit, int) and len(items) < limit):
                return None
            key = self.offset if self.style == "offset" else self.page
            step = len(items) if self.style == "offset" else 1
            return {**params, key: int(params.get(key) or 0) + step}
        cursor = found(self.next or "", body)
        if cursor in (None, "", False):
            return None
        return {**params, self.cursor: cursor}

    def next_url(self, headers: Mapping[str, str], body: Any, url: str) -> str | None:
        """link: the next page's URL (absolute, resolved against ``url``), or None."""
        if self.next:
            target = found(self.next, body)
            target = target if isinstance(target, str) and target else None
        else:
            target = link_next(headers.get("link", ""))
        return urljoin(url, target) if target else None

    def items_of(self, body: Any) -> Any:
        """The page's items (whatever is at ``items``: the caller checks it is a list)."""
        return body if self.items == "$" else found(self.items, body)


def found(path: str, data: Any) -> Any:
    """The first value ``path`` finds in ``data``, or None."""
    from runner.jsonpath import jsonpath_values

    values = jsonpath_values(path, data)
    return values[0] if values else None


_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]*)*)")
_PARAM = re.compile(r"""([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*))?""")


def links(value: str) -> list[tuple[str, dict[str, str]]]:
    """The links of a Link header's value (RFC 8288; several headers arrive joined by ", "):
    each target with its parameters (names lower-cased, quotes taken off)."""
    out = []
    for m in _LINK.finditer(value):
        params = {}
        for p in _PARAM.finditer(m.group(2)):
            v = p.group(2) or ""
            params[p.group(1).lower()] = v[1:-1] if v.startswith('"') else v
        out.append((m.group(1).strip(), params))
    return out


def link_next(value: str) -> str | None:
    """The target of the link whose ``rel`` names ``next`` (rel may list several types)."""
    for target, params in links(value):
        if "next" in params.get("rel", "").lower().split():
            return target
    return None


def same_origin(a: str, b: str) -> bool:
    """Whether two URLs share scheme, host and port: credentials go to the base URL's only."""
    x, y = urlsplit(a), urlsplit(b)
    return (x.scheme, x.hostname, x.port or _port(x.scheme)) == \
        (y.scheme, y.hostname, y.port or _port(y.scheme))


def _port(scheme: str) -> int | None:
    return {"http": 80, "https": 443}.get(scheme)
