"""The HTTP layer: one prepared request in, one :class:`Response` out.

This is the single boundary where transport exceptions (urllib3, sockets, TLS, gzip) become
``TransportError`` with a plain message and a ``sent`` flag (whether the request may have
reached the server, which decides whether a non-safe call may be retried). Connections are kept
per connector: a direct ``http://`` call on runner's own HTTP/1.1
(:mod:`~runner.connectors.wire`), any other through one ``urllib3.PoolManager``; redirects are
followed as requests follows them (301/302/303 turn a POST into a GET, 307/308 keep method and
body, at most 30, Authorization dropped when the host changes), unless ``follow_redirects`` is
off (then the 3xx and its ``Location`` are the answer; a call's own ``follow_redirects`` wins
over the connector's); every request has a connect and a read timeout; answers larger than
``max_bytes`` are refused, a gzipped body is undone within that limit, and so are brotli and
zstd bodies (urllib3 decodes them with ``brotli`` / ``backports.zstd``); an encoding nothing
here decodes is said, not passed on as bytes. A HEAD, a 1xx, 204 or 304 answer has no body to
read (its Content-Length describes the resource, not this answer). A call with ``save_to``
streams a success answer's body to that file (:mod:`~runner.connectors.download`) instead of
reading it.

Its parts are rooms beside it: :mod:`~runner.connectors.encoding` (headers, query and form on
the wire), :mod:`~runner.connectors.proxies` (which pool or proxy a request goes through),
:mod:`~runner.connectors.tls` (``verify`` and ``cert`` as requests reads them),
:mod:`~runner.connectors.reasons` (a urllib3 error in plain words),
:mod:`~runner.connectors.cookies` (the session's jar) and :mod:`~runner.connectors.bodies`
(raw and multipart bodies).
"""

from __future__ import annotations

import importlib.util
import json as _json
import sys
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from runner.connectors.cookies import Cookies
from runner.connectors.encoding import (
    check_headers,
    encode_pairs,
    query_value,
    set_default,
    with_defaults,
)
from runner.connectors.proxies import Routes
from runner.connectors.reasons import host, reason, transport_error
from runner.connectors.response import Response
from runner.connectors.tls import tls_settings
from runner.connectors.wire import Wire, for_transport
from runner.connectors.wire_answer import urllib3_errors
from runner.errors import TransportError

if TYPE_CHECKING:  # types only: a call with no raw body needs neither module
    from runner.connectors.bodies import Multipart, RawBody

NO_BODY: Any = object()
MAX_BYTES = 128 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
MAX_REDIRECTS = 30
MIN_WAIT = 1.0  # seconds a request with a deadline still waits at its deadline
REDIRECTS = frozenset((301, 302, 303, 307, 308))
DEFAULT_PORTS = {"http": 80, "https": 443}
NO_BODY_STATUSES = frozenset((204, 304))


def _found(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # its parent package is missing
        return False


def _content_decoders() -> list[str]:
    """What urllib3 can undo here (its ``HTTPResponse.CONTENT_DECODERS``, found as urllib3
    finds them, without importing urllib3 or the codecs: a plain http:// run needs neither):
    gzip and deflate always, br with brotli (or brotlicffi), zstd with backports.zstd (the
    stdlib's compression.zstd from Python 3.14)."""
    out = ["gzip", "x-gzip", "deflate"]
    if _found("brotlicffi") or _found("brotli"):
        out.append("br")
    if _found("compression.zstd" if sys.version_info >= (3, 14) else "backports.zstd"):
        out.append("zstd")
    return out


DECODERS = frozenset(_content_decoders()) | {"identity"}
ACCEPT_ENCODING = ", ".join(e for e in _content_decoders() if e != "x-gzip")


@dataclass
class PreparedCall:
    """A request ready to send; hooks may still change it (``prepare``)."""

    connector: str
    operation: str  # operation name, or "" for a raw call
    method: str
    url: str
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = NO_BODY
    form: dict[str, Any] | None = None
    safe: bool = True
    needs_auth: bool = True
    decode: str = "auto"
    success: tuple[int, ...] = ()
    deadline: float | None = None  # time.monotonic() when the caller stops waiting (a poll)
    body: RawBody | None = None  # `body:`, a text or a file's bytes (bodies.py)
    multipart: Multipart | None = None  # `multipart:`
    save_to: str | None = None  # `save-to:`: a success answer's body goes to this file
    follow_redirects: bool | None = None  # this call's choice; None: the connector's

    @property
    def target(self) -> str:
        return f"{self.connector}.{self.operation}" if self.operation else self.connector

    def body_bytes(self) -> bytes | None:
        if self.json is not NO_BODY:
            return _json.dumps(self.json, ensure_ascii=False).encode("utf-8")
        return None

    def encoded_body(self) -> tuple[bytes | None, str | None]:
        """The bytes to send and the Content-Type they take unless the call sets one."""
        body = self.body_bytes()
        if body is not None:
            return body, "application/json; charset=utf-8"
        if self.form is not None:
            return encode_pairs(self.form).encode("ascii"), "application/x-www-form-urlencoded"
        if self.body is not None:
            return self.body.encode()
        if self.multipart is not None:
            return self.multipart.encode()
        return None, None

    def record(self, redact: Callable[[str], str] | None = None) -> dict[str, Any]:
        """What a report shows of this request (the caller redacts it). ``redact``: a text
        body is masked before it is cut short, so no half of a secret is left at the cut."""
        out: dict[str, Any] = {"method": self.method, "url": self.url}
        if self.query:
            out["query"] = {k: query_value(v) for k, v in self.query.items()}
        if self.headers:
            out["headers"] = dict(self.headers)
        if self.json is not NO_BODY:
            out["json"] = self.json
        if self.form is not None:
            out["form"] = dict(self.form)
        if self.body is not None:
            out["body"] = self.body.record(redact)
        if self.multipart is not None:
            out["multipart"] = self.multipart.record()
        if self.save_to is not None:
            out["save_to"] = self.save_to
        if self.follow_redirects is not None:
            out["follow_redirects"] = self.follow_redirects
        return out


_NAMES: dict[str, str] = {}  # a header name as it came -> lower-cased: one str for every answer
PLAIN_HEADERS = frozenset((  # whose values say nothing of a run (no cookie, token or location)
    "content-type", "content-length", "connection", "keep-alive", "server", "vary",
    "transfer-encoding", "content-encoding", "cache-control", "accept-ranges", "pragma"))
_VALUES: dict[str, str] = {}  # ... and one str for each value of those
_KEPT = 1024  # names and values kept at most (a service that varies them gets copies again)


def answer_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """An answer's headers by lower-cased name, the names and the plain headers' values one str
    each for all answers of the process: 5,000 parked runs keep ~3 answers each, and their
    records, with the same few names and values."""
    out: dict[str, str] = {}
    for k, v in pairs:
        name = _NAMES.get(k)
        if name is None:
            name = k.lower()
            if len(_NAMES) < _KEPT:
                _NAMES[k] = _NAMES.setdefault(name, name)
        if name in PLAIN_HEADERS:
            kept = _VALUES.get(v)
            if kept is not None:
                v = kept
            elif len(_VALUES) < _KEPT:
                _VALUES[v] = v
        out[name] = v
    return out


class Transport:
    """Sends prepared calls over keep-alive connections (one urllib3 pool manager per
    connector), through the proxy the environment names for the host, if any."""

    def __init__(self, *, connect_timeout: float = 5.0, read_timeout: float = 30.0,
                 max_bytes: int = MAX_BYTES, verify: bool | str = True,
                 follow_redirects: bool = True, cookies: bool = True,
                 ca_bundle: str | None = None, client_cert: str | None = None,
                 client_key: str | None = None) -> None:
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self.max_bytes = max_bytes
        self.follow_redirects = follow_redirects
        self.cookies = Cookies() if cookies else None
        self._tls, self._tls_error = tls_settings(verify, ca_bundle=ca_bundle,
                                                  client_cert=client_cert,
                                                  client_key=client_key)
        self._routes = Routes(self._tls)  # urllib3's managers, made when a call needs one
        # a direct http:// request: our own HTTP/1.1 (wire.py), a batch's runs on its Wire
        self._wire, self._own_wire = for_transport()

    def close(self) -> None:
        self._routes.clear()
        if self._own_wire:  # a batch's Wire closes with its pool, at the batch's end
            self._wire.clear()

    def send(self, call: PreparedCall) -> Response:
        if self._tls_error:
            raise TransportError(self._tls_error, sent=False, final=True,
                                 hint="check the connector's verify_tls, ca_bundle, "
                                 "client_cert and client_key settings")
        headers = with_defaults(call.headers)
        set_default(headers, "Accept-Encoding", ACCEPT_ENCODING)
        check_headers(call.target, headers)
        body, content_type = call.encoded_body()
        if content_type is not None:
            set_default(headers, "Content-Type", content_type)
        url = call.url
        if call.query:
            params = encode_pairs({k: query_value(v) for k, v in call.query.items()})
            if params:
                head, _, frag = url.partition("#")
                url = head + ("&" if "?" in head else "?") + params + (f"#{frag}" if frag else "")
        start = time.perf_counter()
        r, url = self._exchange(call, call.method, url, body, headers)
        saved: tuple[str, int] | None = None
        try:
            if not _has_body(call.method, r.status):
                content = b""
            elif call.save_to is not None and _success(call, r.status):
                saved = self._save(r, call.url, call.save_to)
                content = b""
            else:
                content = self._read(r, call.url)
        except urllib3_errors().HTTPError as e:  # evaluated only when something was raised
            r.close()
            raise TransportError(f"the answer from {host(call.url)} was broken: {reason(e)}",
                                 sent=True) from None
        except BaseException:
            r.close()
            raise
        r.release_conn()
        elapsed = (time.perf_counter() - start) * 1000
        # a header sent more than once (two Link headers) is one value, joined by ", " as
        # RFC 9110 5.3 allows and requests does; items() would keep only the last
        hdrs = answer_headers(r.headers.itermerged())
        if content[:2] == GZIP_MAGIC and call.decode in ("xml", "auto", "text"):
            content = _gunzip(content, self.max_bytes, call.url)
        response = Response(r.status, hdrs, content, url=url, method=call.method,
                            elapsed_ms=elapsed, decode=call.decode)
        if saved is not None:
            response.saved_to, response.saved_bytes = saved
        return response

    def follows(self, call: PreparedCall) -> bool:
        """Whether redirects are followed for ``call``: its own choice, else the connector's."""
        return self.follow_redirects if call.follow_redirects is None else call.follow_redirects

    # -- one exchange, redirects followed as requests follows them ---------------------------
    def _exchange(self, call: PreparedCall, method: str, url: str, body: bytes | None,
                  headers: dict[str, str]) -> tuple[Any, str]:
        for hop in range(MAX_REDIRECTS + 1):
            if self.cookies is None:
                r = self._urlopen(call, method, url, body, headers)
            else:
                r = self._urlopen(call, method, url, body, self.cookies.headers_for(url, headers))
                self.cookies.store(url, r.headers)
            location = r.headers.get("Location") if r.status in REDIRECTS else None
            if not location or not self.follows(call):
                return r, url
            r.drain_conn()
            r.release_conn()
            if hop == MAX_REDIRECTS:
                raise TransportError(f"too many redirects from {host(call.url)} "
                                     f"(more than {MAX_REDIRECTS})", sent=True, final=True,
                                     hint="the service redirects in a loop; check the base URL")
            new_url = urljoin(url, location)
            if _should_strip_auth(url, new_url):
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            if (r.status in (302, 303) and method != "HEAD") \
                    or (r.status == 301 and method == "POST"):
                method = "GET"
            if r.status not in (307, 308):  # the body goes, and what described it
                body = None
                headers = {k: v for k, v in headers.items()
                           if k.lower() not in ("content-type", "content-length",
                                                "transfer-encoding")}
            url = new_url
        raise AssertionError("unreachable")

    def _urlopen(self, call: PreparedCall, method: str, url: str, body: bytes | None,
                 headers: dict[str, str]) -> Any:
        connect, read = self.connect_timeout, self.read_timeout
        if call.deadline is not None:  # no wait past the caller's deadline (at least 1 s,
            # so the try a poll makes at its deadline still hears a server that answers)
            left = max(call.deadline - time.monotonic(), MIN_WAIT)
            connect, read = min(connect, left), min(read, left)
        try:
            if Wire.takes(url) and self._routes.direct(url):
                return self._wire.urlopen(method, url, body, headers, connect, read)
            import urllib3

            return self._routes.urlopen(method, url, body=body, headers=headers,
                                        timeout=urllib3.Timeout(connect=connect, read=read),
                                        preload_content=False, redirect=False, retries=False)
        except urllib3_errors().HTTPError as e:
            raise transport_error(call.url, e, read, self.read_timeout,
                                  self._routes.proxy_for(url)) from None

    def _save(self, r: Any, url: str, save_to: str) -> tuple[str, int]:
        from runner.connectors.download import save_body  # only a call with save-to: needs it

        declared = self._declared(r, url)
        return save_body(r, save_to, self.max_bytes, declared)

    def _declared(self, r: Any, url: str) -> int | None:
        """The answer's Content-Length, refused if over the limit or in an encoding nothing
        here decodes."""
        declared = r.headers.get("Content-Length")
        encoding = r.headers.get("Content-Encoding", "").lower()
        unknown = [e for e in (x.strip() for x in encoding.split(",")) if e and e not in DECODERS]
        if unknown:  # passed on as bytes it would read as "not JSON" with no reason given
            raise TransportError(
                f"the answer from {host(url)} is encoded as '{unknown[0]}' (Content-Encoding), "
                "which runner cannot decode", sent=True, final=True,
                hint="br needs the brotli package, zstd backports.zstd (runner depends on "
                "both); else ask the service for another encoding (Accept-Encoding header)")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise TransportError(f"the answer is {int(declared):,} bytes, over the limit of "
                                 f"{self.max_bytes:,}", sent=True, final=True)
        return int(declared) if declared and declared.isdigit() else None

    def _read(self, r: Any, url: str) -> bytes:
        declared = self._declared(r, url)
        content = r.read(self.max_bytes + 1, decode_content=True)
        if len(content) > self.max_bytes:
            raise TransportError(f"the answer is over the limit of {self.max_bytes:,} bytes",
                                 sent=True, final=True)
        if declared is not None and "content-encoding" not in r.headers \
                and len(content) < declared:
            raise TransportError(f"the answer was cut short ({len(content):,} of "
                                 f"{declared:,} bytes)", sent=True)
        return bytes(content)


def _has_body(method: str, status: int) -> bool:
    """Whether an answer carries a body to read (RFC 9110 6.4.1): not a HEAD's, nor a 1xx,
    204 or 304 answer's."""
    return method != "HEAD" and status not in NO_BODY_STATUSES and status >= 200


def _success(call: PreparedCall, status: int) -> bool:
    """Whether an answer is one ``save-to`` saves: the operation's success statuses, else 2xx
    (an error answer is read as any other, so ``response.error`` says what went wrong)."""
    return status in call.success if call.success else 200 <= status < 300


def _should_strip_auth(old: str, new: str) -> bool:
    """requests' rule: keep Authorization on the same host (http -> https allowed)."""
    o, n = urlsplit(old), urlsplit(new)
    if o.hostname != n.hostname:
        return True
    if o.scheme == "http" and o.port in (80, None) and n.scheme == "https" \
            and n.port in (443, None):
        return False
    defaults = (DEFAULT_PORTS.get(o.scheme), None)
    if o.scheme == n.scheme and o.port in defaults and n.port in defaults:
        return False
    return o.port != n.port or o.scheme != n.scheme


def _gunzip(content: bytes, limit: int, url: str) -> bytes:
    try:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = d.decompress(content, limit + 1)
        if len(out) > limit:
            raise TransportError(f"the gzipped answer expands past {limit:,} bytes", sent=True,
                                 final=True)
        return out
    except (zlib.error, EOFError) as e:  # zlib's decompressobj raises these, not gzip's
        raise TransportError(f"the answer from {host(url)} looks gzipped but is not: {e}",
                             sent=True) from None
