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

Around the base, each in its own room: what a route is handed and returns
(:mod:`runner.simulator_messages`), the fault settings (:mod:`runner.simulator_faults`) and
the HTTP server that applies them (:mod:`runner.simulator_server`). Their names are imported
from those rooms; a connector author imports all of them from ``runner.connectors``.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from runner.simulator_faults import Faults
from runner.simulator_messages import Reply, Request, json_reply
from runner.simulator_server import RequestHandler, Server

__all__ = ["Handler", "Route", "Simulator", "route"]

Handler = Callable[..., Reply]


@dataclass(frozen=True)
class Route:
    """A simulator's route: a method and path pattern, and its handler."""
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
        self._server: Server | None = None
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

    def route_name(self, req: Request) -> str:
        """The name of the route ``req`` goes to (method and path); empty when none does."""
        return next((r.name for r in self._routes
                     if r.method == req.method and r.pattern.match(req.path)), "")

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
        handler = type("Handler", (RequestHandler,), {"simulator": self})
        self._server = Server((host, port), handler)
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

    def example_request(self) -> str:
        """A curl command line that tries this simulator with its credentials, authenticated
        as the vendor wants it; "" when there is none. ``runner sandbox``
        prints it: the credentials are made up for the session, so showing them is right."""
        return ""
