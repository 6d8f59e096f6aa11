"""An answer read off runner's own HTTP/1.1 connection (:mod:`~runner.connectors.wire`),
parsed by httptools (MagicStack's binding of llhttp, Node's HTTP parser, as uvicorn uses it):
the status line, headers, 1xx answers, the body by Content-Length, chunked (extensions,
trailers) or up to the close, and what breaks HTTP/1.1 are llhttp's, not ours. What stays here
is the socket (read as the body is asked for), the limits llhttp has none of (headers, head
size), and what the transport reads of it, as it read urllib3's response (``status``,
``headers``, ``read``, ``stream``, ``drain_conn``, ``release_conn``, ``close``). A fault is
raised as the urllib3 error urllib3 raises for it, so :mod:`~runner.connectors.reasons` words
it; a Content-Encoding is undone by urllib3's own ``HTTPResponse`` over the framed bytes
(imported then)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import httptools

MAX_LINE = 65536  # http.client's _MAXLINE: a header (name and value) at most this long
MAX_HEADERS = 100  # http.client's _MAXHEADERS
MAX_HEAD = 4 * MAX_LINE  # bytes of the heads of an answer (its 1xx answers' and its own)
RECV = 65536  # bytes asked of the socket at a time


class Broken(Exception):
    """An answer that breaks HTTP/1.1, in the words http.client or llhttp have for it."""


class _Refused(Exception):
    """A head urllib3 refuses with its own error (``error``), not as a broken answer."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _incomplete(got: int, left: int | None = None) -> Broken:
    more = f", {left} more expected" if left is not None else ""
    return Broken(f"IncompleteRead({got} bytes read{more})")


def urllib3_errors() -> Any:
    """urllib3's exceptions module (imported when an error needs it)."""
    import urllib3.exceptions

    return urllib3.exceptions


class Answer:
    """An answer's status and headers, and its body to read as it arrives. What the transport
    reads of it is what it read of urllib3's response. httptools calls the ``on_*`` methods
    while it parses what :meth:`_feed` read off the socket."""

    def __init__(self, give_back: Callable[[str, socket.socket], None], origin: str,
                 sock: socket.socket, method: str, url: str, read: float | None) -> None:
        self._give_back, self._origin, self._url = give_back, origin, url
        self._sock: socket.socket | None = sock
        self._read_timeout = read
        self._head_only = method == "HEAD"
        self._decoder: Any = None
        self.headers = Headers([])  # filled as httptools parses them
        self._body: list[bytes] = []  # parsed body pieces not read yet
        self._buffered = 0  # their bytes
        self._got = 0  # body bytes parsed
        self._fed = 0  # bytes fed before the final head was parsed
        self._head = False  # the final answer's head is parsed
        self._done = False  # the answer is parsed to its end
        self._keep = False
        self._to_close = False  # its body ends when the server closes
        self._fault: Broken | None = None  # what broke the body, raised when it is read
        self.status = 0
        self._parser: Any = httptools.HttpResponseParser(self)
        # read as http.client reads them (and so an https:// answer), not refused: an obsolete
        # folded header line (RFC 9112 5.2), bytes outside the token grammar in a value, and a
        # line ended by a bare LF
        self._parser.set_dangerous_leniencies(lenient_headers=True,
                                              lenient_optional_cr_before_lf=True)
        try:
            while not self._head:
                self._feed()
        except (OSError, Broken, _Refused) as e:
            self._sock, self._parser = None, None
            sock.close()
            if isinstance(e, _Refused):
                raise e.error from None
            raise self._error(e) from e

    # -- what httptools calls --------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        if self._head:  # a trailer: read, not kept (as http.client and urllib3 do)
            return
        headers = self.headers
        if len(headers.pairs) >= MAX_HEADERS:
            raise Broken(f"got more than {MAX_HEADERS} headers")
        if len(name) + len(value) > MAX_LINE:
            raise Broken(f"got more than {MAX_LINE} bytes when reading header line")
        # a folded line arrives joined, its fold's spaces kept (RFC 9112 5.2: one or more SP)
        headers.add(name.decode("iso-8859-1"), value.decode("iso-8859-1").strip())

    def on_headers_complete(self) -> None:
        if self._head:
            return
        status = self._parser.get_status_code()
        if 100 <= status < 200 and status != 101:  # an interim answer: the final one follows
            self.headers = Headers([])
            return
        self.status, self._head = status, True
        self._keep = self._parser.should_keep_alive() and status != 101
        get = self.headers.get
        self._to_close = (get("content-length") is None and status not in (101, 204, 304)
                          and "chunked" not in (get("transfer-encoding") or "").lower())
        if self._head_only or status == 101:  # no body follows, whatever the head says
            self._done = True

    def on_body(self, body: bytes) -> None:
        if not self._done:
            self._body.append(body)
            self._buffered += len(body)
            self._got += len(body)

    def on_message_complete(self) -> None:
        if self._head:
            self._done = True

    def on_message_begin(self) -> None:
        if self._done:  # bytes after the answer, that nobody asked for: not used again
            self._keep = False

    def _feed(self) -> None:
        """Read what the socket has and parse it; the end of the stream ends a body that
        runs up to the close, and breaks any other."""
        assert self._sock is not None
        data = self._sock.recv(RECV)
        if not data:
            self._keep = False
            if self._to_close:
                self._done = True
                return
            if not self._head:
                raise Broken("Remote end closed connection without response")
            raise _incomplete(self._got, self._left())
        if not self._head:
            self._fed += len(data)
            if self._fed > MAX_HEAD:
                raise Broken(f"got more than {MAX_HEAD} bytes of headers")
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._done, self._keep = True, False
        except httptools.HttpParserCallbackError as e:
            raise e.__context__ or Broken(str(e)) from None
        except httptools.HttpParserError as e:
            self._keep = False
            if self._done:  # bytes after the answer: the answer stands
                return
            if self._head:  # a broken body: raised when the body is read, as a body's fault
                self._fault = Broken(str(e))
                return
            if str(e) == "Duplicate Content-Length":
                raise _Refused(urllib3_errors().InvalidHeader(
                    "Content-Length contained multiple values (refused even when they match, "
                    "as llhttp refuses them)")) from None
            raise Broken(str(e)) from None

    def _left(self) -> int | None:
        """Body bytes still expected by the Content-Length, when there is one."""
        value = self.headers.get("content-length") or ""
        return int(value) - self._got if value.isdigit() else None

    # -- the body ------------------------------------------------------------------------
    def read(self, amt: int | None = None, decode_content: bool = True) -> bytes:
        """Up to ``amt`` bytes of the body (all of it when None), decoded as its
        Content-Encoding says."""
        if "content-encoding" in self.headers:
            return bytes(self.decoded().read(amt, decode_content=decode_content))
        try:
            return self.raw(amt)
        except (OSError, Broken, _Refused) as e:
            raise self._error(e) from e

    def stream(self, amt: int, decode_content: bool = True) -> Any:
        return self.decoded().stream(amt, decode_content=decode_content)

    def decoded(self) -> Any:
        """urllib3's response over the framed body: what decodes a Content-Encoding."""
        if self._decoder is None:
            import urllib3

            self._decoder = urllib3.response.HTTPResponse(
                body=_Raw(self),  # type: ignore[arg-type]  # a file enough for what it reads
                headers=urllib3.HTTPHeaderDict(self.headers.pairs),
                status=self.status, preload_content=False, decode_content=True,
                request_url=self._url)
        return self._decoder

    def raw(self, amt: int | None = None) -> bytes:
        """Up to ``amt`` bytes of the body as it came (no decoding)."""
        while not self._done and (amt is None or self._buffered < amt):
            if self._fault is not None:
                raise self._fault
            if self._sock is None:
                raise Broken("the connection was closed")
            self._feed()
        data = b"".join(self._body)
        if amt is None or amt >= len(data):
            self._body, self._buffered = [], 0
            return data
        self._body, self._buffered = [data[amt:]], len(data) - amt
        return data[:amt]

    def _error(self, e: BaseException) -> Exception:
        """``e`` as urllib3 raises it: a timeout as ReadTimeoutError, else a ProtocolError."""
        x = urllib3_errors()
        if isinstance(e, _Refused):
            return e.error
        if isinstance(e, TimeoutError):
            return x.ReadTimeoutError(  # type: ignore[no-any-return]
                None, self._url,
                f"Read timed out. (read timeout={self._read_timeout})")
        return x.ProtocolError("Connection aborted.", e)  # type: ignore[no-any-return]

    # -- the connection ------------------------------------------------------------------
    def drain_conn(self) -> None:
        try:
            while self.raw(64 * 1024):
                pass
        except (OSError, Broken, _Refused):
            self.close()

    def release_conn(self) -> None:
        """Give the connection back when the answer was read to its end, else close it."""
        if self._sock is None:
            return
        sock, self._sock = self._sock, None
        # the parser holds this answer's on_* methods and the answer the parser: a cycle, left
        # to the cyclic collector, which a batch runs seldom (runner.batch): ~3 KB an answer
        # (llhttp's state) kept a while after its run was done with it. Nothing is parsed
        # once the connection is let go (_feed needs the socket)
        self._parser = None
        if self._done and self._keep and not self._body:
            self._give_back(self._origin, sock)
        else:
            sock.close()

    def close(self) -> None:
        self._done = True
        self._keep = False
        self.release_conn()


class _Raw:
    """The framed body as the file urllib3's ``HTTPResponse`` reads."""

    def __init__(self, answer: Answer) -> None:
        self._answer = answer
        self.closed = False

    def read(self, amt: int | None = None) -> bytes:
        data = self._answer.raw(amt)
        if not data:
            self.closed = True
        return data

    def isclosed(self) -> bool:
        return self.closed or (self._answer._done and not self._answer._body)

    def close(self) -> None:
        self.closed = True


class Headers:
    """An answer's headers as urllib3's HTTPHeaderDict reads: any case, repeats joined."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs: list[tuple[str, str]] = []
        self._map: dict[str, list[str]] = {}
        for name, value in pairs:
            self.add(name, value)

    def add(self, name: str, value: str) -> None:
        self.pairs.append((name, value))
        key = name.lower()
        values = self._map.get(key)
        if values is None:
            self._map[key] = [value]
        else:
            values.append(value)

    def get(self, name: str, default: Any = None) -> Any:
        values = self._map.get(name.lower())
        return ", ".join(values) if values else default

    def getlist(self, name: str) -> list[str]:
        return list(self._map.get(name.lower(), ()))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._map

    def items(self) -> list[tuple[str, str]]:
        return list(self.pairs)

    def itermerged(self) -> list[tuple[str, str]]:
        """Each name once, its values joined by ", " (urllib3's ``itermerged``): two Link
        headers are one value, as RFC 9110 5.3 allows."""
        first: dict[str, str] = {}
        for name, _ in self.pairs:
            first.setdefault(name.lower(), name)
        return [(name, ", ".join(self._map[key])) for key, name in first.items()]
