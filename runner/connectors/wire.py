"""HTTP/1.1 on a socket of our own, for the common case: a direct ``http://`` request.

urllib3 over http.client cost ~150 us of CPU per loopback call here; writing the request in
one piece and reading the head and a Content-Length or chunked body from a buffered socket
~40 (bench/README.md). Anything else goes through urllib3, decided before anything is sent
(:meth:`Wire.takes`): ``https://``, a proxy, a host that is not a plain name or address.
Kept as urllib3 had it: the connection as urllib3 makes it (TCP_NODELAY), and every error
raised as the urllib3 error urllib3 would raise (NewConnectionError, ConnectTimeoutError,
ReadTimeoutError, ProtocolError...), so the wording and ``sent`` stay reasons.py's; neither
urllib3 nor http.client is imported until an error, a Content-Encoding or another URL needs
it (~40 ms of a run's start); the target is percent-encoded as urllib3 encodes it,
Host and Content-Length written as urllib3 and http.client write them (``Content-Length: 0``
for a POST without a body), the method and header names checked as they check them;
keep-alive per origin (10 idle, as the PoolManager kept), an idle connection the server
closed noticed before it is used again, and given back only when its answer was read to the
end; a body in a Content-Encoding, or streamed to a file, read through urllib3's own
``HTTPResponse`` over the framed bytes, so gzip, deflate, br and zstd decode as before
(:meth:`Answer.decoded`).
"""

from __future__ import annotations

import errno
import re
import select
import socket
import threading
from collections import deque
from typing import Any

MAX_IDLE = 10  # connections kept per origin, as urllib3's PoolManager(maxsize=10)
MAX_LINE = 65536  # http.client's _MAXLINE
MAX_HEADERS = 100  # http.client's _MAXHEADERS
SMALL_BODY = 2000  # bytes: a body this small is sent with the head (as http.client does)
EXPECTS_BODY = frozenset(("POST", "PUT", "PATCH"))  # urllib3 sends Content-Length: 0 then
# a target made only of these is sent as it is (urllib3's _encode_target leaves it unchanged)
_PLAIN_TARGET = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*\Z")
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?\Z")  # a name or IPv4, an optional port
_METHOD = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")  # RFC 9110 token
_HEADER_NAME = re.compile(rb"[^:\s][^:\r\n]*\Z")  # http.client's _is_legal_header_name
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


class Wire:
    """Keep-alive connections per origin, shared by a connector's threads."""

    def __init__(self) -> None:
        self._idle: dict[str, deque[socket.socket]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def takes(url: str) -> bool:
        """Whether ``url`` is one this room sends: ``http://`` to a plain host (the caller has
        checked that no proxy is in the way)."""
        if not url.startswith("http://"):
            return False
        netloc = url[7:].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
        if not _HOST.match(netloc):
            return False
        _, _, port = netloc.partition(":")
        return not port or 0 < int(port) <= 65535  # urllib3 words any other as invalid

    def clear(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for socks in idle.values():
            for sock in socks:
                sock.close()

    def urlopen(self, method: str, url: str, body: bytes | None, headers: dict[str, str],
                connect: float | None, read: float | None) -> Answer:
        """Send one request and read the answer's head; the body is the caller's to read."""
        netloc, target = split_url(url[7:])
        if not _PLAIN_TARGET.match(target):
            from urllib3.util.url import _encode_target

            target = _encode_target(target)
        netloc = netloc.lower()
        host, _, port_text = netloc.partition(":")
        port = int(port_text) if port_text else 80
        data = _request(method, target, netloc if port != 80 else host, headers, body)
        origin = f"{host}:{port}"
        sock = self._idle_socket(origin)
        if sock is None:
            sock = _connect(host, port, connect)
        try:
            sock.settimeout(connect)
            try:
                sock.sendall(data)
                if body and len(body) >= SMALL_BODY:
                    sock.sendall(body)
            except OSError as e:  # the server may close after a valid answer: read it
                if e.errno not in (errno.EPIPE, errno.ECONNRESET):
                    raise urllib3_errors().ProtocolError("Connection aborted.", e) from e
            sock.settimeout(read)
            return Answer(self, origin, sock, method, url, read)
        except BaseException:
            sock.close()
            raise

    def _idle_socket(self, origin: str) -> socket.socket | None:
        idle = self._idle.get(origin)
        while idle:
            try:
                sock = idle.pop()
            except IndexError:  # another thread took the last one
                return None
            # readable while idle: the server closed it (or sent bytes nobody asked for)
            if sock.fileno() >= 0 and not _readable(sock):
                return sock
            sock.close()
        return None

    def give_back(self, origin: str, sock: socket.socket) -> None:
        idle = self._idle.get(origin)
        if idle is None:
            with self._lock:
                idle = self._idle.setdefault(origin, deque())
        if len(idle) < MAX_IDLE:
            idle.append(sock)
        else:
            sock.close()


def split_url(rest: str) -> tuple[str, str]:
    """A URL after its ``scheme://`` as its netloc and its request target (no fragment)."""
    end = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0),
              default=len(rest))
    netloc, target = rest[:end], rest[end:].partition("#")[0]
    if not target.startswith("/"):  # "http://h" and "http://h?x=1/y" have no "/" of their own
        target = "/" + target
    return netloc, target


def _connect(host: str, port: int, timeout: float | None) -> socket.socket:
    """A connection as urllib3's ``HTTPConnection`` makes one, failing with its errors."""
    try:
        sock = socket.create_connection((host, port), timeout)
    except OSError as e:
        import urllib3.connection

        conn = urllib3.connection.HTTPConnection(host, port, timeout=timeout)  # for the words
        x = urllib3_errors()
        if isinstance(e, socket.gaierror):
            raise x.NameResolutionError(host, conn, e) from e
        if isinstance(e, TimeoutError):
            raise x.ConnectTimeoutError(
                conn, f"Connection to {host} timed out. (connect timeout={timeout})") from e
        raise x.NewConnectionError(conn, f"Failed to establish a new connection: {e}") from e
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _readable(sock: socket.socket) -> bool:
    """Whether an idle connection has something to read: the server closed it, or wrote."""
    poll = select.poll()
    poll.register(sock, select.POLLIN)
    return bool(poll.poll(0))


def _request(method: str, target: str, host: str, headers: dict[str, str],
             body: bytes | None) -> bytes:
    """The request's bytes, as urllib3 and http.client write them."""
    if not _METHOD.match(method):
        raise ValueError(f"Method cannot contain non-token characters {method!r}")
    lower = {k.lower() for k in headers}
    lines = [f"{method} {target} HTTP/1.1"]
    if "host" not in lower:
        lines.append(f"Host: {host}")
    if "content-length" not in lower and "transfer-encoding" not in lower:
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        elif method in EXPECTS_BODY:
            lines.append("Content-Length: 0")
    for name, value in headers.items():
        if not _HEADER_NAME.match(name.encode("ascii")):
            raise ValueError(f"Invalid header name {name!r}")
        lines.append(f"{name}: {value}")
    lines.append("\r\n")
    head = "\r\n".join(lines).encode("latin-1")  # check_headers refused what Latin-1 cannot
    # a small body goes with the head in one send (http.client's rule); a large one is sent
    # after it, not copied
    return head + body if body and len(body) < SMALL_BODY else head


class Answer:
    """An answer's status and headers, and its body to read: by Content-Length, chunked, or up
    to the close. What the transport reads of it is what it read of urllib3's response."""

    def __init__(self, wire: Wire, origin: str, sock: socket.socket, method: str, url: str,
                 read: float | None) -> None:
        self._wire, self._origin, self._url = wire, origin, url
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
            self._wire.give_back(self._origin, sock)
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
