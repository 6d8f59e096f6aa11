"""The HTTP people expect, against httpbin (a real server from PyPI, served on loopback by
tests/wsgi_servers.py): HEAD, list query parameters, base URL joining, redirects not
followed, brotli/gzip/deflate bodies, an HTML 404 page that is not the vendor's answer, and a
session's cookies. Each test failed on the transport before issue 13."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from wsgi_servers import httpbin as serve

from runner.connectors import registry
from runner.connectors.client import ConnectorClient
from runner.connectors.http import PreparedCall, Transport
from runner.secrets import Redactor

PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy",
              "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(scope="module")
def httpbin_url() -> Iterator[str]:
    with serve() as url:
        yield url


@pytest.fixture(autouse=True)
def _direct(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARS:  # loopback, never through a proxy the machine may name
        monkeypatch.delenv(name, raising=False)


def call(url: str, method: str = "GET", **kw: Any) -> PreparedCall:
    return PreparedCall(connector="bin", operation="", method=method, url=url, **kw)


@pytest.fixture
def transport() -> Iterator[Transport]:
    t = Transport(read_timeout=10)
    yield t
    t.close()


def era(base_url: str, **settings: Any) -> ConnectorClient:
    """The era connector (bearer token, JSON) pointed at httpbin: raw calls reach any path."""
    return ConnectorClient("era", registry.get("era"),
                           {"base_url": base_url, "api_token": "t0ken", **settings}, Redactor())


# -- 1. HEAD, 204 ------------------------------------------------------------------------------

def test_head_reads_no_body(transport: Transport, httpbin_url: str) -> None:
    r = transport.send(call(httpbin_url + "/get", "HEAD"))
    # the Content-Length of a HEAD describes the GET's body: not "cut short (0 of N bytes)"
    assert r.status_code == 200 and r.content == b""
    assert int(r.headers["content-length"]) > 0
    r = transport.send(call(httpbin_url + "/get"))  # the connection is still good
    assert r.json["url"].endswith("/get")


def test_head_through_a_connector_is_one_try(httpbin_url: str) -> None:
    client = era(httpbin_url)
    r = client.send(client.prepare_raw("HEAD", "/get"))
    assert r.status_code == 200 and r.error is None and r.attempts == 1


def test_204_has_no_body(transport: Transport, httpbin_url: str) -> None:
    r = transport.send(call(httpbin_url + "/status/204"))
    assert r.status_code == 204 and r.content == b""


# -- 2. a list in the query repeats the key ---------------------------------------------------

def test_a_list_query_value_repeats_the_key(transport: Transport, httpbin_url: str) -> None:
    r = transport.send(call(httpbin_url + "/get", query={"tag": ["a", "b"], "on": [True]}))
    assert r.json["args"] == {"tag": ["a", "b"], "on": "true"}
    assert r.json["url"].endswith("/get?tag=a&tag=b&on=true")


# -- 3. base URL joining keeps the base path --------------------------------------------------

@pytest.mark.parametrize(("base", "path"), [
    ("/anything", "b"), ("/anything/", "b"), ("/anything", "/b"), ("/anything/", "/b")])
def test_base_url_joining_keeps_the_base_path(httpbin_url: str, base: str, path: str) -> None:
    client = era(httpbin_url + base)
    r = client.send(client.prepare_raw("GET", path))
    assert r.json["url"] == httpbin_url + "/anything/b"


# -- 4. redirects not followed: the 3xx and its Location are the answer -----------------------

def test_follow_redirects_false_returns_the_redirect(httpbin_url: str) -> None:
    client = era(httpbin_url, follow_redirects=False)
    r = client.send(client.prepare_raw("GET", "/redirect-to",
                                       query={"url": "/get", "status_code": 302}))
    assert r.status_code == 302 and r.headers["location"] == "/get"
    assert r.error is None  # asked for: the redirect is the answer, not a failure
    followed = era(httpbin_url).send(era(httpbin_url).prepare_raw(
        "GET", "/redirect-to", query={"url": "/get", "status_code": 302}))
    assert followed.status_code == 200 and followed.json["url"].endswith("/get")


def test_follow_redirects_setting_as_text(httpbin_url: str) -> None:
    client = era(httpbin_url, follow_redirects="false")  # as an environment variable gives it
    r = client.send(client.prepare_raw("GET", "/redirect-to", query={"url": "/get"}))
    assert r.status_code == 302


# -- 5. encoded bodies ------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["brotli", "gzip", "deflate"])
def test_encoded_bodies_are_decoded(transport: Transport, httpbin_url: str,
                                    encoding: str) -> None:
    r = transport.send(call(httpbin_url + "/" + encoding))
    assert r.json is not None, r.content[:80]
    assert r.json.get({"brotli": "brotli", "gzip": "gzipped", "deflate": "deflated"}[encoding])
    # what was asked for: every encoding the transport can undo, br and zstd included
    accept = r.json["headers"]["Accept-Encoding"]
    assert "br" in accept and "zstd" in accept and "gzip" in accept


# -- 7. an error page that is not the vendor's ------------------------------------------------

def test_a_404_html_page_says_check_base_url(httpbin_url: str) -> None:
    """MOR pointed at a server without /billing/api: Flask's HTML 404, not MOR's XML."""
    client = ConnectorClient("mor", registry.get("mor"),
                             {"base_url": httpbin_url, "username": "admin",
                              "api_secret": "s3cret", "password": ""}, Redactor())
    r = client.send(client.prepare("devices_get", {"user_id": "4040"}))
    assert r.status_code == 404
    assert r.error is not None
    assert r.error.startswith(f"HTTP 404 from {httpbin_url}/devices_get: an HTML page")
    assert r.error.endswith("— check base_url")
    assert "unusable" not in r.error


def test_an_empty_html_404_says_check_base_url(httpbin_url: str) -> None:
    client = era(httpbin_url)
    r = client.send(client.prepare_raw("GET", "/status/404"))
    assert r.error == (f"HTTP 404 from {httpbin_url}/status/404: an empty HTML answer, not the "
                       "vendor's answer — check base_url")


def test_a_json_error_is_still_the_vendors_words(httpbin_url: str) -> None:
    client = era(httpbin_url)  # era's errors rule reads error_code in a JSON body
    r = client.send(client.prepare_raw("GET", "/status/418"))
    assert r.error is not None and "check base_url" not in r.error


# -- 9. a session's cookies -------------------------------------------------------------------

def test_cookies_set_on_a_redirect_are_sent_back(httpbin_url: str) -> None:
    client = era(httpbin_url)
    r = client.send(client.prepare_raw("GET", "/cookies/set", query={"session": "abc"}))
    assert r.json == {"cookies": {"session": "abc"}}  # the 302 hop set it, /cookies saw it
    r = client.send(client.prepare_raw("GET", "/cookies"))
    assert r.json == {"cookies": {"session": "abc"}}
    r = client.send(client.prepare_raw("GET", "/cookies/delete", query={"session": ""}))
    assert r.json == {"cookies": {}}


def test_cookies_are_per_connector_and_can_be_off(httpbin_url: str) -> None:
    one, other = era(httpbin_url), era(httpbin_url)
    one.send(one.prepare_raw("GET", "/cookies/set", query={"session": "abc"}))
    assert other.send(other.prepare_raw("GET", "/cookies")).json == {"cookies": {}}
    off = era(httpbin_url, cookies=False)
    r = off.send(off.prepare_raw("GET", "/cookies/set", query={"session": "abc"}))
    assert r.json == {"cookies": {}}


def test_a_cookie_header_the_call_gives_wins(httpbin_url: str) -> None:
    client = era(httpbin_url)
    client.send(client.prepare_raw("GET", "/cookies/set", query={"session": "abc"}))
    r = client.send(client.prepare_raw("GET", "/cookies", headers={"Cookie": "session=mine"}))
    assert r.json == {"cookies": {"session": "mine"}}

