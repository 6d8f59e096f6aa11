"""The paging styles other than ERA's offset/limit, each against a real server on loopback: a
small WSGI app of ours on cheroot for page numbers, cursors in the body, ``Link: rel=next``
headers (two Link headers in one answer, a relative link, a next URL in the body) and what a
server can get wrong (a cursor that never changes, no list, a link to another server); and
httpbin's ``/response-headers`` (a real server from PyPI) sending real repeated Link headers."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from wsgi_servers import httpbin, serving

from runner import api
from runner.errors import PlaybookError
from runner.secrets import Redactor

ITEMS = [{"n": i} for i in range(7)]
TOKEN = "tok-paging-5c4b3a29187"


def _json(start_response: Any, body: Any, headers: list[tuple[str, str]] | None = None
          ) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(data))), *(headers or [])])
    return [data]


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Seven items, paged four ways (and three broken ones)."""
    q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    path = environ["PATH_INFO"]
    if environ.get("HTTP_AUTHORIZATION") != f"Bearer {TOKEN}":
        start_response("401 Unauthorized", [("Content-Length", "0")])
        return [b""]
    host = f"http://{environ['HTTP_HOST']}"
    if path == "/numbered":  # page numbers from 1, per_page items: {"data": [...]}
        page, per = int(q.get("page", 1)), int(q.get("per_page", 3))
        return _json(start_response, {"page": page, "data": ITEMS[(page - 1) * per:page * per]})
    if path == "/capped":  # page numbers, at most 3 items a page whatever is asked
        page, per = int(q.get("page", 1)), min(int(q.get("per_page", 3)), 3)
        return _json(start_response, {"page": page, "data": ITEMS[(page - 1) * per:page * per]})
    if path == "/cursored":  # an opaque cursor in the body, none on the last page
        at = int(q.get("after", "c0")[1:])
        size = int(q.get("size", 3))
        nxt = f"c{at + size}" if at + size < len(ITEMS) else None
        return _json(start_response, {"items": ITEMS[at:at + size], "meta": {"next": nxt}})
    if path == "/linked":  # Link headers: next first and last after it, as two headers
        page = int(q.get("page", 1))
        links = [("Link", f'<{host}/linked?page={page + 1}>; rel="next"')] \
            if page * 3 < len(ITEMS) else []
        links.append(("Link", f'<{host}/linked?page=3>; rel="last"'))
        return _json(start_response, ITEMS[(page - 1) * 3:page * 3], links)
    if path == "/relative":  # one header, several links, a relative target
        page = int(q.get("page", 1))
        value = f'</relative?page=1>; rel="first", </relative?page={page + 1}>; rel="next"' \
            if page < 3 else '</relative?page=1>; rel="first"'
        return _json(start_response, ITEMS[(page - 1) * 3:page * 3], [("Link", value)])
    if path == "/results":  # Django REST framework: {"next": URL or null, "results": [...]}
        page = int(q.get("page", 1))
        nxt = f"{host}/results?page={page + 1}" if page < 3 else None
        return _json(start_response, {"next": nxt, "results": ITEMS[(page - 1) * 3:page * 3]})
    if path == "/stuck":  # the same cursor for ever
        return _json(start_response, {"items": [1], "meta": {"next": "same"}})
    if path == "/notalist":
        return _json(start_response, {"data": {"n": 1}})
    if path == "/away":  # the next page on another server
        return _json(start_response, [1], [("Link", '<http://elsewhere.test/x>; rel="next"')])
    start_response("404 Not Found", [("Content-Length", "0")])
    return [b""]


CONNECTOR = """\
name: pages
settings:
  base_url: {required: true}
  token: {required: true, secret: true}
auth: {scheme: bearer, token: "{{ settings.token }}"}
decode: json
operations:
  numbered:
    method: GET
    path: /numbered
    params: {page: {type: integer}, per_page: {type: integer}}
    paginate: {style: page, items: $.data, limit: per_page}
  capped:
    method: GET
    path: /capped
    params: {page: {type: integer}, per_page: {type: integer}}
    paginate: {style: page, items: $.data, limit: per_page, max_page_size: 3}
  cursored:
    method: GET
    path: /cursored
    params: {after: {type: string}, size: {type: integer}}
    paginate: {style: cursor, items: $.items, cursor: after, next: $.meta.next}
  linked:
    method: GET
    path: /linked
    paginate: {style: link}
  relative:
    method: GET
    path: /relative
    paginate: {style: link}
  results:
    method: GET
    path: /results
    paginate: {style: link, items: $.results, next: $.next}
  stuck:
    method: GET
    path: /stuck
    params: {cursor: {type: string}}
    paginate: {style: cursor, items: $.items, next: $.meta.next}
  notalist:
    method: GET
    path: /notalist
    paginate: {style: page, items: $.data}
    params: {page: {type: integer}}
  away:
    method: GET
    path: /away
    paginate: {style: link}
"""


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with serving(app) as url:
        yield url


def run(tmp_path: Path, base_url: str, step: str, connector: str = CONNECTOR,
        name: str = "pages") -> tuple[Any, str]:
    (tmp_path / "connectors").mkdir(exist_ok=True)
    (tmp_path / "connectors" / f"{name}.yaml").write_text(connector)
    env = tmp_path / "env.yaml"
    env.write_text(f"connectors:\n  {name}:\n    base_url: {base_url}\n"
                   "    token: {secret: PAGES_TOKEN}\n")
    pb = tmp_path / "pb.yaml"
    pb.write_text(f"name: styles\nconnectors:\n  p: {{use: {name}}}\nsteps:\n{step}")
    out = io.StringIO()
    result = api.run(pb, env=str(env), stream=out, redactor=Redactor(), store=False)
    return result, out.getvalue()


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGES_TOKEN", TOKEN)


def urls(result: Any) -> list[str]:
    return [e.request["url"] + ("?" + urlencode(e.request["query"]) if e.request.get("query")
                                else "") for e in result.steps[0].exchanges]


ALL_SEVEN = """\
    extract: {ns: {jsonpath: "$[*].n", all: true}}
    assert: "ns == [0, 1, 2, 3, 4, 5, 6] and response.pages == 3"
"""


def test_page_numbers(tmp_path: Path, base: str) -> None:
    result, console = run(tmp_path, base, "  - call: p.numbered\n    with: {per_page: 3}\n"
                          "    all: true\n" + ALL_SEVEN)
    assert result.status == "passed", console
    assert [u.split("?")[1] for u in urls(result)] == [
        "page=1&per_page=3", "page=2&per_page=3", "page=3&per_page=3"]


def test_page_numbers_without_a_page_size_end_on_an_empty_page(tmp_path: Path, base: str
                                                                ) -> None:
    result, console = run(tmp_path, base, "  - call: p.numbered\n    all: true\n"
                          "    assert: \"response.json | length == 7 and response.pages == 4\"\n",
                          CONNECTOR.replace("$.data, limit: per_page}", "$.data}"))
    assert result.status == "passed", console


def test_a_page_size_above_the_vendors_largest_is_sent_as_its_largest(tmp_path: Path,
                                                                     base: str) -> None:
    # the server serves 3 when asked 10: read as "3 < 10, the last page", 4 items were lost
    result, console = run(tmp_path, base, "  - call: p.capped\n    with: {per_page: 10}\n"
                          "    all: true\n" + ALL_SEVEN)
    assert result.status == "passed", console
    assert urls(result)[0].split("?")[1] == "page=1&per_page=3"


def test_a_cursor_from_the_body(tmp_path: Path, base: str) -> None:
    result, console = run(tmp_path, base, "  - call: p.cursored\n    with: {size: 3}\n"
                          "    all: true\n" + ALL_SEVEN)
    assert result.status == "passed", console
    assert [u.split("?")[1] for u in urls(result)] == ["size=3", "after=c3&size=3",
                                                       "after=c6&size=3"]


def test_link_next_among_two_link_headers(tmp_path: Path, base: str) -> None:
    # each answer has two Link headers, rel="next" first: keeping only the last header of a
    # name (what the transport did) lost the next page
    result, console = run(tmp_path, base, "  - call: p.linked\n    all: true\n" + ALL_SEVEN)
    assert result.status == "passed", console
    assert urls(result) == [f"{base}/linked", f"{base}/linked?page=2", f"{base}/linked?page=3"]
    headers = result.steps[0].exchanges[0].response["headers"]
    assert headers["link"] == (f'<{base}/linked?page=2>; rel="next", '
                               f'<{base}/linked?page=3>; rel="last"')


def test_a_relative_link_among_several_in_one_header(tmp_path: Path, base: str) -> None:
    result, console = run(tmp_path, base, "  - call: p.relative\n    all: true\n" + ALL_SEVEN)
    assert result.status == "passed", console
    assert urls(result)[1:] == [f"{base}/relative?page=2", f"{base}/relative?page=3"]


def test_a_next_url_in_the_body(tmp_path: Path, base: str) -> None:
    result, console = run(tmp_path, base, "  - call: p.results\n    all: true\n" + ALL_SEVEN)
    assert result.status == "passed", console


def test_max_items_on_a_cursor(tmp_path: Path, base: str) -> None:
    result, console = run(tmp_path, base, "  - call: p.cursored\n    with: {size: 3}\n"
                          "    all: true\n    max-items: 4\n"
                          "    assert: \"response.json | length == 4 and response.pages == 2\"\n")
    assert result.status == "passed", console


@pytest.mark.parametrize(("op", "words"), [
    ("stuck", "page 2 names the same next page as an earlier one"),
    ("notalist", "page 1 has no list of items at $.data (found a dict)"),
    ("away", "the next page's link goes to another server (http://elsewhere.test/x)"),
])
def test_what_a_server_gets_wrong_fails_the_step(tmp_path: Path, base: str, op: str,
                                                 words: str) -> None:
    result, console = run(tmp_path, base, f"  - call: p.{op}\n    all: true\n")
    assert result.status == "failed"
    assert words in console, console
    if op == "stuck":
        assert len(result.steps[0].exchanges) == 2
    assert TOKEN not in console


def test_a_raw_call_pages_by_its_own_paginate(tmp_path: Path, base: str) -> None:
    result, console = run(tmp_path, base, """\
  - call: p
    method: GET
    path: /numbered
    query: {per_page: 3}
    all: true
    paginate: {style: page, items: $.data, limit: per_page}
""" + ALL_SEVEN)
    assert result.status == "passed", console
    assert [u.split("?")[1] for u in urls(result)] == [
        "per_page=3&page=1", "per_page=3&page=2", "per_page=3&page=3"]
    result, console = run(tmp_path, base, "  - call: p\n    method: GET\n    path: /linked\n"
                          "    all: true\n    paginate: {style: link}\n" + ALL_SEVEN)
    assert result.status == "passed", console


@pytest.mark.parametrize(("step", "words"), [
    ("  - call: p.numbered\n    max-items: 3\n", "'max-items' is for a call with all: true"),
    ("  - call: p\n    method: GET\n    path: /numbered\n    all: true\n",
     "all: true on the raw call 'p GET /numbered' needs paginate:"),
    ("  - call: p\n    method: POST\n    path: /numbered\n    all: true\n"
     "    paginate: {style: link}\n", "'p POST /numbered' is not safe to repeat and cannot page"),
    ("  - call: p\n    method: GET\n    path: /x\n    all: true\n"
     "    paginate: {style: cursor}\n", "paginate style 'cursor' needs next:"),
    ("  - call: p.numbered\n    all: true\n    paginate: {style: link}\n",
     "p.numbered is an operation: its connector file says how it pages"),
    ("  - call: p.numbered\n    all: true\n    save-to: out.json\n",
     "save-to: keeps one answer's body"),
])
def test_paging_keys_are_checked_when_the_playbook_loads(tmp_path: Path, base: str, step: str,
                                                         words: str) -> None:
    with pytest.raises(PlaybookError) as e:
        run(tmp_path, base, step)
    assert words in e.value.render()
    assert "pb.yaml:" in e.value.render()


def test_all_on_an_operation_that_does_not_page(tmp_path: Path, base: str) -> None:
    with pytest.raises(PlaybookError) as e:
        run(tmp_path, base, "  - call: p.numbered\n    all: true\n",
            CONNECTOR.replace("    paginate: {style: page, items: $.data, limit: per_page}\n",
                              ""))
    assert "p.numbered does not page: its connector declares no paginate: for it" \
        in e.value.render()


@pytest.mark.parametrize(("paginate", "words"), [
    ("{style: cursor, items: $.items}", "paginate style 'cursor' needs next:"),
    ("{style: page, items: $.data, limit: size}",
     "paginate names parameter 'size', which the operation does not declare"),
    ("{style: sideways}", "sideways"),
])
def test_a_paginate_that_cannot_work_is_refused_when_the_connector_loads(
        tmp_path: Path, base: str, paginate: str, words: str) -> None:
    bad = CONNECTOR.replace("{style: page, items: $.data, limit: per_page}", paginate)
    with pytest.raises(PlaybookError) as e:
        run(tmp_path, base, "  - call: p.numbered\n", bad)
    assert words in e.value.render()
    assert "pages.yaml:" in e.value.render()


# -- httpbin: real repeated Link headers from a server of PyPI ------------------------------
BIN = """\
name: bin
settings:
  base_url: {required: true}
  token: {required: false, secret: true}
operations:
  headers_page:
    method: GET
    path: /response-headers
    params: {item: {type: array}, Link: {type: array}}
    paginate: {style: link, items: $.item}
"""


def test_httpbin_link_headers(tmp_path: Path) -> None:
    """httpbin's /response-headers answers each query pair as a header and echoes them in the
    body: three pages, each naming the next (and the first) in two Link headers."""
    with httpbin() as url:
        def page(items: list[str], nxt: str | None) -> list[tuple[str, str]]:
            pairs = [("item", i) for i in items]
            if nxt:
                pairs.append(("Link", f'<{nxt}>; rel="next"'))
            pairs.append(("Link", f'<{url}/response-headers?item=a&item=b>; rel="first"'))
            return pairs

        third = f"{url}/response-headers?" + urlencode(page(["e", "f"], None))
        second = f"{url}/response-headers?" + urlencode(page(["c", "d"], third))
        first = page(["a", "b"], second)
        with_ = {"item": ["a", "b"], "Link": [v for k, v in first if k == "Link"]}
        result, console = run(tmp_path, url, f"""\
  - call: p.headers_page
    with: {json.dumps(with_)}
    all: true
    assert: "response.json == ['a', 'b', 'c', 'd', 'e', 'f'] and response.pages == 3"
""", BIN, "bin")
    assert result.status == "passed", console
    assert urls(result)[1:] == [second, third]
