"""The HTTP layer: one prepared request in, one :class:`Response` out.

This is the single boundary where transport exceptions (requests, urllib3, gzip) become
``TransportError`` with a plain message and a ``sent`` flag (whether the request may have
reached the server, which decides whether a non-safe call may be retried). Connections are
reused per connector through one ``requests.Session``; every request has a connect and a read
timeout; answers larger than ``max_bytes`` are refused.
"""

from __future__ import annotations

import gzip
import json as _json
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

import requests
from requests import exceptions as rex
from urllib3.exceptions import HTTPError as Urllib3Error

from runner.connectors.response import Response
from runner.errors import TransportError

NO_BODY: Any = object()
MAX_BYTES = 128 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"


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
    """Sends prepared calls over one keep-alive session."""

    def __init__(self, *, connect_timeout: float = 5.0, read_timeout: float = 30.0,
                 max_bytes: int = MAX_BYTES, verify: bool | str = True) -> None:
        self.session = requests.Session()
        self.session.verify = verify
        self.timeout = (connect_timeout, read_timeout)
        self.max_bytes = max_bytes

    def close(self) -> None:
        self.session.close()

    def send(self, call: PreparedCall) -> Response:
        headers = dict(call.headers)
        data: bytes | dict[str, Any] | None = None
        body = call.body_bytes()
        if body is not None:
            data = body
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        elif call.form is not None:
            data = {k: v for k, v in call.form.items() if v is not None}
        params = {k: _query_value(v) for k, v in call.query.items() if v is not None}
        start = time.perf_counter()
        try:
            r = self.session.request(
                call.method, call.url, params=params or None, data=data, headers=headers,
                timeout=self.timeout, stream=True, allow_redirects=True,
            )
            try:
                content = self._read(r)
            finally:
                r.close()
        except rex.ConnectTimeout:
            raise TransportError(f"timed out connecting to {_host(call.url)}", sent=False,
                                 hint="check the base URL and that the service is up") from None
        except rex.ReadTimeout:
            raise TransportError(
                f"no answer from {_host(call.url)} within {self.timeout[1]:g} s", sent=True,
                hint="the request may have been processed; raise timeouts.read if it is slow",
            ) from None
        except rex.SSLError as e:
            raise TransportError(f"TLS error talking to {_host(call.url)}: {_reason(e)}",
                                 sent=False) from None
        except rex.ConnectionError as e:
            sent = not _is_connect_failure(e)
            what = "the connection was dropped" if sent else "cannot connect"
            raise TransportError(f"{what} ({_host(call.url)}): {_reason(e)}", sent=sent) from None
        except (rex.ChunkedEncodingError, rex.ContentDecodingError, Urllib3Error) as e:
            raise TransportError(f"the answer from {_host(call.url)} was broken: {_reason(e)}",
                                 sent=True) from None
        except rex.InvalidURL as e:
            raise TransportError(f"invalid URL {call.url!r}: {e}", sent=False) from None
        elapsed = (time.perf_counter() - start) * 1000
        hdrs = {k.lower(): v for k, v in r.headers.items()}
        if content[:2] == GZIP_MAGIC and call.decode in ("xml", "auto", "text"):
            content = _gunzip(content, self.max_bytes, call.url)
        return Response(r.status_code, hdrs, content, url=r.url, method=call.method,
                        elapsed_ms=elapsed, decode=call.decode)

    def _read(self, r: requests.Response) -> bytes:
        declared = r.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise TransportError(f"the answer is {int(declared):,} bytes, over the limit of "
                                 f"{self.max_bytes:,}", sent=True)
        content = r.raw.read(self.max_bytes + 1, decode_content=True)
        if len(content) > self.max_bytes:
            raise TransportError(f"the answer is over the limit of {self.max_bytes:,} bytes",
                                 sent=True)
        if declared and declared.isdigit() and "content-encoding" not in r.headers \
                and len(content) < int(declared):
            raise TransportError(f"the answer was cut short ({len(content):,} of "
                                 f"{int(declared):,} bytes)", sent=True)
        return bytes(content)


def _gunzip(content: bytes, limit: int, url: str) -> bytes:
    try:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = d.decompress(content, limit + 1)
        if len(out) > limit:
            raise TransportError(f"the gzipped answer expands past {limit:,} bytes", sent=True)
        return out
    except (zlib.error, gzip.BadGzipFile, EOFError) as e:
        raise TransportError(f"the answer from {_host(url)} looks gzipped but is not: {e}",
                             sent=True) from None


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
    inner: BaseException = e
    while inner.args and isinstance(inner.args[0], BaseException):
        inner = inner.args[0]
    text = str(getattr(inner, "reason", None) or inner)
    return text.split(": ")[-1][:200] if text else type(inner).__name__


def _is_connect_failure(e: rex.ConnectionError) -> bool:
    text = repr(e)
    return any(s in text for s in ("NewConnectionError", "Connection refused",
                                   "Failed to establish", "NameResolutionError"))
