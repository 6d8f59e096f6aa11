"""The HTTP layer: one prepared request in, one :class:`Response` out.

This is the single boundary where transport exceptions (urllib3, sockets, TLS, gzip) become
``TransportError`` with a plain message and a ``sent`` flag (whether the request may have
reached the server, which decides whether a non-safe call may be retried). Connections are
reused per connector through one ``urllib3.PoolManager`` (a ``ProxyManager`` per proxy the
environment names: ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY``, ``NO_PROXY``, read once per
connector); TLS is verified against certifi's bundle (or ``REQUESTS_CA_BUNDLE``, or the
``verify_tls`` path); redirects are followed as requests follows them (301/302/303 turn a
POST into a GET, 307/308 keep method and body, at most 30, Authorization dropped when the host
changes); every request has a connect and a read timeout; answers larger than ``max_bytes`` are
refused.
"""

from __future__ import annotations

import gzip
import json as _json
import os
import ssl
import threading
import time
import urllib.request
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode, urljoin, urlsplit
from urllib.request import getproxies_environment

import urllib3

from runner import __version__
from runner.connectors.response import Response
from runner.errors import TransportError, Unsendable

# in urllib.request on every platform, missing from typeshed's stubs
proxy_bypass_environment: Any = getattr(urllib.request, "proxy_bypass_environment")  # noqa: B009

NO_BODY: Any = object()
MAX_BYTES = 128 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
MAX_REDIRECTS = 30
MIN_WAIT = 1.0  # seconds a request with a deadline still waits at its deadline
REDIRECTS = frozenset((301, 302, 303, 307, 308))
DEFAULT_PORTS = {"http": 80, "https": 443}
DEFAULT_HEADERS = {
    "User-Agent": f"runner/{__version__}",
    "Accept-Encoding": "gzip, deflate",
    "Accept": "*/*",
    "Connection": "keep-alive",
}


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

    @property
    def target(self) -> str:
        return f"{self.connector}.{self.operation}" if self.operation else self.connector

    def body_bytes(self) -> bytes | None:
        if self.json is not NO_BODY:
            return _json.dumps(self.json, ensure_ascii=False).encode("utf-8")
        return None

    def record(self) -> dict[str, Any]:
        """What a report shows of this request (the caller redacts it)."""
        out: dict[str, Any] = {"method": self.method, "url": self.url}
        if self.query:
            out["query"] = {k: _query_value(v) for k, v in self.query.items()}
        if self.headers:
            out["headers"] = dict(self.headers)
        if self.json is not NO_BODY:
            out["json"] = self.json
        if self.form is not None:
            out["form"] = dict(self.form)
        return out


class Transport:
    """Sends prepared calls over keep-alive connections (one urllib3 pool manager per
    connector), through the proxy the environment names for the host, if any."""

    def __init__(self, *, connect_timeout: float = 5.0, read_timeout: float = 30.0,
                 max_bytes: int = MAX_BYTES, verify: bool | str = True) -> None:
        self.timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self.max_bytes = max_bytes
        self._tls, self._tls_error = _tls_settings(verify)
        self._direct = urllib3.PoolManager(num_pools=10, maxsize=10, **self._tls)
        # the environment is read once per connector, not on every request
        self._proxies = {k: v for k, v in getproxies_environment().items() if v}
        self._route: dict[tuple[str, str], urllib3.PoolManager] = {}
        self._via: dict[str, urllib3.PoolManager] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._direct.clear()
        for m in self._via.values():
            m.clear()

    def send(self, call: PreparedCall) -> Response:
        if self._tls_error:
            raise TransportError(self._tls_error, sent=False, final=True,
                                 hint="check the connector's verify_tls setting")
        headers = _headers(call.headers)
        _check_headers(call, headers)
        body: bytes | None = call.body_bytes()
        if body is not None:
            _default(headers, "Content-Type", "application/json; charset=utf-8")
        elif call.form is not None:
            body = _encode_pairs(call.form).encode("ascii")
            _default(headers, "Content-Type", "application/x-www-form-urlencoded")
        url = call.url
        if call.query:
            params = _encode_pairs({k: _query_value(v) for k, v in call.query.items()})
            if params:
                head, _, frag = url.partition("#")
                url = head + ("&" if "?" in head else "?") + params + (f"#{frag}" if frag else "")
        start = time.perf_counter()
        r, url = self._exchange(call, call.method, url, body, headers)
        try:
            content = self._read(r)
        except urllib3.exceptions.HTTPError as e:
            r.close()
            raise TransportError(f"the answer from {_host(call.url)} was broken: {_reason(e)}",
                                 sent=True) from None
        except BaseException:
            r.close()
            raise
        r.release_conn()
        elapsed = (time.perf_counter() - start) * 1000
        hdrs = {k.lower(): v for k, v in r.headers.items()}
        if content[:2] == GZIP_MAGIC and call.decode in ("xml", "auto", "text"):
            content = _gunzip(content, self.max_bytes, call.url)
        return Response(r.status, hdrs, content, url=url, method=call.method,
                        elapsed_ms=elapsed, decode=call.decode)

    # -- one exchange, redirects followed as requests follows them ---------------------------
    def _exchange(self, call: PreparedCall, method: str, url: str, body: bytes | None,
                  headers: dict[str, str]) -> tuple[Any, str]:
        for hop in range(MAX_REDIRECTS + 1):
            r = self._urlopen(call, method, url, body, headers)
            location = r.headers.get("Location") if r.status in REDIRECTS else None
            if not location:
                return r, url
            r.drain_conn()
            r.release_conn()
            if hop == MAX_REDIRECTS:
                raise TransportError(f"too many redirects from {_host(call.url)} "
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
        timeout, read = self.timeout, self.read_timeout
        if call.deadline is not None:  # no wait past the caller's deadline (at least 1 s,
            # so the try a poll makes at its deadline still hears a server that answers)
            left = max(call.deadline - time.monotonic(), MIN_WAIT)
            read = min(read, left)
            timeout = urllib3.Timeout(connect=min(self.connect_timeout, left), read=read)
        try:
            return self._manager(url).urlopen(
                method, url, body=body, headers=headers, timeout=timeout,
                preload_content=False, redirect=False, retries=False)
        except urllib3.exceptions.HTTPError as e:
            raise self._error(call, e, read) from None

    def _error(self, call: PreparedCall, e: Exception, read: float) -> TransportError:
        host = _host(call.url)
        x = urllib3.exceptions
        cause: Exception = e
        if isinstance(e, x.ProxyError) and isinstance(e.original_error, Exception):
            cause = e.original_error
        if isinstance(cause, x.NewConnectionError):
            return TransportError(f"cannot connect ({host}): {_reason(cause)}", sent=False)
        if isinstance(cause, x.ConnectTimeoutError):
            return TransportError(f"timed out connecting to {host}", sent=False,
                                  hint="check the base URL and that the service is up")
        if isinstance(cause, x.ReadTimeoutError):
            if read < self.read_timeout:
                return TransportError(f"no answer from {host} within {read:.3g} s, the time "
                                      "left before the step's timeout", sent=True)
            return TransportError(
                f"no answer from {host} within {self.read_timeout:g} s", sent=True,
                hint="the request may have been processed; raise timeouts.read if it is slow")
        if isinstance(cause, x.SSLError):  # a certificate that does not verify will not next time
            return TransportError(f"TLS error talking to {host}: {_reason(cause)}", sent=False,
                                  final=_unverified(cause))
        if isinstance(e, x.ProxyError):
            return TransportError(f"cannot connect ({host}): {_reason(cause)}", sent=False)
        if isinstance(e, x.ProxySchemeUnknown):
            return TransportError(f"the proxy for {host} is not usable: {e}", sent=False,
                                  final=True,
                                  hint="check HTTP_PROXY / HTTPS_PROXY in the environment")
        if isinstance(e, x.LocationValueError):
            return TransportError(f"invalid URL {call.url!r}: {e}", sent=False, final=True)
        if isinstance(e, x.ProtocolError):
            return TransportError(f"the connection was dropped ({host}): {_reason(e)}",
                                  sent=True)
        return TransportError(f"the answer from {host} was broken: {_reason(e)}", sent=True)

    def _manager(self, url: str) -> urllib3.PoolManager:
        if not self._proxies:
            return self._direct
        scheme, _, rest = url.partition("://")
        netloc = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
        key = (scheme.lower(), netloc.lower())
        manager = self._route.get(key)
        if manager is None:
            manager = self._route[key] = self._proxied(key[0], netloc)
        return manager

    def _proxied(self, scheme: str, netloc: str) -> urllib3.PoolManager:
        proxy = self._proxies.get(scheme) or self._proxies.get("all")
        if not proxy or _bypass(netloc, self._proxies):
            return self._direct
        with self._lock:
            manager = self._via.get(proxy)
            if manager is None:
                if "://" not in proxy:
                    proxy = "http://" + proxy
                parsed = urllib3.util.parse_url(proxy)
                proxy_headers = None
                if parsed.auth:
                    user, _, password = parsed.auth.partition(":")
                    proxy_headers = urllib3.util.make_headers(
                        proxy_basic_auth=f"{unquote(user)}:{unquote(password)}")
                    proxy = parsed._replace(auth=None).url
                try:
                    manager = urllib3.ProxyManager(proxy, proxy_headers=proxy_headers,
                                                   num_pools=10, maxsize=10, **self._tls)
                except urllib3.exceptions.HTTPError as e:
                    raise TransportError(f"the proxy {proxy!r} is not usable: {e}", sent=False,
                                         hint="check HTTP_PROXY / HTTPS_PROXY") from None
                self._via[proxy] = manager
            return manager

    def _read(self, r: Any) -> bytes:
        declared = r.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise TransportError(f"the answer is {int(declared):,} bytes, over the limit of "
                                 f"{self.max_bytes:,}", sent=True, final=True)
        content = r.read(self.max_bytes + 1, decode_content=True)
        if len(content) > self.max_bytes:
            raise TransportError(f"the answer is over the limit of {self.max_bytes:,} bytes",
                                 sent=True, final=True)
        if declared and declared.isdigit() and "content-encoding" not in r.headers \
                and len(content) < int(declared):
            raise TransportError(f"the answer was cut short ({len(content):,} of "
                                 f"{int(declared):,} bytes)", sent=True)
        return bytes(content)


def _tls_settings(verify: bool | str) -> tuple[dict[str, Any], str | None]:
    """urllib3 TLS arguments for ``verify`` (as requests read it), and an error, if any."""
    if verify is False or (isinstance(verify, str) and verify.lower() in ("false", "no")):
        return {"cert_reqs": "CERT_NONE"}, None
    if verify is True or (isinstance(verify, str) and verify.lower() in ("true", "yes", "")):
        # as requests: a bundle named by the environment, else certifi's
        verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") \
            or _certifi_bundle()
    path = str(verify)
    if os.path.isdir(path):
        return {"cert_reqs": "CERT_REQUIRED", "ca_cert_dir": path}, None
    if not os.path.exists(path):
        return {"cert_reqs": "CERT_REQUIRED"}, f"the CA bundle {path!r} does not exist"
    return {"cert_reqs": "CERT_REQUIRED", "ca_certs": path}, None


def _certifi_bundle() -> str:
    try:
        import certifi

        return str(certifi.where())
    except ImportError:  # pragma: no cover - certifi comes with requests
        return ""


def _headers(given: dict[str, str]) -> dict[str, str]:
    lower = {k.lower() for k in given}
    out = {k: v for k, v in DEFAULT_HEADERS.items() if k.lower() not in lower}
    out.update(given)
    return out


def _check_headers(call: PreparedCall, headers: dict[str, str]) -> None:
    """Refuse, before anything is sent, a header http.client cannot write: a character
    outside Latin-1 (it would raise deep in the transport), or a line break (it would split
    the header). No silent re-encoding: RFC 9110 wants ASCII field values, and how a vendor
    reads anything else (RFC 8187's UTF-8'', percent-encoding, base64) is the vendor's call."""
    for name, value in headers.items():
        if not isinstance(value, str):
            continue
        for i, ch in enumerate(value):
            if ch in "\r\n\0":
                raise Unsendable(
                    f"{call.target}: header '{name}' has a line break or NUL at position "
                    f"{i + 1}, which would split the header, so it is not sent",
                    hint="remove line breaks from the value (e.g. {{ value | trim }})")
            if ord(ch) > 255:
                raise Unsendable(
                    f"{call.target}: header '{name}' has a character HTTP headers cannot "
                    f"carry (U+{ord(ch):04X} at position {i + 1}: header values are Latin-1 "
                    "bytes, and RFC 9110 asks for ASCII), so it is not sent",
                    hint="send the text in the body, or encode it as the vendor expects, "
                    "e.g. {{ value | urlencode }}")


def _default(headers: dict[str, str], name: str, value: str) -> None:
    low = name.lower()
    if not any(k.lower() == low for k in headers):
        headers[name] = value


def _encode_pairs(data: Any) -> str:
    """``key=value&...`` as requests encodes params and form data: None dropped, a list or
    tuple repeats the key."""
    pairs: list[tuple[Any, Any]] = []
    for k, vs in data.items():
        if isinstance(vs, (str, bytes)) or not hasattr(vs, "__iter__"):
            vs = [vs]
        for v in vs:
            if v is not None:
                pairs.append((k.encode("utf-8") if isinstance(k, str) else k,
                              v.encode("utf-8") if isinstance(v, str) else v))
    return urlencode(pairs, doseq=True)


def _bypass(netloc: str, proxies: dict[str, str]) -> bool:
    if "no" not in proxies:
        return False
    host = netloc.rsplit(":", 1)[0] if not netloc.endswith("]") else netloc
    return bool(proxy_bypass_environment(host.strip("[]"), proxies)
                or proxy_bypass_environment(netloc, proxies))


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
    except (zlib.error, gzip.BadGzipFile, EOFError) as e:
        raise TransportError(f"the answer from {_host(url)} looks gzipped but is not: {e}",
                             sent=True) from None


def _causes(e: BaseException) -> list[BaseException]:
    """``e`` and the errors wrapped in it, outermost first: urllib3 wraps socket, TLS and zlib
    errors in its own, in ``args`` or ``reason``, a few levels deep."""
    chain = [e]
    for _ in range(5):
        nested = [a for a in e.args if isinstance(a, BaseException)]
        reason = getattr(e, "reason", None)
        if isinstance(reason, BaseException):
            nested.append(reason)
        if not nested:
            break
        e = nested[-1]
        chain.append(e)
    return chain


def _unverified(e: BaseException) -> bool:
    """Whether a TLS error is the certificate's (unknown issuer, expired, another host's), not a
    handshake cut short by the network."""
    chain = _causes(e)
    if any(isinstance(c, (ssl.SSLCertVerificationError, ssl.CertificateError)) for c in chain):
        return True
    return "CERTIFICATE_VERIFY_FAILED" in str(chain[-1])  # urllib3 may pass on only the text


def _query_value(v: Any) -> Any:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return _json.dumps(v, separators=(",", ":"))
    return v


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url


def _reason(e: BaseException) -> str:
    inner = _causes(e)[-1]  # the innermost cause says what happened
    text = str(inner)
    return text.split(": ")[-1][:200] if text else type(inner).__name__
