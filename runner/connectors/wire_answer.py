"""An answer read off runner's own HTTP/1.1 connection (:mod:`~runner.connectors.wire`): the
status line and headers, and the body by Content-Length, chunked, or up to the close; what the
transport reads of it is what it read of urllib3's response (``status``, ``headers``, ``read``,
``stream``, ``drain_conn``, ``release_conn``, ``close``). A fault is raised as the urllib3 error
urllib3 raises for it, so :mod:`~runner.connectors.reasons` words it; a Content-Encoding is
undone by urllib3's own ``HTTPResponse`` over the framed bytes (imported then)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

MAX_LINE = 65536  # http.client's _MAXLINE
MAX_HEADERS = 100  # http.client's _MAXHEADERS
_EMPTY = (b"\r\n", b"\n", b"")


class Broken(Exception):
    """An answer that breaks HTTP/1.1, in the words http.client has for the same fault."""


def _incomplete(partial: bytes, left: int | None = None) -> Broken:
    more = f", {left} more expected" if left is not None else ""
    return Broken(f"IncompleteRead({len(partial)} bytes read{more})")


def urllib3_errors() -> Any:
    """urllib3's exceptions module (imported when an error needs it)."""
    import urllib3.exceptions

    return urllib3.exceptions


class Answer:
    """An answer's status and headers, and its body to read: by Content-Length, chunked, or up
    to the close. What the transport reads of it is what it read of urllib3's response."""

    def __init__(self, give_back: Callable[[str, socket.socket], None], origin: str,
                 sock: socket.socket, method: str, url: str, read: float | None) -> None:
        self._give_back, self._origin, self._url = give_back, origin, url
        self._sock: socket.socket | None = sock
        self._read_timeout = read
        self._fp = sock.makefile("rb")
        self._decoder: Any = None
        try:
            while True:  # a 100 Continue is skipped, as http.client skips it
                version, self.status = self._status_line()
                pairs = self._header_lines()
                if self.status != 100:
                    break
        except (OSError, Broken) as e:
            self._fp.close()
            raise self._error(e) from e
        self.headers = Headers(pairs)
        get = self.headers.get
        connection = (get("connection") or "").lower()
        self._keep = "close" not in connection and (
            version == "HTTP/1.1" or "keep-alive" in connection)
        self._chunked = False
        self._left: int | None = None  # bytes still to read, None: up to the close or chunks
        self._chunk = 0  # bytes left of the current chunk
        if method == "HEAD" or self.status in (204, 304) or self.status < 200:
            self._left = 0
            if self.status < 200:  # the final answer follows on this connection
                self._keep = False
        elif "chunked" in (get("transfer-encoding") or "").lower():
            self._chunked = True
        else:
            lengths = self.headers.getlist("content-length")
            if len({v.strip() for v in ",".join(lengths).split(",")}) > 1:  # urllib3 refuses it
                self._fp.close()
                raise urllib3_errors().InvalidHeader(
                    f"Content-Length contained multiple unmatching values ({', '.join(lengths)})")
            try:
                self._left = int(lengths[0].split(",")[0]) if lengths else None
            except ValueError:
                self._left = None
            if self._left is not None and self._left < 0:
                self._left = None
            if self._left is None:
                self._keep = False  # the body ends when the server closes
        self._done = self._left == 0

    def _status_line(self) -> tuple[str, int]:
        line = self._fp.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise Broken(f"got more than {MAX_LINE} bytes when reading status line")
        if not line:
            raise Broken("Remote end closed connection without response")
        text = line.decode("iso-8859-1")
        version, _, rest = text.partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/") or not code.isdigit() or not 100 <= int(code) <= 999:
            raise Broken(text.strip() or repr(text))
        return version, int(code)

    def _header_lines(self) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        readline = self._fp.readline
        while True:
            line = readline(MAX_LINE + 1)
            if len(line) > MAX_LINE:
                raise Broken(f"got more than {MAX_LINE} bytes when reading header line")
            if line in _EMPTY:
                return pairs
            if len(pairs) >= MAX_HEADERS:
                raise Broken(f"got more than {MAX_HEADERS} headers")
            text = line.decode("iso-8859-1")
            if text[0] in " \t" and pairs:  # an obsolete folded line continues the last one
                name, value = pairs[-1]
                pairs[-1] = (name, f"{value} {text.strip()}")
                continue
            name, _, value = text.partition(":")
            pairs.append((name.strip(), value.strip()))

    # -- the body ------------------------------------------------------------------------
    def read(self, amt: int | None = None, decode_content: bool = True) -> bytes:
        """Up to ``amt`` bytes of the body (all of it when None), decoded as its
        Content-Encoding says."""
        if "content-encoding" in self.headers:
            return bytes(self.decoded().read(amt, decode_content=decode_content))
        try:
            return self.raw(amt)
        except (OSError, Broken) as e:
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
        if self._done:
            return b""
        if self._chunked:
            return self._chunks(amt)
        if self._left is None:  # up to the close
            data = self._fp.read(amt) if amt is not None else self._fp.read()
            if not data or amt is None:
                self._done = True
            return data
        want = self._left if amt is None else min(amt, self._left)
        data = self._fp.read(want)
        self._left -= len(data)
        if len(data) < want:
            raise _incomplete(data, self._left)
        self._done = self._left == 0
        return data

    def _chunks(self, amt: int | None) -> bytes:
        out: list[bytes] = []
        size = 0
        while amt is None or size < amt:
            if self._chunk == 0:
                line = self._fp.readline(MAX_LINE + 1)
                if len(line) > MAX_LINE:
                    raise Broken(f"got more than {MAX_LINE} bytes when reading chunk size")
                try:
                    self._chunk = int(line.split(b";", 1)[0], 16)
                except ValueError:
                    raise _incomplete(b"".join(out)) from None
                if self._chunk == 0:  # the last chunk; then trailers up to an empty line
                    while self._fp.readline(MAX_LINE + 1) not in _EMPTY:
                        pass
                    self._done = True
                    break
            want = self._chunk if amt is None else min(self._chunk, amt - size)
            data = self._fp.read(want)
            if len(data) < want:
                raise _incomplete(b"".join(out) + data)
            self._chunk -= len(data)
            if self._chunk == 0 and self._fp.read(2) != b"\r\n":
                raise _incomplete(b"".join(out) + data)
            out.append(data)
            size += len(data)
        return b"".join(out)

    def _error(self, e: BaseException) -> Exception:
        """``e`` as urllib3 raises it: a timeout as ReadTimeoutError, else a ProtocolError."""
        x = urllib3_errors()
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
        except (OSError, Broken):
            self.close()

    def release_conn(self) -> None:
        """Give the connection back when the answer was read to its end, else close it."""
        if self._sock is None:
            return
        sock, self._sock = self._sock, None
        self._fp.close()
        if self._done and self._keep:
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
        return self.closed or self._answer._done

    def close(self) -> None:
        self.closed = True


class Headers:
    """An answer's headers as urllib3's HTTPHeaderDict reads: any case, repeats joined."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs
        self._map: dict[str, list[str]] = {}
        for name, value in pairs:
            self._map.setdefault(name.lower(), []).append(value)

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
