"""Real WSGI servers from PyPI on loopback, for the tests: ``serving(app)`` runs any WSGI app
(httpbin, an authlib OAuth2 server, wsgidav) on cheroot in a thread on a free port;
``httpbin()`` is httpbin's app served so (the service requests tests itself against), and
``webdav(root)`` wsgidav serving a folder.
Both are context managers; a test module makes them its fixtures."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cheroot import wsgi

# httpbin warns once at import that flasgger (its Swagger UI) is missing: it is not needed
logging.getLogger("httpbin.core").setLevel(logging.ERROR)
logging.getLogger("flask.app").setLevel(logging.ERROR)


@contextmanager
def serving(app: Any, threads: int = 8) -> Iterator[str]:
    """Serve the WSGI ``app`` on 127.0.0.1 and a free port; its base URL (no trailing slash)."""
    server = wsgi.Server(("127.0.0.1", 0), app, numthreads=threads)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.bind_addr[1]}"
    finally:
        server.stop()
        thread.join(timeout=10)


@contextmanager
def httpbin() -> Iterator[str]:
    from httpbin import app  # here: importing it builds the Flask app (a few hundred ms)

    with serving(app) as url:
        yield url


class Counted:
    """A WSGI app that notes each request (method and path) before ``app`` answers it: httpbin
    cannot say how often it was called, and a test of retries must know."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        with self._lock:
            self.seen.append((environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")))
        return self.app(environ, start_response)

    def count(self, method: str, path: str) -> int:
        with self._lock:
            return self.seen.count((method, path))


@contextmanager
def counted_httpbin() -> Iterator[tuple[str, Counted]]:
    """httpbin served as ``httpbin()`` serves it, behind a :class:`Counted`: (its URL, the
    counter)."""
    from httpbin import app

    counted = Counted(app)
    with serving(counted) as url:
        yield url, counted


@contextmanager
def webdav(root: Any) -> Iterator[str]:
    """wsgidav serving the folder ``root``, anonymous, read and write."""
    from wsgidav.wsgidav_app import WsgiDAVApp

    app = WsgiDAVApp({
        "provider_mapping": {"/": str(root)}, "simple_dc": {"user_mapping": {"*": True}},
        "http_authenticator": {"domain_controller": None, "accept_basic": False,
                               "accept_digest": False, "default_to_digest": False},
        "verbose": 0, "logging": {"enable": False},
    })
    with serving(app) as url:
        yield url
