"""Real servers from PyPI on loopback for the ``use: http`` tests: httpbin (its Flask app) on a
werkzeug server in a thread. Its own small fixture, next to the transport tests' one
(tests/httpbin_server.py), so the two parts do not collide; the lead may merge them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass  # the test output is the runner's, not one line per request


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve the WSGI ``app`` on a free loopback port in a thread; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@contextmanager
def httpbin() -> Iterator[str]:
    from httpbin import app

    with serving(app) as url:
        yield url
