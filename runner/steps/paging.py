"""``all: true`` on a call: every page of a list operation that pages (``paginate:`` in its
connector file, :mod:`runner.connectors.paging`), as one answer whose JSON is the items.

Each page is sent as the step's own call is (auth, hooks, the retry policy) and recorded as one
exchange of the step, so reports and history show every page. The answer the step leaves
(``response``, ``steps.<id>.response``) is the last page's status and headers with the items
of all pages as its body, and ``response.pages`` the number of pages read: extraction and
assertions run over the items. ``max-items`` stops once that many items are read (the rest is not
asked for); more pages than the page cap (``max-pages``, else the connector's ``max_pages``)
fail the step rather than pass it with part of the list. A page that is an error answer stops
the paging and is the step's answer (``allow-error: true`` goes on with it).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from runner.connectors.paging import Paginate
from runner.connectors.spec import safe_by_verb
from runner.errors import StepFailed, TransportError
from runner.loader import Path_
from runner.model import Step
from runner.steps.call_spec import CallSpec
from runner.steps.common import render
from runner.steps.kind import Builder
from runner.steps.runtime import Runtime, Scope

if TYPE_CHECKING:
    from runner.connectors.http import PreparedCall
    from runner.connectors.response import Response
    from runner.results import StepResult


def paged(b: Builder, raw: Mapping[str, Any], path: Path_, spec: CallSpec) -> CallSpec:
    """``spec`` with the step's paging keys, checked: ``all`` only on an operation that pages
    (so a safe one: a connector whose paging operation is not safe does not load), the bounds
    only with ``all: true``."""
    bounds = [k for k in ("max-items", "max-pages", "paginate") if k in raw]
    if not raw.get("all"):
        if bounds:
            raise b.fail(path + (bounds[0],), f"'{bounds[0]}' is for a call with all: true",
                         "add all: true to read every page, or remove it")
        return spec
    if spec.save_to is not None:
        raise b.fail(path + ("save-to",), "save-to: keeps one answer's body; all: true reads "
                     "several pages", "remove save-to: or all: true")
    if spec.operation is None:
        return _raw_paged(b, raw, path, spec)
    if "paginate" in raw:
        raise b.fail(path + ("paginate",), f"{spec.target} is an operation: its connector "
                     "file says how it pages", "paginate: is for a raw call")
    op = b.alias(spec.connector, path + ("call",)).operation(spec.operation)
    assert op is not None  # build_call_spec checked it
    if op.paginate is None:
        raise b.fail(path + ("all",), f"{spec.target} does not page: its connector declares "
                     "no paginate: for it", "call it without all: true, or declare how it "
                     "pages (docs/writing-a-connector.md, Pagination)")
    if not op.safe:  # a connector built in Python, not loaded from a file, could say so
        raise b.fail(path + ("all",), f"{spec.target} is not safe to repeat and cannot page")
    return dataclasses.replace(spec, all_pages=True, max_items=raw.get("max-items"),
                               max_pages=raw.get("max-pages"))


def _raw_paged(b: Builder, raw: Mapping[str, Any], path: Path_, spec: CallSpec) -> CallSpec:
    """A raw call pages by its own ``paginate:`` (its paging parameters go in the query)."""
    if "paginate" not in raw:
        raise b.fail(path + ("all",), f"all: true on the raw call '{spec.target}' needs "
                     "paginate: (how the endpoint pages)",
                     "e.g. paginate: {style: link}; or call an operation that pages")
    pager = Paginate.from_conf(raw["paginate"])
    problem = pager.problem(None)
    if problem:
        raise b.fail(path + ("paginate",), problem)
    method = str(spec.method)
    safe = spec.safe if spec.safe is not None else (None if "{{" in method
                                                    else safe_by_verb(method))
    if safe is False:
        raise b.fail(path + ("all",), f"'{spec.target}' is not safe to repeat and cannot page",
                     "paging sends the request once per page: only a read may page "
                     "(safe: true if it changes nothing)")
    return dataclasses.replace(spec, all_pages=True, max_items=raw.get("max-items"),
                               max_pages=raw.get("max-pages"), paginate=pager)


def read_pages(rt: Runtime, step: Step, result: StepResult, spec: CallSpec, scope: Scope
               ) -> tuple[PreparedCall, Response]:
    """Send every page (within the bounds); the last call sent and the step's answer."""
    from runner.steps.answers import no_answer
    from runner.steps.sending import send

    client = rt.client(spec.connector)
    pager, params, make = _pages_of(rt, spec, scope)
    cap = spec.max_pages or pager.max_pages
    call = make(params or {}, None)
    items: list[Any] = []
    pages: list[Response] = []
    seen: set[str] = set()
    while True:
        start = time.perf_counter()
        try:
            response = send(rt, step, result, call)
        except TransportError as e:
            if not spec.allow_error:
                raise
            return call, no_answer(rt, call, e, (time.perf_counter() - start) * 1000)
        if response.error is not None:
            return call, response  # the step fails on it, or goes on with it
        pages.append(response)
        result.pages = len(pages)
        page = pager.items_of(response.json)
        if not isinstance(page, list):
            raise StepFailed(
                f"{call.target}: page {len(pages)} has no list of items at {pager.items} "
                f"(found {_kind(page)})", hint="the connector's paginate: items: is the "
                "JSONPath to the list in each page's body")
        items.extend(page)
        if spec.max_items is not None and len(items) >= spec.max_items:
            del items[spec.max_items:]
            break
        params, url = _next(pager, params, page, response, client.base_url, call)
        if params is None and url is None:
            break
        key = url or json.dumps(params, sort_keys=True, default=str)
        if key in seen:
            raise StepFailed(f"{call.target}: page {len(pages)} names the same next page as "
                             "an earlier one; paging would not end",
                             hint="check the connector's paginate: (next:, cursor:)")
        seen.add(key)
        if len(pages) >= cap:
            raise StepFailed(
                f"{call.target}: the list has more than {cap} pages; stopped after {cap} "
                f"pages ({len(items)} items)", hint="raise max-pages: on the step (or "
                "max_pages in the connector's paginate:), or bound it with max-items:")
        call = make(params or {}, url)
    return call, _combined(pages, items)


_Make = Callable[[Mapping[str, Any], "str | None"], "PreparedCall"]


def _pages_of(rt: Runtime, spec: CallSpec, scope: Scope
              ) -> tuple[Paginate, dict[str, Any] | None, _Make]:
    """How the call pages, its first page's parameters, and what makes a page's call from
    its parameters or its URL (a link carries the whole query of the next page)."""
    from runner.steps.sending import build_call, expecting

    client = rt.client(spec.connector)
    if spec.operation is None:  # a raw call: the paging parameters are its query's
        first = build_call(rt, spec, scope)  # never sent: each page is a copy
        if not first.safe:
            raise StepFailed(f"{first.target} {first.method} is not safe to repeat and "
                             "cannot page", hint="only a read may page (safe: true if it "
                             "changes nothing)")
        pager: Paginate = spec.paginate

        def raw(params: Mapping[str, Any], url: str | None) -> PreparedCall:
            return dataclasses.replace(first, url=url or first.url, headers=dict(first.headers),
                                       query={} if url else dict(params))
        return pager, pager.first(first.query), raw
    op = client.spec.operations[str(spec.operation)]
    assert op.paginate is not None  # the loader let all: true only on an operation that pages

    def prepared(params: Mapping[str, Any], url: str | None) -> PreparedCall:
        call = client.prepare(op.name, params)
        if url is not None:
            call.url, call.query = url, {}
        call.follow_redirects = spec.follow_redirects
        return expecting(spec, call)
    return op.paginate, op.paginate.first(render(rt, dict(spec.params), scope, "with")), prepared


def _next(pager: Paginate, params: dict[str, Any] | None, page: list[Any], response: Response,
          base_url: str, call: PreparedCall) -> tuple[dict[str, Any] | None, str | None]:
    """The next page: its parameters (offset, page, cursor) or its URL (link); both None when
    this page was the last."""
    from runner.connectors.paging import same_origin

    if pager.style != "link":
        return pager.next_params(params or {}, page, response.json), None
    url = pager.next_url(response.headers, response.json, response.url or call.url)
    if url is not None and not same_origin(url, base_url):
        raise StepFailed(f"{call.target}: the next page's link goes to another server "
                         f"({url.split('?')[0]})", hint="runner sends a connector's "
                         "credentials to its base URL only; check base_url")
    return (params, url) if url is not None else (None, None)


def _combined(pages: list[Response], items: list[Any]) -> Response:
    from runner.connectors.response import Response

    last = pages[-1]
    out = Response(last.status_code, dict(last.headers), json.dumps(items).encode("utf-8"),
                   url=pages[0].url, method=last.method,
                   elapsed_ms=sum(p.elapsed_ms for p in pages), decode="json",
                   attempts=max(p.attempts for p in pages), pages=len(pages), _json=items)
    return out


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"a {type(value).__name__}"
