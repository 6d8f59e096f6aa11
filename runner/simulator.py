"""Base for the vendor simulators: a small, fast, stateful HTTP server on loopback.

A simulator subclasses :class:`Simulator`, declares its routes with :func:`route` and returns
:class:`Reply` objects. The base provides what every simulator needs:

- a threaded HTTP/1.1 server with keep-alive that answers in well under a millisecond on
  loopback: Nagle is disabled and headers and body go out in one write (``http.server``
  otherwise stalls ~40 ms a request on delayed ACK);
- a count of requests per route (``calls``), so tests can prove "exactly one create";
- fault settings (:class:`Faults`) applied before or after the route acted: latency, a share
  of 5xx, 429 with Retry-After, dropped connections, truncated or invalid bodies;
- an injectable clock, so job lifetimes can be driven by tests.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    """One request as a simulator route sees it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # named groups of the route pattern

    def json(self) -> Any:
        """The body parsed as JSON; raises ValueError when it is not JSON."""
        return json.loads(self.body.decode("utf-8"))

    def form(self) -> dict[str, str]:
        """The body parsed as application/x-www-form-urlencoded (last value wins)."""
        return {k: v[-1] for k, v in parse_qs(self.body.decode("utf-8")).items()}

    def bearer(self) -> str | None:
        value = self.headers.get("authorization", "")
        return value[7:] if value.lower().startswith("bearer ") else None


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(status: int, obj: Any, headers: dict[str, str] | None = None) -> Reply:
    body = json.dumps(obj).encode("utf-8")
    content_type = {"Content-Type": "application/json; charset=utf-8"}
    return Reply(status, body, {**content_type, **(headers or {})})


def text_reply(status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> Reply:
    return Reply(status, text.encode("utf-8"), {"Content-Type": content_type})


@dataclass
class Faults:
    """Fault settings, all off by default. Shares are probabilities in [0, 1].

    ``drop_before``: close the connection before the route acts (nothing happened server-side).
    ``drop_after``: the route acts, then the connection is closed without an answer.
    ``only``: restrict faults to routes whose name is in this set (empty = all routes).
    ``count``: apply at most this many faults (None = unlimited), so a test can say
    "the next create fails once".
    """

    latency: float = 0.0
    error_5xx: float = 0.0
    status_5xx: int = 503
    rate_limit: float = 0.0
    retry_after: int = 1
    drop_before: float = 0.0
    drop_after: float = 0.0
    truncate: float = 0.0
    invalid_body: float = 0.0
    bad_gzip: float = 0.0
    only: set[str] = field(default_factory=set)
    count: int | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def roll(self, share: float, route_name: str) -> bool:
        if share <= 0 or (self.only and route_name not in self.only):
            return False
        with self._lock:
            if self.count is not None and self.count <= 0:
                return False
            hit = self._rng.random() < share
            if hit and self.count is not None:
                self.count -= 1
            return hit


Handler = Callable[..., Reply]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    name: str
    func: Handler


def route(method: str, pattern: str, name: str | None = None) -> Callable[[Handler], Handler]:
    """Mark a simulator method as the handler of ``METHOD pattern`` (a regex on the path).

    Named groups in the pattern arrive in ``request.params``.
    """

    def mark(func: Handler) -> Handler:
        routes = getattr(func, "_routes", [])
        routes.append((method.upper(), pattern, name or func.__name__))
        func._routes = routes  # type: ignore[attr-defined]
        return func

    return mark


_S = TypeVar("_S", bound="Simulator")


class Simulator:
    """A stateful vendor simulator. Subclasses add routes and state.

    ``prefix`` is the path every route lives under (the vendor's base path), so the URL a
    connector is given looks like the vendor's own base URL.
    """

    name = "simulator"
    prefix = ""

    def __init__(self, clock: Callable[[], float] = time.monotonic, faults: Faults | None = None):
        self.clock = clock
        self.faults = faults or Faults()
        self.calls: Counter[str] = Counter()
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes = list(self._collect_routes())

    # -- routing -----------------------------------------------------------------------
    def _collect_routes(self) -> Iterable[Route]:
        for attr in dir(type(self)):
            func = getattr(type(self), attr)
            for method, pattern, name in getattr(func, "_routes", []):
                regex = re.compile("^" + re.escape(self.prefix) + pattern + "$")
                yield Route(method, regex, name, getattr(self, attr))

    def dispatch(self, req: Request) -> tuple[str, Reply]:
        allowed = False
        for r in self._routes:
            m = r.pattern.match(req.path)
            if not m:
                continue
            allowed = True
            if r.method != req.method:
                continue
            req.params = {k: v for k, v in m.groupdict().items() if v is not None}
            return r.name, r.func(req)
        if allowed:
            return "method_not_allowed", self.not_allowed(req)
        return "not_found", self.not_found(req)

    def not_found(self, req: Request) -> Reply:
        return json_reply(404, {"error": f"no route for {req.method} {req.path}"})

    def not_allowed(self, req: Request) -> Reply:
        return json_reply(405, {"error": f"method {req.method} not allowed on {req.path}"})

    # -- lifecycle ---------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The base URL a connector should be given (scheme, host, port and prefix)."""
        if self._server is None:
            raise RuntimeError(f"{self.name} simulator is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.prefix}"

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on a free loopback port in a daemon thread; return :attr:`url`."""
        handler = type("Handler", (_Handler,), {"simulator": self})
        self._server = _Server((host, port), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name=f"sim-{self.name}", daemon=True
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self: _S) -> _S:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def connector_settings(self) -> dict[str, Any]:
        """Settings a connector needs to talk to this simulator (base_url, credentials)."""
        return {"base_url": self.url}

    def secret_values(self) -> list[str]:
        """Credential values of this simulator, for redaction and leak tests."""
        return []


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


class _Handler(BaseHTTPRequestHandler):
    simulator: Simulator
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "runner-sim"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests and the demo read their own output

    def _serve(self) -> None:
        sim = self.simulator
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        req = Request(
            method=self.command,
            path=split.path,
            query={k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()},
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        faults = sim.faults
        route_name = next(
            (r.name for r in sim._routes if r.method == req.method and r.pattern.match(req.path)),
            "",
        )
        if faults.latency and faults.roll(1.0, route_name):
            time.sleep(faults.latency)
        if faults.roll(faults.drop_before, route_name):
            self._drop()
            return
        if faults.roll(faults.rate_limit, route_name):
            reply = json_reply(429, {"error": "Too Many Requests"},
                               {"Retry-After": str(faults.retry_after)})
        elif faults.roll(faults.error_5xx, route_name):
            reply = json_reply(faults.status_5xx, {"error": "Service Unavailable"})
        else:
            with sim.lock:
                sim.calls[route_name or "unrouted"] += 1
            _, reply = sim.dispatch(req)
            if faults.roll(faults.drop_after, route_name):
                self._drop()
                return
            if faults.roll(faults.truncate, route_name):
                reply = Reply(reply.status, reply.body[: max(1, len(reply.body) // 2)],
                              {**reply.headers, "X-Declared-Length": str(len(reply.body))})
                self._write(reply, declared_length=len(reply.body) * 2 + 1)
                self._drop()
                return
            if faults.roll(faults.invalid_body, route_name):
                reply = Reply(reply.status, b"\xff\xfe<<not json or xml>>", reply.headers)
            elif faults.roll(faults.bad_gzip, route_name):
                reply = Reply(reply.status, b"\x1f\x8bnot really gzip",
                              {**reply.headers, "Content-Encoding": "gzip"})
        self._write(reply)

    def _write(self, reply: Reply, declared_length: int | None = None) -> None:
        # One write for status line, headers and body: no Nagle/delayed-ACK stall.
        head = [f"HTTP/1.1 {reply.status} {self.responses.get(reply.status, ('',))[0]}"]
        length = declared_length if declared_length is not None else len(reply.body)
        headers = {**reply.headers, "Content-Length": str(length)}
        head += [f"{k}: {v}" for k, v in headers.items()]
        payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + reply.body
        self.wfile.write(payload)
        self.wfile.flush()

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def __getattr__(self, name: str) -> Any:
        # Non-standard verbs (ERA's LOOKUP) arrive as do_LOOKUP.
        if name.startswith("do_") and name[3:].isalpha() and name[3:].isupper():
            return self._serve
        raise AttributeError(name)


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=5, mtime=0)
