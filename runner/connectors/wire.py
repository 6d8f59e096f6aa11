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
keep-alive per origin (10 idle, as the PoolManager kept; 32 for a batch's, below), an idle
connection the server closed noticed before it is used again, and given back only when its
answer was read to the end; a body in a Content-Encoding, or streamed to a file, read through
urllib3's own ``HTTPResponse`` over the framed bytes, so gzip, deflate, br and zstd decode as before
(:mod:`~runner.connectors.wire_answer`, the answer read off the connection, parsed by
httptools).

**A batch's runs share one** (:func:`for_transport`): a run on a hub of a batch's pool
(:mod:`runner.park`) takes its direct connections from the pool's :class:`Wire`, closed when the
pool closes at the batch's end, so 5,000 runs to one service keep about as many connections as
the batch has exchanges in flight (16 hubs), not one each: a run's socket, deque and pool were
~1.3 KB, and the service's side (the sandbox's ``ThreadingHTTPServer``) a thread per
connection. Not for the process (tried: connections outlived their runs, and an in-process
server could not shut down). What belongs to a run stays with its transport: its cookie jar,
timeouts and headers (auth is a header on every request; no scheme here is bound to a
connection, as NTLM would be). A connection holds nothing of the run that used it once its
answer was read to the end, the only time it is given back; any other is closed.
"""

from __future__ import annotations

import errno
import re
import select
import socket
import threading
from collections import deque
from typing import Any

from runner import park
from runner.connectors.wire_answer import Answer, urllib3_errors

MAX_IDLE = 10  # connections kept per origin, as urllib3's PoolManager(maxsize=10)
SHARED_IDLE = 32  # ... by a batch's shared Wire: its 16 hubs, and a loop's threads in a run
SMALL_BODY = 2000  # bytes: a body this small is sent with the head (as http.client does)
EXPECTS_BODY = frozenset(("POST", "PUT", "PATCH"))  # urllib3 sends Content-Length: 0 then
# a target made only of these is sent as it is (urllib3's _encode_target leaves it unchanged)
_PLAIN_TARGET = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*\Z")
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?\Z")  # a name or IPv4, an optional port
_METHOD = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")  # RFC 9110 token
_HEADER_NAME = re.compile(rb"[^:\s][^:\r\n]*\Z")  # http.client's _is_legal_header_name


class Wire:
    """Keep-alive connections per origin, shared by a connector's threads (or a batch's runs:
    :func:`for_transport`)."""

    def __init__(self, max_idle: int = MAX_IDLE) -> None:
        self._idle: dict[str, deque[socket.socket]] = {}
        self._lock = threading.Lock()
        self.max_idle = max_idle

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
            return Answer(self.give_back, origin, sock, method, url, read)
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
        if len(idle) < self.max_idle:
            idle.append(sock)
        else:
            sock.close()


def for_transport() -> tuple[Wire, bool]:
    """The Wire a new transport sends on, and whether it is the transport's own (to clear when
    it closes): on a batch's hub the batch's (closed with its pool), else a new one."""
    shared = park.shared("wire", _shared_wire, Wire.clear)
    return (shared, False) if shared is not None else (Wire(), True)


def _shared_wire() -> Wire:
    return Wire(SHARED_IDLE)


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
        # an ASCII name as bytes: getaddrinfo encodes a str with the idna codec, whose import
        # (encodings.idna, stringprep) is ~1 ms of every start; Wire.takes took plain names only
        name: Any = host.encode() if host.isascii() else host  # typeshed says str; C takes bytes
        sock = socket.create_connection((name, port), timeout)
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
